import type { UserRecordProblem } from './errors.js';
import { parseExplicitHashKey } from './hashKey.js';
import { KINESIS_LIMITS } from './limits.js';
import type { UserRecord } from './types.js';

/** Options of {@link validateUserRecord}. */
export interface ValidateUserRecordOptions {
  /**
   * Largest allowed data + UTF-8 partition key, in bytes. Raise it only for streams configured for larger records.
   * @default 1_048_576
   */
  maxRecordBytes?: number;
}

/**
 * Checks a user record against the Kinesis limits and returns every problem at once (empty when valid).
 * Sizes are UTF-8 bytes, keys included, as Kinesis counts them.
 */
export function validateUserRecord(
  record: UserRecord,
  options: ValidateUserRecordOptions = {},
): UserRecordProblem[] {
  const maxRecordBytes = options.maxRecordBytes ?? KINESIS_LIMITS.maxRecordBytes;
  const problems: UserRecordProblem[] = [];
  const pk = record.partitionKey as unknown;
  if (typeof pk !== 'string' || pk.length === 0) {
    problems.push({ path: 'partitionKey', message: 'must be a non-empty string' });
  } else if (pk.length > KINESIS_LIMITS.maxPartitionKeyLength) {
    problems.push({
      path: 'partitionKey',
      message: `is ${pk.length} characters; the limit is ${KINESIS_LIMITS.maxPartitionKeyLength}`,
    });
  }
  if (record.explicitHashKey !== undefined) {
    if (
      typeof record.explicitHashKey !== 'string' ||
      parseExplicitHashKey(record.explicitHashKey) === undefined
    ) {
      problems.push({
        path: 'explicitHashKey',
        message: 'must be a decimal integer between 0 and 2^128-1 without leading zeros',
      });
    }
  }
  const data = record.data as unknown;
  if (!(data instanceof Uint8Array)) {
    problems.push({ path: 'data', message: 'must be a Uint8Array (or Buffer)' });
  } else if (typeof pk === 'string') {
    const size = data.byteLength + Buffer.byteLength(pk, 'utf8');
    if (size > maxRecordBytes) {
      problems.push({
        path: 'data',
        message: `data + partition key is ${size} bytes; the limit is ${maxRecordBytes}`,
      });
    }
  }
  return problems;
}
