import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeStreamConsumerCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { createTestStream, localAwsEndpoint, resetMoto, testClientOptions, uniqueName } from '../src/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local AWS edge: Kinesis through kinesis-local', () => {
  it('creates a stream, puts records and reads them back in order', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 300 }, (_, i) => ({
          Data: Buffer.from(`record-${i}-${'x'.repeat(200)}`),
          PartitionKey: `k${i % 7}`,
        })),
      }),
    );
    expect(put.FailedRecordCount).toBe(0);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const it0 = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shards.Shards![0]!.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    // 300 records of ~210 bytes: a response well over the size that breaks the SDK's HTTP/2 handler locally.
    const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator!, Limit: 1000 }));
    expect(got.Records!.map((r) => Buffer.from(r.Data!).toString().split('-x')[0])).toEqual(
      Array.from({ length: 300 }, (_, i) => `record-${i}`),
    );
  });

  it('splits a shard: the parent keeps its records, then ends with ChildShards naming both children', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const [parent] = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await kinesis.send(
      new PutRecordCommand({ StreamName: stream, Data: Buffer.from('before'), PartitionKey: 'a' }),
    );
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    let shards: Array<{ ShardId?: string; ParentShardId?: string }> = [];
    for (let i = 0; i < 100 && shards.length < 3; i++) {
      shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
      if (shards.length < 3) await sleep(50);
    }
    expect(shards).toHaveLength(3);
    const children = shards.filter((s) => s.ParentShardId === parent!.ShardId);
    expect(children).toHaveLength(2);
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: parent!.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    const seen: string[] = [];
    let childIds: string[] | undefined;
    for (let i = 0; i < 20 && iterator; i++) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      seen.push(...r.Records!.map((x) => Buffer.from(x.Data!).toString()));
      if (r.ChildShards?.length) childIds = r.ChildShards.map((c) => c.ShardId!).sort();
      iterator = r.NextShardIterator;
    }
    expect(seen).toEqual(['before']);
    expect(iterator).toBeUndefined();
    expect(childIds).toEqual(children.map((c) => c.ShardId!).sort());
  });

  it('streams SubscribeToShard events through the edge (enhanced fan-out)', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`;
    const { Consumer } = await kinesis.send(
      new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'edge-test' }),
    );
    for (let i = 0; i < 100; i++) {
      const d = await kinesis.send(
        new DescribeStreamConsumerCommand({ ConsumerARN: Consumer!.ConsumerARN! }),
      );
      if (d.ConsumerDescription?.ConsumerStatus === 'ACTIVE') break;
      await sleep(50);
    }
    await kinesis.send(
      new PutRecordCommand({ StreamName: stream, Data: Buffer.from('efo-1'), PartitionKey: 'a' }),
    );
    const [shard] = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const sub = await kinesis.send(
      new SubscribeToShardCommand({
        ConsumerARN: Consumer!.ConsumerARN!,
        ShardId: shard!.ShardId!,
        StartingPosition: { Type: 'TRIM_HORIZON' },
      }),
    );
    const received: string[] = [];
    let continuation: string | undefined;
    for await (const event of sub.EventStream!) {
      const e = event.SubscribeToShardEvent;
      if (!e) continue;
      received.push(...(e.Records ?? []).map((r) => Buffer.from(r.Data!).toString()));
      continuation = e.ContinuationSequenceNumber;
      if (received.length >= 1) break;
    }
    expect(received).toEqual(['efo-1']);
    expect(continuation).toMatch(/^\d+$/);
  });
});

describe('local AWS edge: DynamoDB through dynalite', () => {
  it('honours conditional writes (the lease-table pattern)', async () => {
    const ddb = await createClient(DynamoDBClient, testClientOptions());
    const table = uniqueName('table');
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists(
      { client: ddb, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 },
      { TableName: table },
    );
    const item = { leaseKey: { S: 'shard-0' }, leaseCounter: { N: '1' }, leaseOwner: { S: 'w1' } };
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(leaseKey)',
      }),
    );
    await expect(
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const bump = (expected: string) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { leaseKey: { S: 'shard-0' } },
          UpdateExpression: 'ADD leaseCounter :one SET leaseOwner = :w',
          ConditionExpression: 'leaseCounter = :c',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':w': { S: 'w2' }, ':c': { N: expected } },
        }),
      );
    await bump('1');
    await expect(bump('1')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});

describe('local AWS edge: IAM and STS through moto', () => {
  it('creates an access key with IAM and sees that user through STS with it', async () => {
    await resetMoto();
    const iam = await createClient(IAMClient, testClientOptions());
    const user = uniqueName('user');
    await iam.send(new CreateUserCommand({ UserName: user }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
    expect(AccessKey!.AccessKeyId).toMatch(/^AKIA/);
    const sts = await createClient(
      STSClient,
      testClientOptions({
        credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! },
      }),
    );
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:iam::123456789012:user/${user}`);
  });
});

// The aws CLI is on the project's machines and CI; a newcomer's bare Node machine may lack it, and then this one
// check cannot run there (everything else still does).
const hasAwsCli = spawnSync('aws', ['--version']).status === 0;

describe.runIf(hasAwsCli)('local AWS edge: the official aws CLI', () => {
  it('works against the edge (kinesis list-streams finds a stream we created)', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis);
    const { stdout } = await promisify(execFile)(
      'aws',
      ['--endpoint-url', localAwsEndpoint(), 'kinesis', 'list-streams', '--output', 'json'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-east-1',
        },
      },
    );
    expect(JSON.parse(stdout).StreamNames).toContain(stream);
  });
});

describe('local AWS edge: LocalStack endpoints', () => {
  it('answers /_localstack/health with every service running, and HEAD with 200', async () => {
    // moto finishes starting after READY; a request to it waits for that, so afterwards every service runs.
    const sts = await fetch(localAwsEndpoint(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(sts.status).toBe(200);
    const r = await fetch(`${localAwsEndpoint()}/_localstack/health`);
    const body = (await r.json()) as { services: Record<string, string>; version: string };
    expect(body.services).toEqual({
      kinesis: 'running',
      dynamodb: 'running',
      iam: 'running',
      sts: 'running',
      ecr: 'running',
    });
    expect(body.version).toBeTruthy();
    expect((await fetch(`${localAwsEndpoint()}/_localstack/health`, { method: 'HEAD' })).status).toBe(200);
  });

  it('rejects a request it cannot route with a clear AWS-shaped error', async () => {
    const r = await fetch(localAwsEndpoint(), { method: 'POST', body: 'hello' });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ __type: 'UnknownServiceException' });
  });
});
