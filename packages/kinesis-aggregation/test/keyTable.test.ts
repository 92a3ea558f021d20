import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable, lastHash, utf8LengthAndHash } from '../src/keyTable.js';

describe('utf8LengthAndHash', () => {
  it('counts UTF-8 bytes exactly as Buffer does, lone surrogates included', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string()),
        (s) => {
          expect(utf8LengthAndHash(s)).toBe(Buffer.byteLength(s, 'utf8'));
        },
      ),
      { numRuns: 2000 },
    );
    expect(utf8LengthAndHash('\ud800')).toBe(3);
    expect(utf8LengthAndHash('🔑')).toBe(4);
  });

  it('gives equal strings equal hashes', () => {
    utf8LengthAndHash('same-key');
    const a = lastHash;
    utf8LengthAndHash(['same', 'key'].join('-'));
    expect(lastHash).toBe(a);
  });
});

describe('KeyTable', () => {
  it('behaves like an insertion-ordered Map of first-seen indices, through collisions, growth and clear', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string({ maxLength: 6 })), { maxLength: 400 }),
        (keys) => {
          const table = new KeyTable(2); // tiny: forces probing and several rehashes
          const map = new Map<string, number>();
          for (let round = 0; round < 2; round++) {
            for (const k of keys) {
              utf8LengthAndHash(k);
              const h = lastHash;
              let idx = table.find(k, h);
              if (idx < 0) idx = table.add(k, h);
              if (!map.has(k)) map.set(k, map.size);
              expect(idx).toBe(map.get(k));
            }
            expect(table.keys).toEqual([...map.keys()]);
            table.clear();
            map.clear();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
