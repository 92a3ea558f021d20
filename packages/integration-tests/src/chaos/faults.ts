import { type FaultRule, startFaultProxy } from '@awskit/local';

export type { FaultKind, FaultRule } from '@awskit/local';

/**
 * The fault proxy as the chaos runs see it (a small face over `@awskit/local`'s `startFaultProxy`), and the
 * fault mixes of each run.
 */

/** What a run needs from the proxy. */
export interface ChaosProxy {
  readonly endpoint: string;
  setRules(rules: FaultRule[]): void;
  /** Faults injected so far, by kind. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

/** Starts a proxy in front of `target`; every random choice it makes comes from `seed`. */
export type StartProxy = (options: {
  target: string;
  rules: FaultRule[];
  seed: number;
}) => Promise<ChaosProxy>;

/** The real fault proxy of `@awskit/local`. */
export const startChaosProxy: StartProxy = ({ target, rules, seed }) =>
  startFaultProxy({ target, rules, seed });

/** No proxy at all (development of the runs themselves): talks to the target, injects nothing. */
export const noProxy: StartProxy = async ({ target }) => ({
  endpoint: target,
  setRules() {},
  counts: () => ({}),
  close: async () => {},
});

/**
 * The consumer run's mix: each kind at a few percent of the calls it applies to. Subscriptions are few (one per
 * shard and owner), so their stream faults get a higher probability per call to happen at all in a short run.
 */
export function consumerFaultRules(p: number): FaultRule[] {
  return [
    { kind: 'latency', probability: p, latencyMs: 300 },
    { kind: 'http500', probability: p / 2 },
    { kind: 'http503', probability: p / 2 },
    { kind: 'throttle', probability: p },
    { kind: 'resetBeforeForward', probability: p / 2 },
    { kind: 'resetAfterForward', probability: p / 2 },
    // Hangs (the connection stays silent until the client gives up) only on the readers' calls: a producer
    // PutRecords hung for its 30 s request timeout would expire records by design, which is not what we test.
    { kind: 'hang', service: 'dynamodb', probability: p / 4 },
    { kind: 'hang', service: 'dynamodb', probability: p / 8, forward: true },
    {
      kind: 'hang',
      service: 'kinesis',
      operation: ['GetRecords', 'GetShardIterator', 'ListShards'],
      probability: p / 4,
    },
    { kind: 'partialPutRecords', operation: 'PutRecords', probability: p * 3, failFraction: 0.3 },
    { kind: 'streamCut', operation: 'SubscribeToShard', probability: 0.2, afterMs: 1_500 },
    { kind: 'streamSilent', operation: 'SubscribeToShard', probability: 0.1, afterMs: 1_000 },
  ];
}

/**
 * The producer run's mix: throttling, partial failures, resets after forwarding, and the endpoint gone for
 * `outageMs` from `outageAtMs` (longer than a retry, shorter than the records' TTL).
 */
export function producerFaultRules(p: number, outageAtMs: number, outageMs: number): FaultRule[] {
  return [
    { kind: 'throttle', operation: 'PutRecords', probability: p },
    { kind: 'partialPutRecords', operation: 'PutRecords', probability: p * 2, failFraction: 0.3 },
    { kind: 'resetAfterForward', operation: 'PutRecords', probability: p },
    { kind: 'unavailable', fromMs: outageAtMs, untilMs: outageAtMs + outageMs },
  ];
}
