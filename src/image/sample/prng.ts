// A small, fast, seedable pseudo-random generator for the sample image's generated content:
// xoshiro128** (Blackman and Vigna, "Scrambled linear pseudorandom number generators", 2018,
// https://prng.di.unimi.it/xoshiro128starstar.c), seeded through splitmix32 so that any 32-bit
// seed gives a well-mixed non-zero state. Same seed, same sequence, on every machine.
// Not for secrets: it only makes test and benchmark content reproducible.

/** splitmix32's mixing step: a bijection on 32-bit integers with good avalanche. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit seed for a sub-stream: (seed, a, b) → seed, stable across runs. */
export function deriveSeed(seed: number, a: number, b = 0): number {
  return mix32(mix32(mix32(seed) ^ a) ^ Math.imul(b, 0x27d4eb2f));
}

export interface Prng {
  /** The next 32-bit unsigned value. */
  next(): number;
  /** An integer in [0, n) for 0 < n ≤ 2^32 (multiply-shift; bias below 2^-32·n, fine here). */
  below(n: number): number;
  /** A float in [0, 1). */
  float(): number;
  /** Fills `words` with 32-bit values; the fast path for bulk bytes. */
  fill(words: Uint32Array): void;
}

export function createPrng(seed: number): Prng {
  let s0 = mix32(seed);
  let s1 = mix32(s0 ^ 0x6a09e667);
  let s2 = mix32(s1 ^ 0xbb67ae85);
  let s3 = mix32(s2 ^ 0x3c6ef372);
  if ((s0 | s1 | s2 | s3) === 0) s3 = 1;
  const next = (): number => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r;
  };
  return {
    next,
    below: (n) => Math.floor((next() / 0x1_0000_0000) * n),
    float: () => next() / 0x1_0000_0000,
    fill(words) {
      let a = s0;
      let b = s1;
      let c = s2;
      let d = s3;
      for (let i = 0; i < words.length; i++) {
        words[i] = Math.imul(rotl(Math.imul(b, 5), 7), 9);
        const t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = rotl(d, 11);
      }
      s0 = a;
      s1 = b;
      s2 = c;
      s3 = d;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
