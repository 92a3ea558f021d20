import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Labels, Metrics } from '@awskit/core';
import { callDeadline } from './deadline.js';
import { ConsumerAccessDeniedError, ConsumerOptionsError, StreamNotFoundError } from './errors.js';
import type { InitialPosition, Lease, StreamConfig } from './types.js';

/**
 * Multi-stream consumers (the KCL's `MultiStreamTracker`): one worker group, one lease table, several streams.
 * Lease keys follow the KCL's multi-stream format `<accountId>:<streamName>:<creationEpoch>:<shardId>` (KCL
 * `MultiStreamLease.getLeaseKey`, `StreamIdentifier.serialize`, `docs/FAQ.md`), and lease items carry the KCL's two
 * extra attributes: `streamName` (S, the serialized stream identifier `account:stream:epoch`, named so "for legacy
 * reasons" in `DynamoDBMultiStreamLeaseSerializer`) and `shardId` (S). `parentShardId`/`childShardIds` stay plain
 * shard ids, as the KCL writes them; a parent's lease key is the child's stream identifier plus the parent's id.
 */

/** A stream as the lease table names it in multi-stream mode. */
export interface StreamIdentifier {
  accountId: string;
  streamName: string;
  /** Part of every lease key: a stream deleted and re-created under the same name gets new leases. */
  creationEpoch: number;
}

/** The KCL's `StreamIdentifier.serialize()` for a multi-stream instance: `account:stream:creationEpoch`. */
export function serializeStreamIdentifier(id: StreamIdentifier): string {
  return `${id.accountId}:${id.streamName}:${id.creationEpoch}`;
}

/** A multi-stream lease key: `account:stream:creationEpoch:shardId` (KCL `MultiStreamLease.getLeaseKey`). */
export function multiStreamLeaseKey(streamIdentifier: string | StreamIdentifier, shardId: string): string {
  const id =
    typeof streamIdentifier === 'string' ? streamIdentifier : serializeStreamIdentifier(streamIdentifier);
  return `${id}:${shardId}`;
}

// The KCL's STREAM_IDENTIFIER_PATTERN `[0-9]+:[^:]+:[0-9]+`, followed by the shard id.
const MULTI_KEY = /^([0-9]+):([^:]+):([0-9]+):(.+)$/;

/** The parts of a lease key; `streamIdentifier` and the stream fields only for multi-stream keys. */
export interface ParsedLeaseKey extends Partial<StreamIdentifier> {
  shardId: string;
  /** `account:stream:creationEpoch` (multi-stream keys only). */
  streamIdentifier?: string;
}

/** Splits a multi-stream lease key; undefined for anything else (a single-stream key is the shard id itself). */
export function parseMultiStreamLeaseKey(key: string): Required<ParsedLeaseKey> | undefined {
  const m = MULTI_KEY.exec(key);
  if (!m) return undefined;
  const [, accountId, streamName, epoch, shardId] = m as unknown as [string, string, string, string, string];
  return {
    accountId,
    streamName,
    creationEpoch: Number(epoch),
    shardId,
    streamIdentifier: `${accountId}:${streamName}:${epoch}`,
  };
}

/** The parts of any lease key: a multi-stream key split, a single-stream key as its shard id. */
export function parseLeaseKey(key: string): ParsedLeaseKey {
  return parseMultiStreamLeaseKey(key) ?? { shardId: key };
}

/** True for keys of shard leases (single- or multi-stream); other rows (KCL 3.5 metadata) are not. */
export function isShardLeaseKey(key: string): boolean {
  return /^shardId-/.test(key) || MULTI_KEY.test(key);
}

/**
 * The lease key of one of `lease`'s parents: the same stream's key for multi-stream leases (the KCL stores plain
 * shard ids in `parentShardId`), the parent's shard id otherwise.
 */
export function parentLeaseKey(lease: Lease, parentShardId: string): string {
  const m = parseMultiStreamLeaseKey(lease.leaseKey);
  return m ? multiStreamLeaseKey(m.streamIdentifier, parentShardId) : parentShardId;
}

// The KCL's STREAM_ARN_PATTERN.
const STREAM_ARN = /^arn:aws[^:]*:kinesis:([-a-z0-9]+):([0-9]{12}):stream\/(.+)$/;

/** Region, account and name of a Kinesis stream ARN; undefined when it is not one. */
export function parseStreamArn(
  arn: string,
): { region: string; accountId: string; streamName: string } | undefined {
  const m = STREAM_ARN.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, streamName: m[3]! } : undefined;
}

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/** A stream the consumer reads in multi-stream mode, resolved at start. */
export interface ConsumedStream extends StreamIdentifier {
  /** `account:stream:creationEpoch`, the prefix of its lease keys. */
  identifier: string;
  streamARN: string;
  /** How Kinesis calls name it: by ARN when configured by ARN (cross-account), else by name. */
  ref: { streamName?: string; streamARN?: string };
  /** Overrides the consumer's `initialPosition` for this stream's new leases. */
  initialPosition?: InitialPosition;
}

function specOf(s: string | StreamConfig): StreamConfig {
  if (typeof s !== 'string') return s;
  return s.startsWith('arn:') ? { streamARN: s } : { streamName: s };
}

/** Checks the `streams` option; appends problems (path, message) like the other options. */
export function validateStreams(
  streams: unknown,
  bad: (path: string, message: string) => void,
  isPosition: (p: unknown) => boolean,
): void {
  if (!Array.isArray(streams) || streams.length === 0) {
    bad('streams', 'a non-empty array of stream names, stream ARNs or { streamName | streamARN, … }');
    return;
  }
  const seen = new Set<string>();
  streams.forEach((raw, i) => {
    const path = `streams[${i}]`;
    if (typeof raw !== 'string' && (!raw || typeof raw !== 'object')) {
      bad(
        path,
        'a stream name, a stream ARN or { streamName | streamARN, creationEpoch?, initialPosition? }',
      );
      return;
    }
    const s = specOf(raw as string | StreamConfig);
    if (!!s.streamName === !!s.streamARN) {
      bad(path, 'set streamName or streamARN (exactly one)');
      return;
    }
    if (s.streamARN !== undefined && !parseStreamArn(s.streamARN))
      bad(
        path,
        `not a Kinesis stream ARN: ${s.streamARN} (arn:aws:kinesis:<region>:<account>:stream/<name>)`,
      );
    if (s.streamName !== undefined && !STREAM_NAME.test(s.streamName))
      bad(path, `not a Kinesis stream name: ${s.streamName} ([a-zA-Z0-9_.-]{1,128})`);
    if (
      s.creationEpoch !== undefined &&
      !(typeof s.creationEpoch === 'number' && Number.isSafeInteger(s.creationEpoch) && s.creationEpoch > 0)
    )
      bad(`${path}.creationEpoch`, 'a positive integer (the KCL refuses ≤ 0)');
    if (s.initialPosition !== undefined && !isPosition(s.initialPosition))
      bad(`${path}.initialPosition`, "'LATEST', 'TRIM_HORIZON' or { timestamp: Date }");
    const key = s.streamARN ?? s.streamName!;
    if (seen.has(key)) bad(path, `${key} is listed twice`);
    seen.add(key);
  });
}

/**
 * Resolves each configured stream with `DescribeStreamSummary`: its ARN, account (from the ARN) and creation epoch
 * (the stream's creation time in epoch milliseconds, as the KCL's own multi-stream test harness derives it; set
 * `creationEpoch` to match the value an existing KCL application used).
 * @throws {StreamNotFoundError} @throws {ConsumerAccessDeniedError} @throws {ConsumerOptionsError} when two entries
 * name the same stream.
 */
export async function resolveStreams(
  kinesis: KinesisClient,
  streams: readonly (string | StreamConfig)[],
): Promise<ConsumedStream[]> {
  const out = await Promise.all(
    streams.map(async (raw) => {
      const s = specOf(raw);
      const ref = s.streamARN ? { streamARN: s.streamARN } : { streamName: s.streamName };
      const label = s.streamARN ?? s.streamName!;
      let summary: { StreamARN?: string; StreamName?: string; StreamCreationTimestamp?: Date } | undefined;
      try {
        summary = (
          await kinesis.send(
            new DescribeStreamSummaryCommand(
              s.streamARN ? { StreamARN: s.streamARN } : { StreamName: s.streamName },
            ),
            callDeadline(),
          )
        ).StreamDescriptionSummary;
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name === 'ResourceNotFoundException') throw new StreamNotFoundError(label, e);
        if (name === 'AccessDeniedException')
          throw new ConsumerAccessDeniedError('kinesis:DescribeStreamSummary', label, e);
        throw e;
      }
      const streamARN = summary?.StreamARN ?? s.streamARN ?? '';
      const arn = parseStreamArn(streamARN);
      const epoch = s.creationEpoch ?? summary?.StreamCreationTimestamp?.getTime();
      if (!arn || !epoch)
        throw new ConsumerOptionsError([
          {
            path: 'streams',
            message: `DescribeStreamSummary of ${label} gave no ${arn ? 'StreamCreationTimestamp' : 'stream ARN'}; pass { ${arn ? 'creationEpoch' : 'streamARN'} } for it`,
          },
        ]);
      const id: StreamIdentifier = {
        accountId: arn.accountId,
        streamName: summary?.StreamName ?? arn.streamName,
        creationEpoch: epoch,
      };
      const c: ConsumedStream = { ...id, identifier: serializeStreamIdentifier(id), streamARN, ref };
      if (s.initialPosition !== undefined) c.initialPosition = s.initialPosition;
      return c;
    }),
  );
  const seen = new Map<string, number>();
  out.forEach((c, i) => {
    const j = seen.get(c.identifier);
    if (j !== undefined)
      throw new ConsumerOptionsError([
        { path: `streams[${i}]`, message: `names the same stream as streams[${j}] (${c.streamARN})` },
      ]);
    seen.set(c.identifier, i);
  });
  return out;
}

/**
 * Metrics whose `shard` label is `leaseKey` (unique across streams) instead of the shard id a fetcher reports:
 * per-shard stats and Prometheus series of two streams' `shardId-000000000000` stay apart.
 */
export function withShardLabel(metrics: Metrics, leaseKey: string): Metrics {
  const relabel = (labels?: Labels): Labels | undefined =>
    labels && labels.shard !== undefined ? { ...labels, shard: leaseKey } : labels;
  return {
    increment: (name, value, labels) => metrics.increment(name, value, relabel(labels)),
    gauge: (name, value, labels) => metrics.gauge(name, value, relabel(labels)),
    observe: (name, value, labels) => metrics.observe(name, value, relabel(labels)),
  };
}
