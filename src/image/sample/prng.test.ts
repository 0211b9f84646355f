import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createPrng, deriveSeed, mix32 } from './prng.ts';

test('the same seed gives the same sequence, another seed another one', () => {
  const a = createPrng(42);
  const b = createPrng(42);
  const c = createPrng(43);
  const seqA = Array.from({ length: 16 }, () => a.next());
  const seqB = Array.from({ length: 16 }, () => b.next());
  const seqC = Array.from({ length: 16 }, () => c.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
});

test('fill gives the same words as next, and continues the same stream', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 200 }), (seed, n) => {
      const one = createPrng(seed);
      const bulk = createPrng(seed);
      const expected = Array.from({ length: n + 3 }, () => one.next());
      const words = new Uint32Array(n);
      bulk.fill(words);
      assert.deepEqual([...words, bulk.next(), bulk.next(), bulk.next()], expected);
    }),
  );
});

test('below(n) stays in [0, n) and float in [0, 1)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
      const rng = createPrng(seed);
      for (let i = 0; i < 20; i++) {
        const v = rng.below(n);
        assert.ok(Number.isInteger(v) && v >= 0 && v < n, `${v} of ${n}`);
        const f = rng.float();
        assert.ok(f >= 0 && f < 1);
      }
    }),
  );
});

test('the bytes look uniform: every byte value, mean near 127.5', () => {
  const words = new Uint32Array(1 << 16);
  createPrng(7).fill(words);
  const bytes = new Uint8Array(words.buffer);
  const counts = new Array<number>(256).fill(0);
  let sum = 0;
  for (const b of bytes) {
    counts[b] = (counts[b] ?? 0) + 1;
    sum += b;
  }
  const mean = sum / bytes.length;
  assert.ok(Math.abs(mean - 127.5) < 1, `mean ${mean}`);
  const expected = bytes.length / 256;
  for (const c of counts) assert.ok(Math.abs(c - expected) < expected * 0.2, `count ${c}`);
});

test('mix32 and deriveSeed give distinct 32-bit values for nearby inputs', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = mix32(i);
    assert.ok(v >= 0 && v <= 0xffff_ffff);
    seen.add(v);
    seen.add(deriveSeed(5, i, 1));
  }
  assert.equal(seen.size, 2000);
});
