import { isAwskitError } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { resolveTuning } from '../src/defaults.js';
import { KinesisProducer, PRODUCER_DEFAULTS } from '../src/index.js';

describe('producer options', () => {
  it('has the KPL defaults', () => {
    expect(PRODUCER_DEFAULTS).toMatchObject({
      aggregation: true,
      aggregationMaxBytes: 51_200,
      maxBufferedTimeMs: 100,
      collectionMaxCount: 500,
      collectionMaxBytes: 5 * 1024 * 1024,
      recordTtlMs: 30_000,
      rateLimitPercent: 150,
      maxInFlightRequests: 24,
    });
  });

  it('reports every bad option at once', () => {
    let caught: unknown;
    try {
      resolveTuning({ collectionMaxCount: 501, recordTtlMs: -1, aggregation: 'yes' as unknown as boolean });
    } catch (e) {
      caught = e;
    }
    expect(isAwskitError(caught, 'KINESIS_PRODUCER_INVALID_OPTIONS')).toBe(true);
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    expect(problems.join('\n')).toMatch(/collectionMaxCount/);
    expect(problems.join('\n')).toMatch(/recordTtlMs/);
    expect(problems.join('\n')).toMatch(/aggregation/);
  });

  it('needs exactly one of streamName / streamARN', () => {
    expect(() => new KinesisProducer({} as never)).toThrow(/streamName or streamARN/);
    expect(() => new KinesisProducer({ streamName: 'a', streamARN: 'b' } as never)).toThrow(/not both/);
  });
});
