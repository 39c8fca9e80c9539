/**
 * A small seeded pseudo-random generator with integer math only, so a seed gives the same
 * stream on every machine and engine (no Math.random, no transcendental functions).
 *
 * mulberry32 (Tommy Ettinger, public domain) for the stream; splitmix32-style mixing to derive
 * independent seeds for each (class, base, variant) so generation order never matters.
 */

/** Mixes a 32-bit integer into a well-spread 32-bit hash (the murmur3 / splitmix32 finaliser). */
export function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Derives one seed from a parent seed and a path of integers, e.g. (seed, class, base, variant). */
export function deriveSeed(seed: number, ...path: number[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const part of path) h = mix32((h + Math.imul(part + 1, 0x9e3779b9)) >>> 0);
  return h;
}

/** A seeded stream of 32-bit integers with small helpers for drawing choices. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next uint32 of the mulberry32 stream. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n): floor(u * n / 2^32), exact in doubles for n < 2^21. */
  int(n: number): number {
    return Math.floor((this.nextUint32() * n) / 4294967296);
  }

  /** An integer in [lo, hi], both ends included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability numerator / denominator. */
  chance(numerator: number, denominator: number): boolean {
    return this.int(denominator) < numerator;
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One key by integer weight, e.g. weighted({ sword: 3, axe: 1 }). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const key of keys) total += weights[key];
    let draw = this.int(total);
    for (const key of keys) {
      draw -= weights[key];
      if (draw < 0) return key;
    }
    return keys[keys.length - 1];
  }

  /** Shuffles a list in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const held = items[i];
      items[i] = items[j];
      items[j] = held;
    }
    return items;
  }
}
