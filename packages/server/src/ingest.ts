import { isAwskitError } from '@awskit/core';
import { type PartitionKeyRule, partitionKeyFor, type UserRecord } from '@awskit/kinesis-producer';
import type { Problem } from './errors.js';

/** Kinesis limits checked at the edge, so a bad record is a 400 before anything is buffered. */
const MAX_PARTITION_KEY_CHARS = 256;
const MAX_RECORD_BYTES = 1_048_576;

/** Deepest JSON nesting an event may have; deeper bodies are a 400 (they would overflow the stack later). */
export const MAX_JSON_DEPTH = 64;

/** True when `text` nests arrays/objects deeper than `max` (a linear scan that skips strings; no parsing). */
export function jsonDepthExceeds(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The records of one ingest request, or every problem found in it. */
export type ParsedRecords =
  | { ok: true; records: UserRecord[]; bytes: number }
  | { ok: false; problems: Problem[] };

/**
 * The partition key rule of a request: its `partitionKey` (fixed), its `partitionKeyField`, the server's default
 * field, or random keys. A field is read by the producer's rule (`partitionKeyFromField`: strings and numbers only).
 */
export function partitionKeySource(
  query: { partitionKey?: string; partitionKeyField?: string },
  defaultField: string | undefined,
): PartitionKeyRule {
  if (query.partitionKey !== undefined) return { kind: 'fixed', key: query.partitionKey };
  const field = query.partitionKeyField ?? defaultField;
  if (field) return { kind: 'field', path: field };
  return { kind: 'random' };
}

/**
 * Turns parsed JSON values into Kinesis user records: data is each value's JSON text (for NDJSON, the line as sent),
 * the partition key comes from `source`. Every problem is reported at once, with the record's index as path.
 */
export function toUserRecords(
  items: { value: unknown; text?: string }[],
  source: PartitionKeyRule,
): ParsedRecords {
  const problems: Problem[] = [];
  const records: UserRecord[] = [];
  let bytes = 0;
  if (source.kind === 'fixed' && (source.key.length < 1 || source.key.length > MAX_PARTITION_KEY_CHARS))
    problems.push({ path: 'partitionKey', message: `must be 1-${MAX_PARTITION_KEY_CHARS} characters` });
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let key: string;
    try {
      key = partitionKeyFor(item.value, source);
    } catch (e) {
      if (!isAwskitError(e, 'KINESIS_PRODUCER_PARTITION_KEY_FIELD') || source.kind !== 'field') throw e;
      problems.push({ path: `[${i}].${source.path}`, message: e.message });
      continue;
    }
    const data = Buffer.from(item.text ?? JSON.stringify(item.value), 'utf8');
    const size = data.byteLength + Buffer.byteLength(key, 'utf8');
    if (size > MAX_RECORD_BYTES) {
      problems.push({
        path: `[${i}]`,
        message: `record is ${size} bytes; Kinesis allows ${MAX_RECORD_BYTES}`,
      });
      continue;
    }
    bytes += size;
    records.push({ data, partitionKey: key });
  }
  return problems.length ? { ok: false, problems } : { ok: true, records, bytes };
}

/**
 * Parses an ingest body: a JSON array of events (a single JSON object counts as one event) or NDJSON (one JSON value
 * per line, blank lines ignored).
 */
export function parseBody(
  body: unknown,
  ndjson: boolean,
): { ok: true; items: { value: unknown; text?: string }[] } | { ok: false; problems: Problem[] } {
  if (ndjson) {
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
    const items: { value: unknown; text?: string }[] = [];
    const problems: Problem[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      if (jsonDepthExceeds(line)) {
        problems.push({
          path: `line ${i + 1}`,
          message: `JSON is nested deeper than ${MAX_JSON_DEPTH} levels`,
        });
        continue;
      }
      try {
        items.push({ value: JSON.parse(line), text: line });
      } catch (e) {
        problems.push({ path: `line ${i + 1}`, message: `not JSON: ${(e as Error).message}` });
      }
    }
    return problems.length ? { ok: false, problems } : { ok: true, items };
  }
  if (Array.isArray(body)) return { ok: true, items: body.map((value) => ({ value })) };
  if (body !== null && typeof body === 'object') return { ok: true, items: [{ value: body }] };
  return {
    ok: false,
    problems: [{ path: 'body', message: 'expected a JSON array of events, a JSON object, or NDJSON' }],
  };
}
