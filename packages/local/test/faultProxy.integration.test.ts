import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeLimitsCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type ClientOptions, createClient } from '@awskit/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultKind, type FaultProxy, type FaultRule, startFaultProxy } from '../src/faultProxy';
import { createTestStream, localAwsEndpoint, testClientOptions, uniqueName } from '../src/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let proxy: FaultProxy;
let direct: KinesisClient;
let stream: string;
let shardId: string;

const viaProxy = (overrides: ClientOptions = {}) =>
  createClient(KinesisClient, testClientOptions({ endpoint: proxy.endpoint, maxAttempts: 1, ...overrides }));

/** Every record in the test stream's shard, as strings, read straight from the local AWS. */
async function readAll(name = stream): Promise<string[]> {
  const shards = await direct.send(new ListShardsCommand({ StreamName: name }));
  const it0 = await direct.send(
    new GetShardIteratorCommand({
      StreamName: name,
      ShardId: shards.Shards![0]!.ShardId!,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const got = await direct.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator!, Limit: 10_000 }));
  return (got.Records ?? []).map((r) => Buffer.from(r.Data!).toString());
}

/** Faults of one kind injected from now on (counts() is cumulative over the shared proxy's life). */
const injectedFromNow = (kind: FaultKind) => {
  const before = proxy.counts()[kind];
  return () => proxy.counts()[kind] - before;
};

const errorOf = async (p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  direct = await createClient(KinesisClient, testClientOptions());
  proxy = await startFaultProxy({ target: localAwsEndpoint(), seed: 1 });
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(() => proxy.setRules([]));

describe('startFaultProxy: transparent forwarding', () => {
  it('forwards every call unchanged when no rule matches, and counts calls by service:Operation', async () => {
    const kinesis = await viaProxy();
    stream = await createTestStream(kinesis);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    shardId = shards.Shards![0]!.ShardId!;
    await kinesis.send(
      new PutRecordCommand({ StreamName: stream, Data: Buffer.from('plain'), PartitionKey: 'a' }),
    );
    expect(await readAll()).toEqual(['plain']);
    expect(proxy.calls()['kinesis:CreateStream']).toBe(1);
    expect(proxy.calls()['kinesis:PutRecord']).toBe(1);
    expect(Object.values(proxy.counts()).every((n) => n === 0)).toBe(true);
    expect(Object.keys(proxy.counts()).sort()).toEqual(
      [
        'hang',
        'http500',
        'http503',
        'latency',
        'partialPutRecords',
        'resetAfterForward',
        'resetBeforeForward',
        'streamCut',
        'streamSilent',
        'throttle',
        'unavailable',
      ].sort(),
    );
  });
});

describe('startFaultProxy: concurrency', () => {
  it('serves many concurrent keep-alive calls, and maxTimes caps injections even when they race', async () => {
    const partialPutRecordsInjected = injectedFromNow('partialPutRecords');
    const name = await createTestStream(direct);
    proxy.setRules([{ kind: 'partialPutRecords', failFraction: 0.5, maxTimes: 2 }]);
    const kinesis = await viaProxy();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        kinesis.send(
          new PutRecordsCommand({
            StreamName: name,
            Records: Array.from({ length: 4 }, (_, j) => ({
              Data: Buffer.from(`c${i}-${j}`),
              PartitionKey: `k${j}`,
            })),
          }),
        ),
      ),
    );
    expect(results.map((r) => r.FailedRecordCount).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2]);
    expect(partialPutRecordsInjected()).toBe(2);
    expect((await readAll(name)).length).toBe(48 - 4);
  });
});

describe('startFaultProxy: throttle', () => {
  it('answers Kinesis PutRecord with ProvisionedThroughputExceededException; SDK retries then write once', async () => {
    const throttleInjected = injectedFromNow('throttle');
    const name = await createTestStream(direct);
    proxy.setRules([{ kind: 'throttle', service: 'kinesis', operation: 'PutRecord', maxTimes: 2 }]);
    const once = await viaProxy();
    const err = await errorOf(
      once.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('t'), PartitionKey: 'a' })),
    );
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const retrying = await viaProxy({ maxAttempts: 3 });
    const ok = await retrying.send(
      new PutRecordCommand({ StreamName: name, Data: Buffer.from('t'), PartitionKey: 'a' }),
    );
    expect(ok.SequenceNumber).toBeDefined();
    expect((ok.$metadata as { attempts?: number }).attempts).toBe(2);
    expect(throttleInjected()).toBe(2);
    expect(await readAll(name)).toEqual(['t']);
  });

  it('answers DynamoDB item calls with ProvisionedThroughputExceededException and others with ThrottlingException', async () => {
    const table = uniqueName('tbl');
    const ddbDirect = await createClient(DynamoDBClient, testClientOptions());
    await ddbDirect.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists(
      { client: ddbDirect, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 },
      { TableName: table },
    );
    const before = proxy.counts().throttle;
    proxy.setRules([{ kind: 'throttle', service: 'dynamodb', maxTimes: 2 }]);
    const ddb = await createClient(
      DynamoDBClient,
      testClientOptions({ endpoint: proxy.endpoint, maxAttempts: 1 }),
    );
    const update = () =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 'k' } },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    expect((await errorOf(update())).name).toBe('ProvisionedThroughputExceededException');
    expect((await errorOf(ddb.send(new DescribeTableCommand({ TableName: table })))).name).toBe(
      'ThrottlingException',
    );
    // Throttled calls never reached the table: the counter was added exactly once.
    const after = await update();
    expect(after.Attributes?.n?.N).toBe('1');
    expect(proxy.counts().throttle - before).toBe(2);
  });

  it('answers STS (query protocol) with an XML Throttling error the SDK retries', async () => {
    proxy.setRules([{ kind: 'throttle', service: 'sts', maxTimes: 1 }]);
    const sts1 = await createClient(
      STSClient,
      testClientOptions({ endpoint: proxy.endpoint, maxAttempts: 1 }),
    );
    const err = await errorOf(sts1.send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('Throttling');
    const sts3 = await createClient(
      STSClient,
      testClientOptions({ endpoint: proxy.endpoint, maxAttempts: 3 }),
    );
    proxy.setRules([{ kind: 'throttle', service: 'sts', maxTimes: 1 }]);
    const ok = await sts3.send(new GetCallerIdentityCommand({}));
    expect(ok.Account).toBeDefined();
    expect((ok.$metadata as { attempts?: number }).attempts).toBe(2);
    expect(proxy.calls()['sts:GetCallerIdentity']).toBeGreaterThanOrEqual(3);
  });
});

describe('startFaultProxy: server errors', () => {
  it('answers 500 InternalFailure and 503 ServiceUnavailable without forwarding; a retrying client gets through', async () => {
    const name = await createTestStream(direct);
    const kinesis = await viaProxy();
    proxy.setRules([{ kind: 'http500', operation: 'PutRecord', maxTimes: 1 }]);
    const e500 = await errorOf(
      kinesis.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('x'), PartitionKey: 'a' })),
    );
    expect(e500.$metadata?.httpStatusCode).toBe(500);
    expect(e500.name).toBe('InternalFailure');
    proxy.setRules([{ kind: 'http503', operation: 'PutRecord', maxTimes: 1 }]);
    const e503 = await errorOf(
      kinesis.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('x'), PartitionKey: 'a' })),
    );
    expect(e503.$metadata?.httpStatusCode).toBe(503);
    proxy.setRules([{ kind: 'http503', operation: 'PutRecord', maxTimes: 1 }]);
    const retrying = await viaProxy({ maxAttempts: 3 });
    await retrying.send(
      new PutRecordCommand({ StreamName: name, Data: Buffer.from('y'), PartitionKey: 'a' }),
    );
    expect(await readAll(name)).toEqual(['y']);
  });
});

describe('startFaultProxy: partialPutRecords', () => {
  it('fails some entries with ErrorCode; only the others are written, and a retry of the failed ones leaves one copy each', async () => {
    const name = await createTestStream(direct);
    const partialPutRecordsInjected = injectedFromNow('partialPutRecords');
    proxy.setRules([{ kind: 'partialPutRecords', failFraction: 0.3, maxTimes: 1 }]);
    const kinesis = await viaProxy();
    const data = Array.from({ length: 10 }, (_, i) => `r${i}`);
    const res = await kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: data.map((d) => ({ Data: Buffer.from(d), PartitionKey: d })),
      }),
    );
    const failed = res.Records!.flatMap((r, i) => (r.ErrorCode ? [i] : []));
    expect(res.FailedRecordCount).toBe(3);
    expect(failed).toHaveLength(3);
    expect(res.Records!.filter((r) => r.ErrorCode === 'ProvisionedThroughputExceededException')).toHaveLength(
      3,
    );
    expect(res.Records!.filter((r) => r.SequenceNumber)).toHaveLength(7);
    const written = data.filter((_, i) => !failed.includes(i));
    expect(await readAll(name)).toEqual(written);
    // The producer retries only the failed entries: every record ends up exactly once.
    const retry = await kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: failed.map((i) => ({ Data: Buffer.from(data[i]!), PartitionKey: data[i]! })),
      }),
    );
    expect(retry.FailedRecordCount).toBe(0);
    expect((await readAll(name)).sort()).toEqual([...data].sort());
    expect(partialPutRecordsInjected()).toBe(1);
  });
});

describe('startFaultProxy: connection resets', () => {
  it('resetAfterForward: the client sees an error, yet the record was written', async () => {
    const resetAfterForwardInjected = injectedFromNow('resetAfterForward');
    const name = await createTestStream(direct);
    proxy.setRules([{ kind: 'resetAfterForward', operation: 'PutRecord', maxTimes: 1 }]);
    const kinesis = await viaProxy();
    await errorOf(
      kinesis.send(
        new PutRecordCommand({ StreamName: name, Data: Buffer.from('did-happen'), PartitionKey: 'a' }),
      ),
    );
    expect(await readAll(name)).toEqual(['did-happen']);
    expect(resetAfterForwardInjected()).toBe(1);
  });

  it('resetBeforeForward: the client sees an error and nothing was written', async () => {
    const resetBeforeForwardInjected = injectedFromNow('resetBeforeForward');
    const name = await createTestStream(direct);
    proxy.setRules([{ kind: 'resetBeforeForward', operation: 'PutRecord', maxTimes: 1 }]);
    const kinesis = await viaProxy();
    const err = await errorOf(
      kinesis.send(new PutRecordCommand({ StreamName: name, Data: Buffer.from('never'), PartitionKey: 'a' })),
    );
    expect(String((err as { code?: string }).code ?? err.message)).toMatch(/ECONNRESET|socket hang up/);
    expect(await readAll(name)).toEqual([]);
    expect(resetBeforeForwardInjected()).toBe(1);
  });

  it('unavailable: refuses calls while active; a retrying client gets through once it ends', async () => {
    const unavailableInjected = injectedFromNow('unavailable');
    proxy.setRules([{ kind: 'unavailable', maxTimes: 2 }]);
    const once = await viaProxy();
    await errorOf(once.send(new ListStreamsCommand({})));
    const retrying = await viaProxy({ maxAttempts: 3 });
    const ok = await retrying.send(new ListStreamsCommand({}));
    expect(ok.StreamNames).toBeDefined();
    expect(unavailableInjected()).toBe(2);
  });
});

describe('startFaultProxy: latency and hang', () => {
  it('latency: delays the call, which then succeeds', async () => {
    const latencyInjected = injectedFromNow('latency');
    proxy.setRules([{ kind: 'latency', operation: 'ListStreams', latencyMs: 300, maxTimes: 1 }]);
    const kinesis = await viaProxy();
    const started = performance.now();
    await kinesis.send(new ListStreamsCommand({}));
    // A lower bound the timer guarantees, not a performance measurement.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(latencyInjected()).toBe(1);
  });

  it('hang: the answer never comes; a client with a request timeout gives up', async () => {
    const hangInjected = injectedFromNow('hang');
    proxy.setRules([{ kind: 'hang', operation: 'DescribeStreamSummary', maxTimes: 1 }]);
    const kinesis = await viaProxy({ requestTimeoutMs: 300 });
    const err = await errorOf(kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })));
    expect(err.name).toMatch(/TimeoutError/);
    expect(hangInjected()).toBe(1);
    // The proxy still serves the next call.
    const ok = await (await viaProxy()).send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    expect(ok.StreamDescriptionSummary?.StreamName).toBe(stream);
  });
});

describe('startFaultProxy: hang after forwarding', () => {
  it('hang with forward: the write happens, its answer never comes', async () => {
    const name = await createTestStream(direct);
    proxy.setRules([{ kind: 'hang', operation: 'PutRecord', forward: true, maxTimes: 1 }]);
    const kinesis = await viaProxy({ requestTimeoutMs: 500 });
    const err = await errorOf(
      kinesis.send(
        new PutRecordCommand({ StreamName: name, Data: Buffer.from('silent-write'), PartitionKey: 'a' }),
      ),
    );
    expect(err.name).toMatch(/TimeoutError/);
    // The client gave up; the forwarded write completes on its own.
    let records: string[] = [];
    for (let i = 0; i < 100 && records.length === 0; i++) {
      records = await readAll(name);
      if (records.length === 0) await sleep(50);
    }
    expect(records).toEqual(['silent-write']);
  });
});

describe('startFaultProxy: SubscribeToShard', () => {
  // One consumer per test: a subscription cut on the client side stays active in kinesis-local (as in AWS, where
  // re-subscribing within 5 s fails with ResourceInUseException).
  let streamArn: string;
  beforeAll(async () => {
    const summary = await direct.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    streamArn = summary.StreamDescriptionSummary!.StreamARN!;
  });

  const registerConsumer = async (): Promise<string> => {
    const reg = await direct.send(
      new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: uniqueName('efo') }),
    );
    const arn = reg.Consumer!.ConsumerARN!;
    for (let i = 0; i < 100; i++) {
      const d = await direct.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }));
      if (d.ConsumerDescription?.ConsumerStatus === 'ACTIVE') break;
      await sleep(50);
    }
    return arn;
  };

  const subscribe = async (kinesis: KinesisClient, signal?: AbortSignal) =>
    kinesis.send(
      new SubscribeToShardCommand({
        ConsumerARN: await registerConsumer(),
        ShardId: shardId,
        StartingPosition: { Type: 'TRIM_HORIZON' },
      }),
      signal ? { abortSignal: signal } : {},
    );

  it('streamCut: the event stream breaks after afterMs instead of running for minutes', async () => {
    const streamCutInjected = injectedFromNow('streamCut');
    proxy.setRules([{ kind: 'streamCut', afterMs: 2500, maxTimes: 1 }]);
    const kinesis = await viaProxy();
    const out = await subscribe(kinesis);
    let events = 0;
    const err = await errorOf(
      (async () => {
        for await (const e of out.EventStream!) if (e.SubscribeToShardEvent) events++;
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    expect(events).toBeGreaterThanOrEqual(1);
    expect(streamCutInjected()).toBe(1);
  });

  it('streamSilent: no event arrives after the silence, though the connection stays open', async () => {
    const streamSilentInjected = injectedFromNow('streamSilent');
    proxy.setRules([{ kind: 'streamSilent', afterMs: 2500, maxTimes: 1 }]);
    const kinesis = await viaProxy();
    const abort = new AbortController();
    const out = await subscribe(kinesis, abort.signal);
    let events = 0;
    let ended = false;
    const reading = (async () => {
      for await (const e of out.EventStream!) if (e.SubscribeToShardEvent) events++;
    })().then(
      () => {
        ended = true;
      },
      () => {
        ended = true;
      },
    );
    for (let i = 0; i < 200 && streamSilentInjected() === 0; i++) await sleep(50);
    expect(streamSilentInjected()).toBe(1);
    const atSilence = events;
    // kinesis-local sends an event about every second: wait for two of them to (not) come.
    await sleep(2200);
    expect(events).toBe(atSilence);
    expect(ended).toBe(false);
    abort.abort();
    await reading;
    expect(atSilence).toBeGreaterThanOrEqual(1);
  });
});

describe('startFaultProxy: schedules', () => {
  const failures = async (n: number) => {
    const kinesis = await viaProxy();
    const hits: number[] = [];
    for (let i = 0; i < n; i++) await kinesis.send(new ListStreamsCommand({})).catch(() => hits.push(i));
    return hits;
  };

  it('afterCalls skips the first matching calls and maxTimes stops after that many; other operations never match', async () => {
    proxy.setRules([{ kind: 'http500', operation: 'ListStreams', afterCalls: 2, maxTimes: 2 }]);
    const kinesis = await viaProxy();
    await kinesis.send(new DescribeLimitsCommand({}));
    expect(await failures(6)).toEqual([2, 3]);
  });

  it('fromMs/untilMs: a window counted from setRules', async () => {
    // Windows wide enough that a loaded machine still makes the calls meant to fall inside them.
    proxy.setRules([{ kind: 'http503', operation: 'ListStreams', untilMs: 1200 }]);
    const started = Date.now();
    expect(await failures(2)).toEqual([0, 1]);
    await sleep(1250 - (Date.now() - started));
    expect(await failures(2)).toEqual([]);
    proxy.setRules([{ kind: 'http503', operation: 'ListStreams', fromMs: 1200 }]);
    expect(await failures(1)).toEqual([]);
    await sleep(1250);
    expect(await failures(1)).toEqual([0]);
  });
});

describe('startFaultProxy: determinism', () => {
  const rules: FaultRule[] = [{ kind: 'http500', operation: 'ListStreams', probability: 0.3 }];
  const hitIndexes = async (seed: number): Promise<number[]> => {
    const p = await startFaultProxy({ target: localAwsEndpoint(), seed, rules });
    try {
      const kinesis = await createClient(
        KinesisClient,
        testClientOptions({ endpoint: p.endpoint, maxAttempts: 1 }),
      );
      const hits: number[] = [];
      for (let i = 0; i < 30; i++) await kinesis.send(new ListStreamsCommand({})).catch(() => hits.push(i));
      expect(p.counts().http500).toBe(hits.length);
      expect(p.calls()['kinesis:ListStreams']).toBe(30);
      return hits;
    } finally {
      await p.close();
    }
  };

  it('the same seed and call sequence hit the same calls; another seed hits others', async () => {
    const a = await hitIndexes(42);
    const b = await hitIndexes(42);
    const c = await hitIndexes(43);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});
