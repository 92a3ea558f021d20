import { describe, expect, it } from 'vitest';
import { ConsumerOptionsError } from '../src/errors.js';
import { parseInitialPosition } from '../src/initialPosition.js';

describe('parseInitialPosition', () => {
  it('reads LATEST and TRIM_HORIZON in any case, with - or _', () => {
    expect(parseInitialPosition('LATEST')).toBe('LATEST');
    expect(parseInitialPosition(' latest ')).toBe('LATEST');
    expect(parseInitialPosition('TRIM_HORIZON')).toBe('TRIM_HORIZON');
    expect(parseInitialPosition('trim-horizon')).toBe('TRIM_HORIZON');
  });

  it('reads an ISO 8601 time as AT_TIMESTAMP', () => {
    expect(parseInitialPosition('2026-01-31T12:00:00Z')).toEqual({
      timestamp: new Date(Date.UTC(2026, 0, 31, 12)),
    });
    expect(parseInitialPosition('2026-01-31')).toEqual({ timestamp: new Date(Date.UTC(2026, 0, 31)) });
  });

  it('refuses anything else with a typed error naming the flag and the value', () => {
    for (const bad of ['yesterday', '1', 'May 5 2026', '2026-13-45', '']) {
      let err: unknown;
      try {
        parseInitialPosition(bad, '--from');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConsumerOptionsError);
      const e = err as ConsumerOptionsError;
      expect(e.code).toBe('KINESIS_CONSUMER_INVALID_OPTIONS');
      expect(e.problems).toEqual([
        {
          path: '--from',
          message: `must be LATEST, TRIM_HORIZON or an ISO 8601 time (e.g. 2026-01-31T12:00:00Z), got "${bad}"`,
        },
      ]);
    }
  });
});
