import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import { chunkBytes, CHUNKER_DEFAULTS, type ChunkerOptions } from './chunker.ts';
import { chunkBatches, parallelDefaults, type ParallelOptions } from './parallel-chunker.ts';

/** Small sizes so that tests see many chunks and many segments in little data. */
const SMALL: ChunkerOptions = { minSize: 1024, avgSize: 4096, maxSize: 16384 };

/** Seeded pseudo-random bytes (AES-128-CTR over zeros). */
function pseudoRandom(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    await Promise.resolve();
    yield bytes.subarray(at, at + size);
  }
}

interface Cut {
  readonly offset: number;
  readonly size: number;
  readonly digest: string;
}

async function parallelCuts(
  data: Uint8Array,
  piece: number,
  chunker: ChunkerOptions,
  parallel: ParallelOptions,
): Promise<Cut[]> {
  const out: Cut[] = [];
  for await (const batch of chunkBatches(pieces(data, piece), chunker, parallel)) {
    for (const c of batch) {
      assert.equal(c.bytes.length, c.size);
      assert.equal(createHash('sha256').update(c.bytes).digest('hex'), c.digest);
      out.push({ offset: c.offset, size: c.size, digest: c.digest });
    }
  }
  return out;
}

function serialCuts(data: Uint8Array, chunker: ChunkerOptions): Cut[] {
  return [...chunkBytes(data, chunker)].map((c) => ({ offset: c.offset, size: c.size, digest: c.digest }));
}

/**
 * Content with stretches that have cut points (random), stretches that have none (constant bytes:
 * cut at the maximum size, where cutters started at different places never fall into step) and
 * repeats, so that seams land on every kind.
 */
function mixedContent(seed: string, parts: readonly { kind: number; length: number }[]): Buffer {
  return Buffer.concat(
    parts.map(({ kind, length }, i) =>
      kind === 0
        ? pseudoRandom(`${seed}/${i}`, length)
        : kind === 1
          ? Buffer.alloc(length, i)
          : pseudoRandom(seed, length),
    ),
  );
}

test('1 or N workers, any segment size and overlap: exactly the chunks of the serial chunker, seams included', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string(),
      fc.array(
        fc.record({ kind: fc.integer({ min: 0, max: 2 }), length: fc.integer({ min: 0, max: 90_000 }) }),
        { minLength: 1, maxLength: 5 },
      ),
      fc.integer({ min: 1, max: 70_000 }),
      fc.integer({ min: 4096, max: 40_000 }),
      fc.integer({ min: 0, max: 40_000 }),
      fc.integer({ min: 2, max: 3 }),
      async (seed, parts, piece, segmentSize, extraOverlap, workers) => {
        const data = mixedContent(seed, parts);
        const expected = serialCuts(data, SMALL);
        const overlap = SMALL.maxSize + extraOverlap;
        const one = await parallelCuts(data, piece, SMALL, { workers: 1, segmentSize, overlap });
        const many = await parallelCuts(data, piece, SMALL, { workers, segmentSize, overlap });
        assert.deepEqual(one, expected);
        assert.deepEqual(many, expected);
      },
    ),
    { numRuns: 40 },
  );
});

test('the default sizes: 48 MiB on 1 and 2 workers, segments of 6 MiB, cut as the serial chunker cuts it', async () => {
  const data = Buffer.concat([pseudoRandom('defaults', 40 * 1024 * 1024), Buffer.alloc(8 * 1024 * 1024)]);
  const expected = serialCuts(data, CHUNKER_DEFAULTS);
  for (const workers of [1, 2]) {
    const parallel = { ...parallelDefaults(), workers, segmentSize: 6 * 1024 * 1024 };
    assert.deepEqual(await parallelCuts(data, 1024 * 1024, CHUNKER_DEFAULTS, parallel), expected);
  }
});

test('content ending exactly at the end of a segment: the last cuts come from a segment of no new bytes', async () => {
  const parallel = { workers: 2, segmentSize: 20_000, overlap: 30_000 };
  for (const length of [50_000, 70_000, 90_000]) {
    const data = pseudoRandom(`exact${length}`, length);
    assert.deepEqual(await parallelCuts(data, 7000, SMALL, parallel), serialCuts(data, SMALL));
  }
});

test('the generator returns the SHA-256 of the whole content', async () => {
  const data = pseudoRandom('whole', 200_000);
  const batches = chunkBatches(pieces(data, 30_000), SMALL, {
    workers: 2,
    segmentSize: 40_000,
    overlap: 20_000,
  });
  let next = await batches.next();
  while (next.done !== true) next = await batches.next();
  assert.equal(next.value, createHash('sha256').update(data).digest('hex'));
});

test('an overlap shorter than the maximum chunk is refused', async () => {
  await assert.rejects(
    chunkBatches(pieces(new Uint8Array(10), 10), SMALL, {
      workers: 1,
      segmentSize: 1000,
      overlap: 1000,
    }).next(),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
});
