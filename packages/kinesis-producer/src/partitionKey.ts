import { randomUUID } from 'node:crypto';
import { KINESIS_LIMITS } from '@awskit/kinesis-aggregation';
import { PartitionKeyFieldError } from './errors.js';

/**
 * How each record gets its partition key: the same `key` for every record, the value of a `field` of each JSON
 * record (a dot path such as `user.id`; array indices are path segments, `items.0.sku`), or a random UUID per record
 * (spread over every shard).
 */
export type PartitionKeyRule =
  | { kind: 'fixed'; key: string }
  | { kind: 'field'; path: string }
  | { kind: 'random' };

function typeOf(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * The partition key at `path` (dot-separated, e.g. `user.id`) of a parsed JSON value.
 *
 * The rule: a string is the key as it is; a finite number is its JSON text (`42`, `1.5`). Anything else — a missing
 * field, `null`, a boolean, an object or an array — is an error rather than a key: keying by a whole object would put
 * two equal objects written with their fields in another order on different shards, and a missing field would
 * silently send every such record to one key. The key must be 1-256 characters (the Kinesis limit).
 *
 * @throws {PartitionKeyFieldError} code `KINESIS_PRODUCER_PARTITION_KEY_FIELD`, with `details.path` and `details.found`.
 * @example
 * partitionKeyFromField({ user: { id: 7 } }, 'user.id'); // '7'
 */
export function partitionKeyFromField(value: unknown, path: string): string {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') {
      cur = undefined;
      break;
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  let key: string;
  if (typeof cur === 'string') key = cur;
  else if (typeof cur === 'number' && Number.isFinite(cur)) key = String(cur);
  else throw new PartitionKeyFieldError(path, `is ${typeOf(cur)}, not a string or number`, typeOf(cur));
  if (key.length < 1 || key.length > KINESIS_LIMITS.maxPartitionKeyLength)
    throw new PartitionKeyFieldError(
      path,
      `gives a key of ${key.length} characters; Kinesis allows 1-${KINESIS_LIMITS.maxPartitionKeyLength}`,
      'bad length',
    );
  return key;
}

/**
 * The partition key of one record under `rule`; `value` is the parsed JSON record (read only by a `field` rule).
 *
 * @throws {PartitionKeyFieldError} when a `field` rule finds no usable key (see {@link partitionKeyFromField}).
 */
export function partitionKeyFor(value: unknown, rule: PartitionKeyRule): string {
  if (rule.kind === 'fixed') return rule.key;
  if (rule.kind === 'random') return randomUUID();
  return partitionKeyFromField(value, rule.path);
}
