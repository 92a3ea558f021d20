import type { _Record } from '@aws-sdk/client-kinesis';
import { deaggregate, hashKeyInRange, userRecordHashKey } from '@awskit/kinesis-aggregation';
import type { ConsumerRecord, ExtendedSequenceNumber, StartingPosition } from './types.js';

/** Compares two positions: sequence numbers as big integers, then sub-sequence numbers. */
export function comparePositions(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const x = BigInt(a.sequenceNumber);
  const y = BigInt(b.sequenceNumber);
  if (x !== y) return x < y ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}

/** True when `checkpoint` is a real sequence number (not a sentinel). */
export function isSequenceNumber(checkpoint: string): boolean {
  return /^[0-9]+$/.test(checkpoint);
}

/** Result of {@link toConsumerRecords}. */
export interface ConvertedRecords {
  records: ConsumerRecord[];
  /** Records whose aggregate was malformed (delivered raw). */
  bad: { sequenceNumber: string; error: Error }[];
  /** User records dropped because their hash key is outside the shard's range. */
  droppedOutOfRange: number;
  /** User records dropped because they are at or before the resume position. */
  droppedBeforeResume: number;
}

/**
 * Deaggregates Kinesis records into user records, dropping (a) records at or before `resumeAfter` — a restart
 * reads AT_SEQUENCE_NUMBER of the checkpoint and skips what the checkpoint covers, so it resumes inside a KPL
 * aggregate (KCL `ProcessTask`) — and (b) aggregated user records whose hash key is outside `hashRange` (post-reshard
 * duplicates, KCL `AggregatorUtil`).
 */
export function toConsumerRecords(
  raw: readonly _Record[],
  shardId: string,
  opts: {
    resumeAfter?: ExtendedSequenceNumber;
    hashRange?: { StartingHashKey: string; EndingHashKey: string };
  } = {},
): ConvertedRecords {
  const out: ConvertedRecords = { records: [], bad: [], droppedOutOfRange: 0, droppedBeforeResume: 0 };
  for (const r of raw) {
    const { records, error } = deaggregate({
      data: r.Data ?? new Uint8Array(),
      partitionKey: r.PartitionKey ?? '',
      sequenceNumber: r.SequenceNumber!,
      approximateArrivalTimestamp: r.ApproximateArrivalTimestamp,
    });
    if (error) out.bad.push({ sequenceNumber: r.SequenceNumber!, error });
    for (const u of records) {
      if (opts.resumeAfter && comparePositions(u, opts.resumeAfter) <= 0) {
        out.droppedBeforeResume++;
        continue;
      }
      if (u.aggregated && opts.hashRange && !hashKeyInRange(userRecordHashKey(u), opts.hashRange)) {
        out.droppedOutOfRange++;
        continue;
      }
      const rec: ConsumerRecord = {
        data: u.data,
        partitionKey: u.partitionKey,
        sequenceNumber: u.sequenceNumber,
        subSequenceNumber: u.subSequenceNumber,
        aggregated: u.aggregated,
        shardId,
      };
      if (u.explicitHashKey !== undefined) rec.explicitHashKey = u.explicitHashKey;
      if (u.approximateArrivalTimestamp) rec.approximateArrivalTimestamp = u.approximateArrivalTimestamp;
      out.records.push(rec);
    }
  }
  return out;
}

/** How far before a recorded `LATEST` start a reader goes back (host clock vs Kinesis clock). */
export const LATEST_SKEW_MARGIN_MS = 5_000;

/**
 * Where to read again after `start` was resolved once and nothing was read yet. `LATEST` must not be resolved a
 * second time (records that arrived in between would be skipped): it becomes `AT_TIMESTAMP` of the moment it was
 * first asked for, minus the clock-skew margin (a few records from before it may come again; none is lost).
 */
export function pinnedStart(start: StartingPosition, firstRequestedAt: number): StartingPosition {
  if (start.type !== 'LATEST') return start;
  return { type: 'AT_TIMESTAMP', timestamp: new Date(firstRequestedAt - LATEST_SKEW_MARGIN_MS) };
}
