/**
 * start() on a flaky network: a transient failure of a start-up call (the SDK's own retries used up) is retried with
 * backoff, like the KCL's initialization (`maxInitializationAttempts`), instead of failing the worker. Found by the
 * chaos suite: a worker whose DynamoDB call hung during start() exited with "AbortError: Request aborted".
 * Faults are injected over HTTP by the fault proxy.
 */
import { startFaultProxy } from '@awskit/local';
import { createTestStream, localAwsEndpoint, uniqueName } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { isKinesisConsumerError, KinesisConsumer, StreamNotFoundError } from '../src/index.js';
import { appName, clients, FAST, put, text, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  for (const f of cleanups.splice(0)) await f();
});

/** A consumer that builds its own clients (as users' do) against a fault proxy failing `failures` DescribeTable calls. */
async function behindFailingDescribeTable(
  stream: string,
  failures: number,
  extra: Partial<ConstructorParameters<typeof KinesisConsumer>[0]> = {},
) {
  const proxy = await startFaultProxy({
    target: localAwsEndpoint(),
    rules: [{ kind: 'http500', service: 'dynamodb', operation: 'DescribeTable', maxTimes: failures }],
    seed: 1,
  });
  cleanups.push(() => proxy.close());
  const seen: string[] = [];
  const warnings: string[] = [];
  const w = new KinesisConsumer({
    ...FAST,
    streamName: stream,
    applicationName: appName(),
    initialPosition: 'TRIM_HORIZON',
    clientOptions: {
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      env: {},
    },
    logger: {
      debug() {},
      info() {},
      warn: (msg: string) => warnings.push(msg),
      error() {},
    },
    processor: (rs) => {
      seen.push(...rs.map(text));
    },
    ...extra,
  });
  running.push(w);
  return { proxy, w, seen, warnings };
}

describe('start() retries transient start-up failures', () => {
  it('DescribeTable answering 500 more often than the SDK retries: start() retries, then reads', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    await put(c.kinesis, stream, [{ key: 'k', data: 'hello' }]);
    // 9 failures: more than one start-up attempt's worth of SDK attempts (5 on the clients the consumer builds) for
    // whichever table's DescribeTable gets them: the lease table and the worker table are ensured side by side, and
    // of the first 9 DescribeTable calls one of the two sent at least 5, so its first call failed after all 5 attempts.
    const { proxy, w, seen, warnings } = await behindFailingDescribeTable(stream, 9);
    await w.start();
    expect(proxy.counts().http500).toBe(9);
    expect(warnings.some((m) => m.includes('start'))).toBe(true);
    await waitFor('the record is read', () => seen.includes('hello'), 15_000);
  }, 30_000);

  it('gives up after startAttempts with the last error', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const { w } = await behindFailingDescribeTable(stream, 1_000, { startAttempts: 2 });
    const e = await w.start().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(String(e)).toMatch(/DescribeTable|500|Internal/i);
  }, 30_000);

  it('stop() during the retries ends start() with a clear error and takes no lease', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const { w, warnings } = await behindFailingDescribeTable(stream, 1_000);
    const started = w.start().catch((x: unknown) => x);
    await waitFor('a start-up retry', () => warnings.length > 0, 15_000);
    await w.stop();
    const e = await started;
    expect(isKinesisConsumerError(e, 'KINESIS_CONSUMER_NOT_RUNNING')).toBe(true);
    expect(w.heldLeases()).toEqual([]);
  }, 30_000);

  it('a permanent error (unknown stream) is not retried', async () => {
    const { w, warnings } = await behindFailingDescribeTable(uniqueName('missing'), 1);
    const e = await w.start().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StreamNotFoundError);
    expect(warnings).toEqual([]);
  }, 30_000);
});
