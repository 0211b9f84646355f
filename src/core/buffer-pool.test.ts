import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, sizeClass } from './buffer-pool.ts';

const MiB = 1024 * 1024;

test('size classes: 64 KiB at least, then four between powers of two, never smaller than asked', () => {
  assert.equal(sizeClass(1), 64 * 1024);
  assert.equal(sizeClass(64 * 1024), 64 * 1024);
  assert.equal(sizeClass(64 * 1024 + 1), 80 * 1024);
  assert.equal(sizeClass(MiB), MiB);
  assert.equal(sizeClass(MiB + 1), 1.25 * MiB);
  assert.equal(sizeClass(1.6 * MiB), 1.75 * MiB);
  assert.equal(sizeClass(4 * MiB - 1), 4 * MiB);
  for (let length = 1; length < 64 * MiB; length = Math.ceil(length * 1.37)) {
    const size = sizeClass(length);
    assert.ok(size >= length && (length <= 64 * 1024 || size <= length * 1.25), `${length} → ${size}`);
  }
});

test('a buffer given back is the memory of the next take of its class', () => {
  const pool = new BufferPool(8 * MiB);
  const first = pool.take(MiB + 100);
  assert.equal(first.length, MiB + 100);
  assert.equal(first.buffer.byteLength, 1.25 * MiB);
  pool.give(first);
  assert.equal(pool.spareBytes, 1.25 * MiB);
  const again = pool.take(MiB + 5000);
  assert.equal(again.buffer, first.buffer);
  assert.equal(again.length, MiB + 5000);
  assert.equal(pool.spareBytes, 0);
  // Another class: new memory.
  assert.notEqual(pool.take(3 * MiB).buffer, first.buffer);
});

test('memory given back twice, or not from the pool, is not kept', () => {
  const pool = new BufferPool(8 * MiB);
  const taken = pool.take(MiB);
  pool.give(taken);
  pool.give(taken);
  assert.equal(pool.spareBytes, MiB);
  pool.give(Buffer.alloc(MiB));
  pool.give(new Uint8Array(MiB));
  assert.equal(pool.spareBytes, MiB);
  const a = pool.take(MiB);
  const b = pool.take(MiB);
  assert.equal(a.buffer, taken.buffer);
  assert.notEqual(b.buffer, a.buffer, 'one memory handed out twice');
});

test('spare memory stays within its bound', () => {
  const pool = new BufferPool(3 * MiB);
  const taken = Array.from({ length: 6 }, () => pool.take(MiB));
  for (const b of taken) pool.give(b);
  assert.equal(pool.spareBytes, 3 * MiB);
  const again = new Set(Array.from({ length: 6 }, () => pool.take(MiB).buffer));
  assert.equal(again.size, 6);
  assert.equal(taken.filter((b) => again.has(b.buffer)).length, 3);
});
