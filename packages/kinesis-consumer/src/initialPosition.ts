import { ConsumerOptionsError } from './errors.js';
import type { InitialPosition } from './types.js';

/**
 * Parses a start position as users type it (flags, environment variables, config files): `LATEST`,
 * `TRIM_HORIZON` (also `trim-horizon`; any case), or an ISO 8601 time (`2026-01-31T12:00:00Z`, a date alone is
 * midnight UTC) for AT_TIMESTAMP.
 *
 * @param path - The name of the flag or field, for the error (e.g. `--from`). @default 'initialPosition'
 * @throws {ConsumerOptionsError} code `KINESIS_CONSUMER_INVALID_OPTIONS`, naming `path` and the value.
 * @example
 * parseInitialPosition('trim-horizon'); // 'TRIM_HORIZON'
 * parseInitialPosition('2026-01-31T12:00:00Z'); // { timestamp: Date }
 */
export function parseInitialPosition(value: string, path = 'initialPosition'): InitialPosition {
  const v = value.trim();
  const upper = v.toUpperCase().replace('-', '_');
  if (upper === 'LATEST' || upper === 'TRIM_HORIZON') return upper;
  const t = new Date(v);
  // Date accepts "1" or "May 5"; an ISO date up front keeps typos from becoming a timestamp.
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(t.getTime())) return { timestamp: t };
  throw new ConsumerOptionsError([
    {
      path,
      message: `must be LATEST, TRIM_HORIZON or an ISO 8601 time (e.g. 2026-01-31T12:00:00Z), got "${value}"`,
    },
  ]);
}
