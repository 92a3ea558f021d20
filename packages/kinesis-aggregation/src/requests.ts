import { KINESIS_LIMITS } from './limits.js';

/** Limits of {@link splitIntoRequests}. */
export interface RequestLimits {
  /**
   * Most records per PutRecords request.
   * @default 500
   */
  maxRecords?: number;
  /**
   * Most billable bytes (data + UTF-8 partition keys) per PutRecords request.
   * @default 5_242_880
   */
  maxBytes?: number;
}

/**
 * Splits records, in order, into PutRecords requests that respect the per-request record count and byte limits.
 * Each item reports its billable size (`sizeBytes`, as {@link EncodedRecord} does). An item larger than `maxBytes`
 * on its own gets a request of its own (Kinesis will reject it; validate first).
 */
export function splitIntoRequests<T extends { sizeBytes: number }>(
  records: readonly T[],
  limits: RequestLimits = {},
): T[][] {
  const maxRecords = limits.maxRecords ?? KINESIS_LIMITS.maxRecordsPerRequest;
  const maxBytes = limits.maxBytes ?? KINESIS_LIMITS.maxRequestBytes;
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const r of records) {
    if (current.length > 0 && (current.length >= maxRecords || bytes + r.sizeBytes > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.sizeBytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
