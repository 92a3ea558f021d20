import { describe, expect, it } from 'vitest';
import { parseBody, partitionKeySource, toUserRecords } from '../src/ingest.js';

const text = (d: Uint8Array) => Buffer.from(d).toString('utf8');

describe('parseBody', () => {
  it('takes a JSON array as one event per element and a single object as one event', () => {
    const arr = parseBody([{ a: 1 }, { a: 2 }], false);
    expect(arr.ok && arr.items.map((i) => i.value)).toEqual([{ a: 1 }, { a: 2 }]);
    const one = parseBody({ a: 1 }, false);
    expect(one.ok && one.items).toHaveLength(1);
  });

  it('reads NDJSON line by line, keeps each line as sent and skips blank lines', () => {
    const r = parseBody('{"a":1}\n\n  {"a": 2}  \n', true);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.items.map((i) => i.text)).toEqual(['{"a":1}', '{"a": 2}']);
  });

  it('reports every NDJSON line that is not JSON, with its line number', () => {
    const r = parseBody('{"a":1}\nnope\n{"b":\n', true);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(['line 2', 'line 3']);
  });

  it('rejects a JSON body that is neither an array nor an object', () => {
    expect(parseBody(42, false).ok).toBe(false);
    expect(parseBody('text', false).ok).toBe(false);
  });
});

describe('partitionKeySource', () => {
  it('prefers a fixed key, then the request field, then the server default field, then random keys', () => {
    expect(partitionKeySource({ partitionKey: 'k', partitionKeyField: 'f' }, 'd')).toEqual({
      kind: 'fixed',
      key: 'k',
    });
    expect(partitionKeySource({ partitionKeyField: 'user.id' }, 'd')).toEqual({
      kind: 'field',
      path: 'user.id',
    });
    expect(partitionKeySource({}, 'd')).toEqual({ kind: 'field', path: 'd' });
    expect(partitionKeySource({}, undefined)).toEqual({ kind: 'random' });
  });
});

describe('toUserRecords', () => {
  it('uses a nested field as partition key and the JSON text as data', () => {
    const r = toUserRecords([{ value: { user: { id: 7 }, x: 'y' } }], {
      kind: 'field',
      path: 'user.id',
    });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.records[0]!.partitionKey).toBe('7');
      expect(JSON.parse(text(r.records[0]!.data))).toEqual({ user: { id: 7 }, x: 'y' });
      expect(r.bytes).toBe(r.records[0]!.data.byteLength + 1);
    }
  });

  it('gives each record its own random key when no key source is configured', () => {
    const r = toUserRecords([{ value: 1 }, { value: 2 }], { kind: 'random' });
    expect(r.ok && r.records[0]!.partitionKey !== r.records[1]!.partitionKey).toBe(true);
  });

  it('lists every record whose partition key field is missing, too long, or not a scalar', () => {
    const r = toUserRecords(
      [
        { value: { id: 'ok' } },
        { value: {} },
        { value: { id: { nested: true } } },
        { value: { id: 'x'.repeat(257) } },
      ],
      { kind: 'field', path: 'id' },
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.map((p) => p.path)).toEqual(['[1].id', '[2].id', '[3].id']);
      // the producer's rule (partitionKeyFromField), the same one `awskit kinesis put --key-field` uses
      expect(r.problems[1]!.message).toBe('partition key field id is an object, not a string or number');
    }
  });

  it('rejects a record over the 1 MiB Kinesis limit and an empty fixed key', () => {
    const big = toUserRecords([{ value: 'x'.repeat(1_048_577) }], { kind: 'fixed', key: 'k' });
    expect(big.ok).toBe(false);
    const empty = toUserRecords([{ value: 1 }], { kind: 'fixed', key: '' });
    expect(!empty.ok && empty.problems[0]!.path).toBe('partitionKey');
  });
});
