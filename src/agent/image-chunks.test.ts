import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import { sha256Hex, type Manifest } from '../store/manifest.ts';
import { ImageChunks, type ChunkFetcher } from './image-chunks.ts';

/** An image of `sizes` chunks of pseudo-random bytes, its manifest, and a fetcher counting fetches. */
function image(sizes: readonly number[]) {
  const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  let at = 0;
  const chunks = sizes.map((size) => {
    const chunk = { digest: sha256Hex(bytes.subarray(at, at + size)), size, offset: at };
    at += size;
    return chunk;
  });
  const manifest: Manifest = {
    schemaVersion: 1,
    mediaType: 'application/x-wim',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    chunks: chunks.map(({ digest, size }) => ({ digest, size })),
  };
  const fetched: number[] = [];
  /** The memory each fetch was given. */
  const memory = new Set<ArrayBufferLike>();
  const fetcher: ChunkFetcher = (_chunk, index, into) => {
    fetched.push(index);
    memory.add(into.buffer);
    const c = chunks[index];
    if (c === undefined) return Promise.reject(new Error(`no chunk ${index}`));
    into.set(bytes.subarray(c.offset, c.offset + c.size));
    return Promise.resolve(into);
  };
  return { bytes, manifest, fetched, memory, fetcher };
}

test('any range reads the same bytes as the whole image, across chunk boundaries', async () => {
  const { bytes, manifest, fetcher } = image([100, 1, 37, 256, 5, 300]);
  const chunks = new ImageChunks(manifest, fetcher, { cacheBytes: 400, readAheadBytes: 0 });
  await fc.assert(
    fc.asyncProperty(fc.nat(bytes.length), fc.nat(bytes.length), async (a, b) => {
      const [start, end] = a <= b ? [a, b] : [b, a];
      assert.deepEqual(await chunks.read(start, end - start), bytes.subarray(start, end));
    }),
  );
  assert.deepEqual(
    [0, 99, 100, 101, 137, 138, 393, 398, 698].map((o) => chunks.chunkIndexAt(o)),
    [0, 0, 1, 2, 2, 3, 3, 4, 5],
  );
  await assert.rejects(chunks.read(690, 20), AppError);
});

test('the memory of chunks that left the cache holds the next ones: a few buffers for the whole image, every byte right', async () => {
  const sizes = Array.from({ length: 60 }, (_, i) => 50 + ((i * 37) % 51));
  const { bytes, manifest, fetched, memory, fetcher } = image(sizes);
  const chunks = new ImageChunks(manifest, fetcher, { cacheBytes: 400, readAheadBytes: 200 });
  for (let at = 0; at < bytes.length; at += 64) {
    const end = Math.min(bytes.length, at + 64);
    assert.deepEqual(await chunks.read(at, end - at), bytes.subarray(at, end));
  }
  assert.ok(memory.size <= 16, `${memory.size} buffers for ${sizes.length} chunks`);
  assert.equal(fetched.length, sizes.length, 'chunks fetched ahead stayed until they were read');
  const own = image([64, 64, 64]);
  const elsewhere = new ImageChunks(
    own.manifest,
    async (chunk, index) => (await own.fetcher(chunk, index, new Uint8Array(chunk.size))).slice(),
    { cacheBytes: 64, readAheadBytes: 0 },
  );
  assert.deepEqual(await elsewhere.read(0, 192), own.bytes);
});

test('a chunk that does not match its digest fails the read, names the chunk, and every later read', async () => {
  const { manifest, fetcher } = image([64, 64, 64]);
  const corrupt: ChunkFetcher = async (chunk, index, into) => {
    const bytes = await fetcher(chunk, index, into);
    if (index === 1) bytes[10] = (bytes[10] ?? 0) ^ 1;
    return bytes;
  };
  const chunks = new ImageChunks(manifest, corrupt, { cacheBytes: 1024, readAheadBytes: 0 });
  assert.equal((await chunks.read(0, 64)).length, 64);
  const digest = manifest.chunks[1]?.digest ?? '';
  await assert.rejects(
    chunks.read(60, 10),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'FORMAT_INVALID' &&
      e.message.startsWith(`chunk 1 (${digest}) of the image has SHA-256 `) &&
      e.message.endsWith('expected its digest'),
  );
  assert.equal(chunks.failure?.code, 'FORMAT_INVALID');
  await assert.rejects(chunks.read(0, 1), (e: unknown) => e === chunks.failure);
});

test('a chunk of the wrong length is refused as corrupt too', async () => {
  const { manifest } = image([64]);
  const chunks = new ImageChunks(manifest, () => Promise.resolve(new Uint8Array(63)), {
    cacheBytes: 1024,
    readAheadBytes: 0,
  });
  await assert.rejects(chunks.read(0, 1), /^AppError: chunk 0 \(.*\) of the image is 63 bytes, expected 64$/);
});

test('the cache keeps recent chunks within its bytes; evicted ones are fetched again', async () => {
  const { manifest, fetched, fetcher } = image([100, 100, 100, 100]);
  const chunks = new ImageChunks(manifest, fetcher, { cacheBytes: 250, readAheadBytes: 0 });
  await chunks.read(0, 1);
  await chunks.read(100, 1);
  await chunks.read(0, 1);
  assert.deepEqual(fetched, [0, 1]);
  await chunks.read(200, 1);
  await chunks.read(0, 1);
  assert.deepEqual(fetched, [0, 1, 2], 'chunk 0, the most recently used, stayed; chunk 1 went');
  await chunks.read(100, 1);
  assert.deepEqual(fetched, [0, 1, 2, 1]);
  assert.equal(chunks.fetchedBytes, 400);
});

test('reads in order open a read-ahead window that doubles; a jump closes it', async () => {
  const { manifest, fetched, fetcher } = image(Array.from({ length: 64 }, () => 128 * 1024));
  const chunks = new ImageChunks(manifest, fetcher, {
    cacheBytes: 64 * 1024 * 1024,
    readAheadBytes: 2 * 1024 * 1024,
  });
  await chunks.read(0, 10);
  await chunks.read(63 * 128 * 1024, 10);
  assert.deepEqual(fetched, [0, 63], 'the header and the end: no read-ahead');
  await chunks.read(10 * 128 * 1024, 10);
  await chunks.read(11 * 128 * 1024, 10);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(fetched.slice(2), [10, 11, 12, 13], 'a second read in order fetches 256 KiB ahead');
  for (let i = 12; i < 20; i++) await chunks.read(i * 128 * 1024, 10);
  await new Promise((r) => setImmediate(r));
  assert.equal(Math.max(...fetched.slice(2)), 19 + 16, 'the window grew to its 2 MiB (16 chunks) ahead');
  assert.equal(new Set(fetched).size, fetched.length, 'no chunk was fetched twice');
});

test('reads a little out of order (several in flight at once) keep the window open', async () => {
  const { manifest, fetched, fetcher } = image(Array.from({ length: 64 }, () => 128 * 1024));
  const chunks = new ImageChunks(manifest, fetcher, {
    cacheBytes: 64 * 1024 * 1024,
    readAheadBytes: 2 * 1024 * 1024,
  });
  for (const i of [0, 1, 2, 4, 3, 6, 5, 7, 9, 8]) await chunks.read(i * 128 * 1024, 10);
  await new Promise((r) => setImmediate(r));
  assert.equal(Math.max(...fetched), 9 + 16, 'the window grew to its 2 MiB (16 chunks) ahead');
  await chunks.read(40 * 128 * 1024, 10);
  await chunks.read(2 * 128 * 1024, 10);
  const before = fetched.length;
  await chunks.read(30 * 128 * 1024, 10);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(fetched.slice(before), [30], 'far jumps closed the window');
});

test('a read-ahead fetch that fails fails nothing until the chunk is read', async () => {
  const { manifest, fetcher } = image([100, 100, 100]);
  let failNext = true;
  const flaky: ChunkFetcher = (chunk, index, into) => {
    if (index === 2 && failNext) {
      failNext = false;
      return Promise.reject(new AppError('IO_ERROR', 'cut'));
    }
    return fetcher(chunk, index, into);
  };
  const chunks = new ImageChunks(manifest, flaky, { cacheBytes: 1024, readAheadBytes: 1024 * 1024 });
  await chunks.read(0, 1);
  await chunks.read(100, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(chunks.failure, null);
  assert.equal((await chunks.read(200, 100)).length, 100);
});
