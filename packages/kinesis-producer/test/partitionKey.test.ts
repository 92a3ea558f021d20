import { isAwskitError } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { PartitionKeyFieldError } from '../src/errors.js';
import { partitionKeyFor, partitionKeyFromField } from '../src/partitionKey.js';

function errorOf(fn: () => unknown): PartitionKeyFieldError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PartitionKeyFieldError) return e;
    throw e;
  }
  throw new Error('expected a PartitionKeyFieldError');
}

describe('partitionKeyFromField', () => {
  it('takes a string field as the key, as it is', () => {
    expect(partitionKeyFromField({ id: 'user-42' }, 'id')).toBe('user-42');
    expect(partitionKeyFromField({ id: ' spaced ' }, 'id')).toBe(' spaced ');
  });

  it('takes a number field as its JSON text', () => {
    expect(partitionKeyFromField({ id: 42 }, 'id')).toBe('42');
    expect(partitionKeyFromField({ id: 1.5 }, 'id')).toBe('1.5');
    expect(partitionKeyFromField({ id: 0 }, 'id')).toBe('0');
  });

  it('follows a dot path into nested objects and arrays', () => {
    expect(partitionKeyFromField({ user: { id: 7 } }, 'user.id')).toBe('7');
    expect(partitionKeyFromField({ items: [{ sku: 'a1' }] }, 'items.0.sku')).toBe('a1');
  });

  it('refuses a missing field (also below a scalar or null) with a typed error and a hint', () => {
    for (const [value, path] of [
      [{}, 'id'],
      [{ user: 'x' }, 'user.id'],
      [{ user: null }, 'user.id'],
      ['text', 'id'],
    ] as const) {
      const e = errorOf(() => partitionKeyFromField(value, path));
      expect(e.code).toBe('KINESIS_PRODUCER_PARTITION_KEY_FIELD');
      expect(isAwskitError(e, 'KINESIS_PRODUCER_PARTITION_KEY_FIELD')).toBe(true);
      expect(e.message).toBe(`partition key field ${path} is missing, not a string or number`);
      expect(e.details).toEqual({ path, found: 'missing' });
      expect(e.hint).toMatch(/user\.id/);
    }
  });

  it('refuses a nested object or array instead of turning it into a JSON-text key', () => {
    expect(errorOf(() => partitionKeyFromField({ user: { id: 7 } }, 'user')).details).toEqual({
      path: 'user',
      found: 'an object',
    });
    expect(errorOf(() => partitionKeyFromField({ ids: [1, 2] }, 'ids')).message).toBe(
      'partition key field ids is an array, not a string or number',
    );
  });

  it('refuses null and booleans', () => {
    expect(errorOf(() => partitionKeyFromField({ id: null }, 'id')).details?.found).toBe('null');
    expect(errorOf(() => partitionKeyFromField({ id: true }, 'id')).details?.found).toBe('a boolean');
  });

  it('refuses an empty string and a key over the 256-character Kinesis limit', () => {
    expect(errorOf(() => partitionKeyFromField({ id: '' }, 'id')).message).toMatch(/0 characters/);
    expect(errorOf(() => partitionKeyFromField({ id: 'x'.repeat(257) }, 'id')).message).toMatch(
      /257 characters; Kinesis allows 1-256/,
    );
    expect(partitionKeyFromField({ id: 'x'.repeat(256) }, 'id')).toHaveLength(256);
  });
});

describe('partitionKeyFor', () => {
  it('gives the fixed key, a fresh random key per record, or the field', () => {
    expect(partitionKeyFor({ id: 1 }, { kind: 'fixed', key: 'k' })).toBe('k');
    const a = partitionKeyFor(undefined, { kind: 'random' });
    const b = partitionKeyFor(undefined, { kind: 'random' });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(partitionKeyFor({ id: 1 }, { kind: 'field', path: 'id' })).toBe('1');
  });
});
