/**
 * A seeded pseudo-random generator (mulberry32): every random choice of a chaos run comes from one of these, so a
 * run is replayed by passing the seed it printed.
 */
export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A new generator whose sequence depends only on this seed and `label` (independent streams per concern). */
  fork(label: string): Rng;
}

/** A fresh random seed (uint32). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0xffff_ffff) >>> 0;
}

function hash32(text: string, seed: number): number {
  let h = seed ^ 0x9e37_79b9;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x85eb_ca6b);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A generator for `seed` (any uint32). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b_79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => {
      if (items.length === 0) throw new Error('pick from an empty array');
      return items[Math.floor(next() * items.length)] as T;
    },
    chance: (p) => next() < p,
    fork: (label) => createRng(hash32(label, seed >>> 0)),
  };
}
