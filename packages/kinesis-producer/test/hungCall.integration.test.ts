import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { startFaultProxy } from '@awskit/local';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';

describe('KinesisProducer and a PutRecords that never answers (issue 12 defect 4)', () => {
  it('the client it builds times out the hung call and the records are retried, not held forever', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    // The first PutRecords is swallowed by the proxy: no answer, ever.
    const proxy = await startFaultProxy({
      target: localAwsEndpoint(),
      rules: [{ kind: 'hang', service: 'kinesis', operation: 'PutRecords', maxTimes: 1 }],
      seed: 1,
    });
    const producer = new KinesisProducer({
      streamName: stream,
      clientOptions: testClientOptions({ endpoint: proxy.endpoint, requestTimeoutMs: 500 }),
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          producer.put({ partitionKey: `k${i}`, data: new TextEncoder().encode(`r${i}`) }),
        ),
      );
      expect(proxy.counts().hang).toBe(1);
      expect(results.every((r) => r.attempts === 2)).toBe(true);
    } finally {
      await producer.close();
      await proxy.close();
    }
  });
});
