// ChunkStore on the filesystem store: content in → manifest → the same bytes out (whole and by
// range), refused chunks, check() finding damage, gc() removing exactly what it may.

import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../../src/core/errors.ts';
import { withTempDir } from '../../src/io/output.ts';
import { exists } from '../../src/io/paths.ts';
import type { BlobBatch } from '../../src/store/blob-store.ts';
import { FsBlobStore } from '../../src/store/blob-store-fs.ts';
import { chunkKey, ChunkStore } from '../../src/store/chunk-store.ts';
import { CHUNKER_DEFAULTS, type ChunkerOptions } from '../../src/store/chunker.ts';
import { MEDIA_TYPES, type Manifest } from '../../src/store/manifest.ts';

const SMALL: ChunkerOptions = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
const HOUR = 3600;

function pseudoRandom(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function* source(bytes: Uint8Array, piece = 65536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) {
    await Promise.resolve();
    yield bytes.subarray(at, at + piece);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of stream) parts.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(parts);
}

function withStore<T>(
  fn: (store: ChunkStore, blobs: FsBlobStore) => Promise<T>,
  chunker = SMALL,
): Promise<T> {
  return withTempDir(async (dir) => {
    const blobs = new FsBlobStore(dir);
    return fn(new ChunkStore(blobs, chunker), blobs);
  }, 'winsmith-chunks-');
}

function isCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof AppError && e.code === code;
}

test('content in, manifest, the same bytes out: sizes 0, 1, around chunk boundaries, several MiB', () =>
  withStore(async (store) => {
    const sizes = [0, 1, 1023, 1024, 1025, 16383, 16384, 16385, 100_000, 3 * 1024 * 1024 + 7];
    for (const size of sizes) {
      const data = pseudoRandom(`size${size}`, size);
      const { manifest, digest } = await store.ingest(source(data), MEDIA_TYPES.octetStream);
      assert.equal(manifest.size, size);
      assert.equal(manifest.sha256, sha256(data));
      assert.deepEqual(await store.getManifest(digest), manifest);
      const out = await readAll(store.readContent(manifest));
      assert.equal(out.length, size, `size ${size}`);
      assert.equal(sha256(out), sha256(data), `size ${size}`);
    }
  }));

test('default chunk sizes: 9 MiB in and out, and a second version stores only what changed', () =>
  withStore(async (store) => {
    const v1 = pseudoRandom('v1', 9 * 1024 * 1024);
    const first = await store.ingest(source(v1), MEDIA_TYPES.wim);
    assert.equal(
      sha256(await readAll(store.readContent(first.manifest, undefined, { verify: true }))),
      sha256(v1),
    );
    const v2 = Buffer.concat([v1.subarray(0, 5_000_000), Buffer.from('inserted'), v1.subarray(5_000_000)]);
    const second = await store.ingest(source(v2), MEDIA_TYPES.wim);
    assert.ok(second.newChunks <= 3, `${second.newChunks} new chunks for an 8-byte insertion`);
    assert.ok(second.newBytes < v2.length / 2);
    assert.equal(sha256(await readAll(store.readContent(second.manifest))), sha256(v2));
  }, CHUNKER_DEFAULTS));

test('ingestFile reads a file straight into the chunker: the same manifest as ingest() of its bytes', () =>
  withStore(async (store, blobs) => {
    const data = pseudoRandom('file', 5 * 1024 * 1024 + 3);
    const file = join(dirname(blobs.root), `${sha256(data)}.bin`);
    await writeFile(file, data);
    try {
      const fromFile = await store.ingestFile(file, MEDIA_TYPES.wim);
      const fromStream = await store.ingest(source(data), MEDIA_TYPES.wim);
      assert.deepEqual(fromFile.manifest, fromStream.manifest);
      assert.equal(fromFile.manifest.sha256, sha256(data));
      assert.equal(fromStream.newChunks, 0);
    } finally {
      await rm(file, { force: true });
    }
    await assert.rejects(
      store.ingestFile(join(blobs.root, 'absent.bin'), MEDIA_TYPES.wim),
      isCode('IO_ERROR'),
    );
  }, CHUNKER_DEFAULTS));

test('a source failing half-way stores no chunk and leaves no temporary file; a finished ingest leaves none either', () =>
  withStore(async (store, blobs) => {
    const data = pseudoRandom('broken', 600_000);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* source(data.subarray(0, 400_000));
      throw new Error('the connection dropped');
    }
    await assert.rejects(store.ingest(failing(), MEDIA_TYPES.octetStream), /the connection dropped/);
    assert.equal((await store.stats()).chunks, 0);
    const files = async (): Promise<string[]> =>
      (await readdir(blobs.root, { recursive: true })).filter((f) => basename(f).startsWith('.tmp-'));
    assert.deepEqual(await files(), []);
    const { manifest } = await store.ingest(source(data), MEDIA_TYPES.octetStream);
    assert.equal((await store.stats()).chunks, new Set(manifest.chunks.map((c) => c.digest)).size);
    assert.deepEqual(await files(), []);
  }));

test('a write failing half-way fails the ingest: every other write settles, nothing stays behind', () =>
  withTempDir(async (dir) => {
    class FailingBlobs extends FsBlobStore {
      override batch(): BlobBatch {
        const batch = super.batch();
        let puts = 0;
        return {
          ...batch,
          put: async (key, bytes) => {
            if (++puts === 3) throw new AppError('IO_ERROR', 'no space left on the device');
            await batch.put(key, bytes);
          },
        };
      }
    }
    const blobs = new FailingBlobs(dir);
    const store = new ChunkStore(blobs, SMALL);
    await assert.rejects(
      store.ingest(source(pseudoRandom('full', 300_000)), MEDIA_TYPES.octetStream),
      /no space left/,
    );
    assert.equal((await store.stats()).chunks, 0);
    assert.deepEqual(
      await readdir(dir, { recursive: true }).then((f) => f.filter((n) => n.includes('.tmp-'))),
      [],
    );
  }, 'winsmith-chunks-'));

test('readContent of any range gives exactly those bytes', () =>
  withStore(async (store) => {
    const data = pseudoRandom('ranges', 300_000);
    const { manifest } = await store.ingest(source(data), MEDIA_TYPES.octetStream);
    await fc.assert(
      fc.asyncProperty(fc.nat(data.length - 1), fc.nat(data.length - 1), async (a, b) => {
        const start = Math.min(a, b);
        const end = Math.max(a, b);
        const out = await readAll(store.readContent(manifest, { start, end }));
        assert.ok(out.equals(data.subarray(start, end + 1)), `${start}-${end}`);
      }),
      { numRuns: 150 },
    );
    assert.throws(
      () => store.readContent(manifest, { start: 0, end: data.length }),
      isCode('INVALID_ARGUMENT'),
    );
    assert.throws(() => store.readContent(manifest, { start: 5, end: 4 }), isCode('INVALID_ARGUMENT'));
  }));

test('a chunk whose content does not match its digest is refused and nothing is stored', () =>
  withStore(async (store) => {
    const bytes = pseudoRandom('chunk', 5000);
    const wrong = sha256(pseudoRandom('other', 5000));
    await assert.rejects(
      store.putChunk(wrong, bytes),
      (e: unknown) => isCode('FORMAT_INVALID')(e) && e instanceof Error && e.message.includes(sha256(bytes)),
    );
    assert.equal(await store.hasChunk(wrong), false);
    assert.deepEqual(await store.stats(), { storedBytes: 0, chunks: 0 });
    await assert.rejects(store.putChunk('../../etc', bytes), isCode('INVALID_ARGUMENT'));
    await assert.rejects(
      store.putChunk(sha256(new Uint8Array(0)), new Uint8Array(0)),
      isCode('FORMAT_INVALID'),
    );
    assert.equal(await store.putChunk(sha256(bytes), bytes), true);
    assert.equal(await store.putChunk(sha256(bytes), bytes), false);
    assert.deepEqual(await store.missing([wrong, sha256(bytes), wrong]), [wrong]);
  }));

test('check() passes on a sound store and finds a corrupted chunk, a missing one and a damaged manifest', () =>
  withStore(async (store, blobs) => {
    const a = await store.ingest(source(pseudoRandom('a', 60_000)), MEDIA_TYPES.octetStream);
    const b = await store.ingest(source(pseudoRandom('b', 60_000)), MEDIA_TYPES.octetStream);
    const events: number[] = [];
    const sound = await store.check({ onProgress: (e) => events.push(e.done) });
    assert.equal(sound.ok, true);
    assert.equal(sound.manifestsChecked, 2);
    assert.equal(sound.chunksChecked, a.manifest.chunks.length + b.manifest.chunks.length);
    assert.ok(events.length > 0, 'progress reported');

    const corrupt = a.manifest.chunks[1]?.digest ?? '';
    await writeFile(blobs.pathOf(chunkKey(corrupt)), 'not the content');
    const lost = b.manifest.chunks[0]?.digest ?? '';
    await rm(blobs.pathOf(chunkKey(lost)));
    const report = await store.check();
    assert.equal(report.ok, false);
    assert.deepEqual(report.corruptChunks, [corrupt]);
    assert.deepEqual(report.missingChunks, [{ manifest: b.digest, chunk: lost }]);
    await assert.rejects(
      readAll(store.readContent(a.manifest, undefined, { verify: true })),
      isCode('FORMAT_INVALID'),
    );
    await assert.rejects(readAll(store.readContent(b.manifest)), isCode('NOT_FOUND'));

    await writeFile(blobs.pathOf(`manifests/${a.digest}`), '{}');
    assert.deepEqual((await store.check()).corruptManifests, [a.digest]);
    await assert.rejects(store.getManifest(a.digest), isCode('FORMAT_INVALID'));
  }));

test('gc removes exactly the unreferenced chunks older than the grace period, and spares an open upload', () =>
  withStore(async (store, blobs) => {
    const shared = pseudoRandom('shared', 40_000);
    const live = await store.ingest(
      source(Buffer.concat([shared, pseudoRandom('live', 40_000)])),
      MEDIA_TYPES.octetStream,
    );
    const dead = await store.ingest(
      source(Buffer.concat([shared, pseudoRandom('dead', 40_000)])),
      MEDIA_TYPES.octetStream,
    );
    // An upload in progress: its chunks are stored, its manifest is not committed yet.
    const upload = pseudoRandom('upload', 20_000);
    const uploadChunks: string[] = [];
    for (let at = 0; at < upload.length; at += 5000) {
      const piece = upload.subarray(at, at + 5000);
      await store.putChunk(sha256(piece), piece);
      uploadChunks.push(sha256(piece));
    }
    const liveSet = new Set(live.manifest.chunks.map((c) => c.digest));
    const deadOnly = [...new Set(dead.manifest.chunks.map((c) => c.digest))].filter((d) => !liveSet.has(d));
    assert.ok(deadOnly.length > 0 && deadOnly.length < dead.manifest.chunks.length, 'the two share chunks');

    // Everything was written just now: within the grace period nothing goes.
    const young = await store.gc([live.digest], { graceSeconds: HOUR });
    assert.equal(young.removedChunks, 0);
    assert.equal(young.keptYoung, deadOnly.length + uploadChunks.length);

    // What a push killed in the middle of a write leaves behind.
    const stray = join(dirname(blobs.pathOf(chunkKey(deadOnly[0] ?? ''))), '.tmp-interrupted');
    await writeFile(stray, 'half a chunk');
    const later = Date.now() + 2 * HOUR * 1000;
    const dry = await store.gc([live.digest], {
      graceSeconds: HOUR,
      nowMs: later,
      protectedChunks: uploadChunks,
      dryRun: true,
    });
    assert.equal(dry.removedChunks, deadOnly.length);
    assert.deepEqual(await store.missing(deadOnly), []);

    const report = await store.gc(async () => Promise.resolve([live.digest]), {
      graceSeconds: HOUR,
      nowMs: later,
      protectedChunks: uploadChunks,
    });
    assert.equal(report.removedChunks, deadOnly.length);
    assert.equal(report.removedManifests, 1);
    assert.equal(report.removedTemporaries, 1);
    assert.equal(await exists(stray), false);
    assert.deepEqual((await store.missing(deadOnly)).sort(), [...deadOnly].sort());
    assert.deepEqual(await store.missing(uploadChunks), []);
    assert.deepEqual(await store.missing(live.manifest.chunks.map((c) => c.digest)), []);
    assert.equal(await store.hasManifest(dead.digest), false);
    const out = await readAll(store.readContent(live.manifest));
    assert.equal(sha256(out), live.manifest.sha256);
    assert.equal((await store.check()).ok, true);
    const stats = await store.stats();
    assert.equal(stats.chunks, liveSet.size + uploadChunks.length);
  }));

test('a manifest stored and read back is checked against its name', () =>
  withStore(async (store, blobs) => {
    const m: Manifest = {
      schemaVersion: 1,
      mediaType: MEDIA_TYPES.iso,
      size: 3,
      sha256: sha256(Buffer.from('abc')),
      chunks: [{ digest: sha256(Buffer.from('abc')), size: 3 }],
    };
    const digest = await store.putManifest(m);
    assert.deepEqual(await store.getManifest(digest), m);
    await assert.rejects(store.getManifest('0'.repeat(64)), isCode('NOT_FOUND'));
    const other = await store.putManifest({ ...m, mediaType: MEDIA_TYPES.octetStream });
    await writeFile(blobs.pathOf(`manifests/${digest}`), await blobs.get(`manifests/${other}`));
    await assert.rejects(store.getManifest(digest), isCode('FORMAT_INVALID'));
    await assert.rejects(store.putManifest({ ...m, size: 4 }), isCode('FORMAT_INVALID'));
  }));
