import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { GetUserPolicyCommand, IAMClient, ListAttachedUserPoliciesCommand } from '@aws-sdk/client-iam';
import {
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListStreamConsumersCommand,
  ListTagsForStreamCommand,
  waitUntilStreamNotExists,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { apply, EXAMPLE_DECLARATION_YAML, type LocalResourcesInput, plan } from '../src/index';

const clientOptions = () => testClientOptions();

function declaration(n: string, overrides: Partial<LocalResourcesInput> = {}): LocalResourcesInput {
  return {
    region: 'us-east-1',
    kinesis: {
      streams: [
        {
          name: `${n}-events`,
          shards: 1,
          retentionHours: 48,
          tags: { team: 'events' },
          consumers: [`${n}-efo`],
        },
      ],
    },
    dynamodb: {
      tables: [
        {
          name: `${n}-leases`,
          partitionKey: 'leaseKey',
          indexes: [{ name: 'byOwner', partitionKey: 'owner' }],
          tags: { team: 'events' },
        },
      ],
    },
    ecr: { repositories: [{ name: `${n}/app`, imageTagMutability: 'IMMUTABLE', tags: { team: 'events' } }] },
    iam: {
      policies: [
        {
          name: `${n}-producer`,
          document: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['kinesis:PutRecords'], Resource: '*' }],
          },
        },
      ],
      users: [
        {
          name: `${n}-ci`,
          policies: [`${n}-producer`],
          tags: { team: 'events' },
          inlinePolicies: {
            read: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'kinesis:Get*', Resource: '*' }],
            },
          },
        },
      ],
    },
    ...overrides,
  };
}

describe('apply + plan against the local AWS', () => {
  it('creates every declared resource, then plan shows no changes and a second apply does nothing', async () => {
    const n = uniqueName('ap');
    const decl = declaration(n);
    const before = await plan({ declaration: decl, clientOptions: clientOptions() });
    expect(before.local).toBe(true);
    expect(before.changes.map((c) => [c.kind, c.name, c.action])).toEqual([
      ['kinesis-stream', `${n}-events`, 'create'],
      ['kinesis-consumer', `${n}-events/${n}-efo`, 'create'],
      ['dynamodb-table', `${n}-leases`, 'create'],
      ['ecr-repository', `${n}/app`, 'create'],
      ['iam-policy', `${n}-producer`, 'create'],
      ['iam-user', `${n}-ci`, 'create'],
    ]);

    const result = await apply({ declaration: decl, clientOptions: clientOptions() });
    expect(result.applied).toHaveLength(6);
    expect(result.blocked).toEqual([]);

    const kinesis = await createClient(KinesisClient, clientOptions());
    const summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${n}-events` })))
      .StreamDescriptionSummary!;
    expect(summary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 1, RetentionPeriodHours: 48 });
    const tags = await kinesis.send(new ListTagsForStreamCommand({ StreamName: `${n}-events` }));
    expect(tags.Tags).toContainEqual({ Key: 'team', Value: 'events' });
    const consumers = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: summary.StreamARN }));
    expect(consumers.Consumers?.map((c) => c.ConsumerName)).toEqual([`${n}-efo`]);
    const ddb = await createClient(DynamoDBClient, clientOptions());
    const table = (await ddb.send(new DescribeTableCommand({ TableName: `${n}-leases` }))).Table!;
    expect(table.TableStatus).toBe('ACTIVE');
    expect(table.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byOwner']);
    const ecr = await createClient(ECRClient, clientOptions());
    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [`${n}/app`] })))
      .repositories![0]!;
    expect(repo.imageTagMutability).toBe('IMMUTABLE');
    const iam = await createClient(IAMClient, clientOptions());
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: `${n}-ci` }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toEqual([`${n}-producer`]);
    await expect(
      iam.send(new GetUserPolicyCommand({ UserName: `${n}-ci`, PolicyName: 'read' })),
    ).resolves.toBeDefined();

    const after = await plan({ declaration: decl, clientOptions: clientOptions() });
    expect(after.changes.map((c) => c.action)).toEqual(Array(6).fill('no-op'));
    expect(after.summary).toEqual({ create: 0, update: 0, 'no-op': 6, blocked: 0 });
    const again = await apply({ declaration: decl, clientOptions: clientOptions() });
    expect(again.applied).toEqual([]);
    expect(again.unchanged).toHaveLength(6);
  });

  it('shows drift in plan: a deleted stream and a changed shard count, and apply fixes both', async () => {
    const n = uniqueName('dr');
    const streams = (shards: number) => ({
      kinesis: {
        streams: [
          { name: `${n}-a`, shards: 1 },
          { name: `${n}-b`, shards },
        ],
      },
    });
    await apply({ declaration: streams(1), clientOptions: clientOptions() });
    const kinesis = await createClient(KinesisClient, clientOptions());
    await kinesis.send(new DeleteStreamCommand({ StreamName: `${n}-a` }));
    await waitUntilStreamNotExists(
      { client: kinesis, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { StreamName: `${n}-a` },
    );

    const drift = await plan({ declaration: streams(3), clientOptions: clientOptions() });
    expect(drift.changes).toEqual([
      { kind: 'kinesis-stream', name: `${n}-a`, action: 'create', changes: ['CreateStream (1 shard)'] },
      {
        kind: 'kinesis-stream',
        name: `${n}-b`,
        action: 'update',
        changes: ['UpdateShardCount 1 → 2 → 3 (UNIFORM_SCALING)'],
      },
    ]);
    const blocked = await plan({
      declaration: streams(3),
      clientOptions: clientOptions(),
      allowShardCountUpdate: false,
    });
    expect(blocked.changes[1]).toMatchObject({
      action: 'blocked',
      reason: expect.stringContaining('UpdateShardCount'),
    });

    await apply({ declaration: streams(3), clientOptions: clientOptions() });
    const b = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${n}-b` }));
    expect(b.StreamDescriptionSummary?.OpenShardCount).toBe(3);
    const clean = await plan({ declaration: streams(3), clientOptions: clientOptions() });
    expect(clean.changes.map((c) => c.action)).toEqual(['no-op', 'no-op']);
  });

  it('updates retention, tags and repository settings in place', async () => {
    const n = uniqueName('up');
    const decl = (retentionHours: number, tag: string, mut: 'MUTABLE' | 'IMMUTABLE') => ({
      kinesis: { streams: [{ name: `${n}-s`, retentionHours, tags: { env: tag } }] },
      ecr: { repositories: [{ name: `${n}-repo`, imageTagMutability: mut }] },
    });
    await apply({ declaration: decl(24, 'dev', 'MUTABLE'), clientOptions: clientOptions() });
    const p = await plan({ declaration: decl(72, 'test', 'IMMUTABLE'), clientOptions: clientOptions() });
    expect(p.changes).toEqual([
      {
        kind: 'kinesis-stream',
        name: `${n}-s`,
        action: 'update',
        changes: ['retention 24 → 72 hours', 'tags env'],
      },
      {
        kind: 'ecr-repository',
        name: `${n}-repo`,
        action: 'update',
        changes: ['imageTagMutability MUTABLE → IMMUTABLE'],
      },
    ]);
    await apply({ declaration: decl(72, 'test', 'IMMUTABLE'), clientOptions: clientOptions() });
    const again = await plan({ declaration: decl(72, 'test', 'IMMUTABLE'), clientOptions: clientOptions() });
    expect(again.summary['no-op']).toBe(2);
  });

  it('blocks a DynamoDB key schema change instead of touching the table', async () => {
    const n = uniqueName('ks');
    await apply({
      declaration: { dynamodb: { tables: [{ name: `${n}-t`, partitionKey: 'id' }] } },
      clientOptions: clientOptions(),
    });
    const changed = { dynamodb: { tables: [{ name: `${n}-t`, partitionKey: 'pk:N' }] } };
    const result = await apply({ declaration: changed, clientOptions: clientOptions() });
    expect(result.applied).toEqual([]);
    expect(result.blocked).toEqual([
      expect.objectContaining({
        kind: 'dynamodb-table',
        reason: expect.stringContaining('key schema differs'),
      }),
    ]);
  });

  it('applies the shipped example (YAML text) idempotently: my-event-dev, 1 shard, ap-northeast-2', async () => {
    // What the project README's main job does. The region comes from the declaration, not the client options.
    const { region: _ignored, ...opts } = clientOptions();
    const first = await apply({ declaration: EXAMPLE_DECLARATION_YAML, clientOptions: opts });
    expect(first.plan.region).toBe('ap-northeast-2');
    const kinesis = await createClient(KinesisClient, { ...opts, region: 'ap-northeast-2' });
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'my-event-dev' }));
    expect(s.StreamDescriptionSummary).toMatchObject({ StreamStatus: 'ACTIVE', OpenShardCount: 1 });
    expect(s.StreamDescriptionSummary?.StreamARN).toContain(':ap-northeast-2:');
    const second = await apply({ declaration: EXAMPLE_DECLARATION_YAML, clientOptions: opts });
    expect(second.applied).toEqual([]);
    expect(second.unchanged.map((c) => c.name)).toEqual(['my-event-dev']);
  });

  it('refuses a non-local endpoint without allowNonLocal, before any AWS call', async () => {
    await expect(
      apply({
        declaration: { kinesis: { streams: [{ name: 'prod-stream' }] } },
        clientOptions: {
          endpoint: 'https://kinesis.ap-northeast-2.amazonaws.com',
          env: {},
          credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        },
      }),
    ).rejects.toMatchObject({ code: 'NON_LOCAL_ENDPOINT', hint: expect.stringContaining('--yes') });
  });

  it('reports every failing resource by name and still applies the others', async () => {
    const n = uniqueName('fl');
    // IAM rejects a policy whose Effect is neither Allow nor Deny (MalformedPolicyDocument); the table is still created.
    const err = await apply({
      declaration: {
        iam: {
          policies: [
            {
              name: `${n}-bad`,
              document: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Maybe', Action: 'x:Y', Resource: '*' }],
              },
            },
          ],
          users: [{ name: `${n}-u`, policies: [`${n}-bad`] }],
        },
        dynamodb: { tables: [{ name: `${n}-ok`, partitionKey: 'id' }] },
      },
      clientOptions: clientOptions(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'APPLY_FAILED',
      message: expect.stringContaining(`iam-policy ${n}-bad`),
      skipped: [{ kind: 'iam-user', name: `${n}-u` }],
      applied: [expect.objectContaining({ kind: 'dynamodb-table', name: `${n}-ok` })],
    });
    const ddb = await createClient(DynamoDBClient, clientOptions());
    const t = await ddb.send(new DescribeTableCommand({ TableName: `${n}-ok` }));
    expect(t.Table?.TableStatus).toBe('ACTIVE');
  });
});
