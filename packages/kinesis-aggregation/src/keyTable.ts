// An insertion-ordered string → index table for the partition-key table of an aggregate. It replaces a Map on the
// per-record hot path: the hash is computed in the same pass over the key that measures its UTF-8 length (which the
// size accounting needs anyway), and clearing between aggregates keeps the slot array.

/** Hash of the last string measured by {@link utf8LengthAndHash}. */
export let lastHash = 0;

/** UTF-8 byte length of `s`; also leaves an FNV-1a hash of its UTF-16 code units in {@link lastHash}. */
export function utf8LengthAndHash(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    h = Math.imul(h ^ c, 0x01000193);
    if (c >= 0x80) ascii = false;
  }
  lastHash = h >>> 0;
  // non-ASCII (rare in keys): let Buffer count, so lone surrogates come out as Buffer encodes them
  return ascii ? n : Buffer.byteLength(s, 'utf8');
}

/** Open addressing, linear probing; slots hold index + 1 (0 = empty). */
export class KeyTable {
  private slots: Int32Array;
  private hashes: number[] = [];
  readonly keys: string[] = [];
  private mask: number;
  /** Slot where the last failed {@link find} stopped; {@link add} fills it. */
  private freeSlot = 0;

  constructor(capacity = 1024) {
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Index of `key` (whose hash is `hash`), or -1. */
  find(key: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) {
        this.freeSlot = i;
        return -1;
      }
      if (this.hashes[v - 1] === hash && this.keys[v - 1] === key) return v - 1;
      i = (i + 1) & mask;
    }
  }

  /** Adds `key` right after a {@link find} for it returned -1; returns its index. */
  add(key: string, hash: number): number {
    const index = this.keys.length;
    this.keys.push(key);
    this.hashes.push(hash);
    this.slots[this.freeSlot] = index + 1;
    if ((index + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return index;
  }

  clear(): void {
    if (this.keys.length === 0) return;
    this.slots.fill(0);
    this.keys.length = 0;
    this.hashes.length = 0;
  }

  private rehash(capacity: number): void {
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let k = 0; k < this.keys.length; k++) {
      let i = this.hashes[k]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = k + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
