import { isAwskitError } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../src/faultProxy';
import { pickFailed, splicePutRecordsResult, throttleCode } from '../src/faultResponses';
import { mulberry32, parseFaultConfig, validateFaultRules } from '../src/faultRules';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    expect(isAwskitError(e, 'INVALID_FAULT_RULES')).toBe(true);
    return (e as { details: { problems: string[] } }).details.problems;
  }
  throw new Error('expected a validation error');
};

describe('parseFaultConfig', () => {
  it('accepts a valid file and returns it typed', () => {
    const config = parseFaultConfig({
      seed: 7,
      rules: [
        { kind: 'throttle', service: 'kinesis', operation: ['PutRecords', 'PutRecord'], probability: 0.1 },
        { kind: 'unavailable', fromMs: 1000, untilMs: 4000 },
        { kind: 'latency', latencyMs: 50, probability: 1 },
        { kind: 'partialPutRecords', failFraction: 0.2, afterCalls: 3 },
      ],
    });
    expect(config.seed).toBe(7);
    expect(config.rules).toHaveLength(4);
  });

  it('lists every bad field at once, with its path', () => {
    const problems = problemsOf(() =>
      parseFaultConfig({
        seed: -1,
        extra: true,
        rules: [
          { kind: 'explode', probability: 0.5 },
          { kind: 'throttle', probability: 2, service: 's3' },
          { kind: 'latency', probability: 1 },
          { kind: 'http500' },
          { kind: 'http503', probabilty: 0.5 },
          { kind: 'hang', failFraction: 0.5, maxTimes: 1 },
          { kind: 'unavailable', fromMs: 500, untilMs: 100 },
          { kind: 'partialPutRecords', operation: 'PutRecord', probability: 1 },
          { kind: 'streamCut', service: 'dynamodb', probability: 1 },
          'nope',
        ],
      }),
    );
    const expected = [
      /^extra is not a fault config field/,
      /^seed must be an integer/,
      /^rules\[0\]\.kind must be one of latency, http500/,
      /^rules\[1\]\.probability must be a number from 0 to 1, got 2/,
      /^rules\[1\]\.service must be one of kinesis, dynamodb/,
      /^rules\[2\]\.latencyMs is required/,
      /^rules\[3\]\.probability is required when no schedule/,
      /^rules\[4\]\.probabilty is not a rule field \(did you mean "probability"\?\)/,
      /^rules\[4\]\.probability is required/,
      /^rules\[5\]\.failFraction does not apply to kind "hang"/,
      /^rules\[6\]\.untilMs \(100\) must be after fromMs \(500\)/,
      /^rules\[7\]\.operation must include PutRecords/,
      /^rules\[8\]\.service must be "kinesis"/,
      /^rules\[9\] must be an object/,
    ];
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        `${re}`,
      ).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('puts every problem in the message too', () => {
    try {
      parseFaultConfig({ rules: [{ kind: 'http500' }, { kind: 'nope', probability: 1 }] });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('2 problems');
      expect((e as Error).message).toContain('rules[0].probability is required');
      expect((e as Error).message).toContain('rules[1].kind must be one of');
      expect((e as { hint?: string }).hint).toMatch(/Fault injection/);
    }
  });

  it('rejects a file that is not an object with rules', () => {
    expect(problemsOf(() => parseFaultConfig([]))[0]).toMatch(/must hold an object/);
    expect(problemsOf(() => parseFaultConfig({ seed: 1 }))[0]).toMatch(/^rules must be a list/);
  });
});

describe('startFaultProxy option checks', () => {
  it('rejects bad rules before listening', async () => {
    await expect(
      startFaultProxy({ target: 'http://127.0.0.1:1', rules: [{ kind: 'hang' } as never] }),
    ).rejects.toMatchObject({ code: 'INVALID_FAULT_RULES' });
  });

  it('rejects a bad target, seed and port together', async () => {
    const err = await startFaultProxy({ target: 'localhost:4566', seed: 1.5, port: 70000 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LOCAL_INVALID_OPTIONS' });
    expect((err as { details: { problems: string[] } }).details.problems).toHaveLength(3);
  });

  it('setRules validates too, and keeps the old rules on failure', async () => {
    const p = await startFaultProxy({ target: 'http://127.0.0.1:1', seed: 5 });
    try {
      expect(p.seed).toBe(5);
      expect(() => p.setRules([{ kind: 'latency', probability: 1 }])).toThrow(/latencyMs is required/);
    } finally {
      await p.close();
    }
  });
});

describe('fault helpers', () => {
  it('mulberry32 repeats its sequence for a seed and differs across seeds', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const c = mulberry32(2);
    const sa = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(sa);
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('pickFailed picks round(fraction × n) distinct entries, at least one, at most all', () => {
    expect(pickFailed(10, 0.3, mulberry32(1)).size).toBe(3);
    expect(pickFailed(10, 0.01, mulberry32(1)).size).toBe(1);
    expect(pickFailed(3, 1, mulberry32(1))).toEqual(new Set([0, 1, 2]));
    expect([...pickFailed(500, 0.5, mulberry32(9))].every((i) => i >= 0 && i < 500)).toBe(true);
  });

  it('splicePutRecordsResult puts failed entries back at their positions and adds them to FailedRecordCount', () => {
    const upstream = {
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '1', ShardId: 's' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'x' },
      ],
      EncryptionType: 'NONE',
    };
    const out = splicePutRecordsResult(
      upstream,
      4,
      new Set([0, 2]),
      'ProvisionedThroughputExceededException',
      'st',
    );
    expect(out.FailedRecordCount).toBe(3);
    expect(
      (out.Records as Array<{ ErrorCode?: string; SequenceNumber?: string }>).map(
        (r) => r.ErrorCode ?? r.SequenceNumber,
      ),
    ).toEqual([
      'ProvisionedThroughputExceededException',
      '1',
      'ProvisionedThroughputExceededException',
      'InternalFailure',
    ]);
  });

  it('throttleCode uses the code AWS sends for each service and call', () => {
    expect(throttleCode('kinesis', 'PutRecords')).toBe('ProvisionedThroughputExceededException');
    expect(throttleCode('kinesis', 'ListShards')).toBe('LimitExceededException');
    expect(throttleCode('dynamodb', 'UpdateItem')).toBe('ProvisionedThroughputExceededException');
    expect(throttleCode('dynamodb', 'DescribeTable')).toBe('ThrottlingException');
    expect(throttleCode('iam', 'CreateAccessKey')).toBe('Throttling');
    expect(throttleCode('ecr', 'GetAuthorizationToken')).toBe('ThrottlingException');
  });

  it('validateFaultRules returns valid rules unchanged', () => {
    const rules = [{ kind: 'resetAfterForward' as const, maxTimes: 2 }];
    expect(validateFaultRules(rules)).toBe(rules);
  });
});
