import type { ConsumerRecord, ExtendedSequenceNumber } from '@awskit/kinesis-consumer';

/**
 * Messages of the KCL MultiLang protocol, with the field names and the null-inclusion of the Java daemon's
 * Jackson output (`ML/messages/*.java`): every key is present, `null` where there is no value.
 */
export type DaemonMessage = ActionMessage | CheckpointResponse;

/** A daemon→child message that the child answers with a `status`. */
export type ActionMessage =
  | { action: 'initialize'; shardId: string; sequenceNumber: string | null; subSequenceNumber: number | null }
  | { action: 'processRecords'; records: KclRecord[]; millisBehindLatest: number | null }
  | { action: 'leaseLost' }
  | { action: 'shardEnded' }
  | { action: 'shutdownRequested' };

/** The daemon's answer to a checkpoint request: echoes the request, `error` is the Java exception's simple name. */
export interface CheckpointResponse {
  action: 'checkpoint';
  sequenceNumber: string | null;
  subSequenceNumber: number | null;
  error: string | null;
}

/** A record as `JsonFriendlyRecord` writes it (`approximateArrivalTimestamp` in epoch ms, `action: "record"`). */
export interface KclRecord {
  data: string;
  partitionKey: string;
  sequenceNumber: string;
  approximateArrivalTimestamp: number;
  subSequenceNumber: number;
  action: 'record';
}

/** The actions the daemon waits a `status` for. */
export type KclAction = 'initialize' | 'processRecords' | 'leaseLost' | 'shardEnded' | 'shutdownRequested';

/** A message from the child: a `status` (action done) or a `checkpoint` request. */
export type ChildMessage =
  | { action: 'status'; responseFor?: string }
  | { action: 'checkpoint'; sequenceNumber?: unknown; subSequenceNumber?: unknown };

/** The Java exception simple names a checkpoint response carries (`ShardRecordProcessorCheckpointer`). */
export const CheckpointErrorName = {
  InvalidState: 'InvalidStateException',
  Shutdown: 'ShutdownException',
  Throttling: 'ThrottlingException',
  Dependency: 'KinesisClientLibDependencyException',
  IllegalArgument: 'IllegalArgumentException',
} as const;
/** Union of {@link CheckpointErrorName} values. */
export type CheckpointErrorName = (typeof CheckpointErrorName)[keyof typeof CheckpointErrorName];

/** The `initialize` message for a lease's checkpoint (a sequence number or a sentinel with sub-sequence 0). */
export function initializeMessage(
  shardId: string,
  checkpoint: ExtendedSequenceNumber | undefined,
): ActionMessage {
  return {
    action: 'initialize',
    shardId,
    sequenceNumber: checkpoint?.sequenceNumber ?? null,
    subSequenceNumber: checkpoint ? checkpoint.subSequenceNumber : null,
  };
}

/** A consumer record in the wire shape (standard base64 with padding, epoch-ms arrival time). */
export function toKclRecord(r: ConsumerRecord): KclRecord {
  return {
    data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('base64'),
    partitionKey: r.partitionKey,
    sequenceNumber: r.sequenceNumber,
    // Never null: the Python client requires a number. Kinesis always sets it; 0 only if a record lacks it.
    approximateArrivalTimestamp: r.approximateArrivalTimestamp?.getTime() ?? 0,
    subSequenceNumber: r.subSequenceNumber,
    action: 'record',
  };
}

/** The `processRecords` message of a batch. */
export function processRecordsMessage(records: ConsumerRecord[], millisBehindLatest?: number): ActionMessage {
  return {
    action: 'processRecords',
    records: records.map(toKclRecord),
    millisBehindLatest: millisBehindLatest ?? null,
  };
}

/**
 * Parses one line of a child's stdout. Empty lines are skipped silently; anything that is not a `status` or
 * `checkpoint` object comes back as `{ skipped }` (the Java daemon logs and ignores such lines).
 */
export function parseChildLine(line: string): { message: ChildMessage } | { skipped: string } | undefined {
  if (line === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { skipped: 'not JSON' };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { skipped: 'not a JSON object' };
  const action = (v as { action?: unknown }).action;
  if (action === 'status' || action === 'checkpoint') return { message: v as ChildMessage };
  return { skipped: `unexpected action ${JSON.stringify(action)}` };
}
