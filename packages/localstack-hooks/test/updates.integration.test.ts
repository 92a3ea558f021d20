import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { shardCountSteps } from '../src/apply/kinesis';
import { apply, type DynamoIndexInput, type LocalResourcesInput, plan } from '../src/index';

describe('shardCountSteps', () => {
  it('never more than doubles or halves in one UpdateShardCount call', () => {
    expect(shardCountSteps(1, 3)).toEqual([2, 3]);
    expect(shardCountSteps(1, 8)).toEqual([2, 4, 8]);
    expect(shardCountSteps(10, 2)).toEqual([5, 3, 2]);
    expect(shardCountSteps(4, 4)).toEqual([]);
    // Regression: a CREATING stream reports 0 open shards; 0 → n must not loop forever.
    expect(() => shardCountSteps(0, 2)).toThrow(RangeError);
  });
});

describe('in-place updates against the local AWS', () => {
  it('plans a stream that is still CREATING once it settled (no bogus 0 → n reshard)', async () => {
    const n = uniqueName('cr');
    const kinesis = await createClient(KinesisClient, testClientOptions());
    await kinesis.send(new CreateStreamCommand({ StreamName: n, ShardCount: 2 }));
    const p = await plan({
      declaration: { kinesis: { streams: [{ name: n, shards: 2 }] } },
      clientOptions: testClientOptions(),
    });
    expect(p.changes).toEqual([{ kind: 'kinesis-stream', name: n, action: 'no-op', changes: [] }]);
  });

  it('switches a stream between on-demand and provisioned, then sets the declared shard count', async () => {
    const n = uniqueName('md');
    const decl = (mode: 'on-demand' | 'provisioned') => ({
      kinesis: { streams: [mode === 'on-demand' ? { name: n, mode } : { name: n, mode, shards: 2 }] },
    });
    await apply({ declaration: decl('on-demand'), clientOptions: testClientOptions() });
    expect(
      (await plan({ declaration: decl('on-demand'), clientOptions: testClientOptions() })).summary['no-op'],
    ).toBe(1);
    const p = await plan({ declaration: decl('provisioned'), clientOptions: testClientOptions() });
    expect(p.changes[0]).toMatchObject({ action: 'update' });
    expect(p.changes[0]!.changes[0]).toBe('UpdateStreamMode ON_DEMAND → PROVISIONED');
    await apply({ declaration: decl('provisioned'), clientOptions: testClientOptions() });
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const s = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: n })))
      .StreamDescriptionSummary;
    expect(s).toMatchObject({ StreamModeDetails: { StreamMode: 'PROVISIONED' }, OpenShardCount: 2 });
    expect(
      (await plan({ declaration: decl('provisioned'), clientOptions: testClientOptions() })).summary['no-op'],
    ).toBe(1);
  });

  it('switches a table with an index from on-demand to provisioned (index throughput included)', async () => {
    const n = uniqueName('bl');
    const t = (extra: object) => ({
      dynamodb: {
        tables: [
          { name: n, partitionKey: 'id', indexes: [{ name: 'byOwner', partitionKey: 'owner' }], ...extra },
        ],
      },
    });
    await apply({ declaration: t({}), clientOptions: testClientOptions() });
    const provisioned = t({ billing: 'provisioned', readCapacity: 2, writeCapacity: 3 });
    const p = await plan({ declaration: provisioned, clientOptions: testClientOptions() });
    expect(p.changes).toEqual([
      {
        kind: 'dynamodb-table',
        name: n,
        action: 'update',
        changes: ['billing PAY_PER_REQUEST → PROVISIONED'],
      },
    ]);
    await apply({ declaration: provisioned, clientOptions: testClientOptions() });
    const ddb = await createClient(DynamoDBClient, testClientOptions());
    const table = (await ddb.send(new DescribeTableCommand({ TableName: n }))).Table!;
    expect(table.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 2, WriteCapacityUnits: 3 });
    expect(table.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toMatchObject({
      ReadCapacityUnits: 2,
      WriteCapacityUnits: 3,
    });
    expect(
      (await plan({ declaration: provisioned, clientOptions: testClientOptions() })).summary['no-op'],
    ).toBe(1);
  });

  it('adds a missing index, or says clearly that the emulator cannot (never passes silently)', async () => {
    const n = uniqueName('gs');
    const t = (indexes: DynamoIndexInput[]): LocalResourcesInput => ({
      dynamodb: {
        tables: [
          { name: n, partitionKey: 'id', billing: 'provisioned', readCapacity: 1, writeCapacity: 1, indexes },
        ],
      },
    });
    await apply({ declaration: t([]), clientOptions: testClientOptions() });
    const withIndex = t([{ name: 'byOwner', partitionKey: 'owner' }]);
    expect(
      (await plan({ declaration: withIndex, clientOptions: testClientOptions() })).changes[0],
    ).toMatchObject({
      action: 'update',
      changes: ['create index byOwner'],
    });
    const err = await apply({ declaration: withIndex, clientOptions: testClientOptions() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ddb = await createClient(DynamoDBClient, testClientOptions());
    const table = (await ddb.send(new DescribeTableCommand({ TableName: n }))).Table!;
    if (table.GlobalSecondaryIndexes?.some((g) => g.IndexName === 'byOwner')) expect(err).toBeUndefined();
    // dynalite (the awskit local AWS) accepts UpdateTable but ignores index creation.
    else expect((err as Error).message).toContain(`did not create index byOwner on ${n}`);
  });

  it('updates policy documents (new default version) and changed inline policies', async () => {
    const n = uniqueName('pv');
    const doc = (action: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
    });
    const d = (a: string) => ({
      iam: {
        policies: [{ name: `${n}-p`, document: doc(a) }],
        users: [{ name: `${n}-u`, policies: [`${n}-p`], inlinePolicies: { x: doc(a) } }],
      },
    });
    await apply({ declaration: d('kinesis:Get*'), clientOptions: testClientOptions() });
    expect(
      (await plan({ declaration: d('kinesis:Get*'), clientOptions: testClientOptions() })).summary['no-op'],
    ).toBe(2);
    expect(
      (await plan({ declaration: d('kinesis:Put*'), clientOptions: testClientOptions() })).changes,
    ).toEqual([
      {
        kind: 'iam-policy',
        name: `${n}-p`,
        action: 'update',
        changes: ['CreatePolicyVersion (set as default)'],
      },
      { kind: 'iam-user', name: `${n}-u`, action: 'update', changes: ['PutUserPolicy x'] },
    ]);
    await apply({ declaration: d('kinesis:Put*'), clientOptions: testClientOptions() });
    expect(
      (await plan({ declaration: d('kinesis:Put*'), clientOptions: testClientOptions() })).summary['no-op'],
    ).toBe(2);
  });
});
