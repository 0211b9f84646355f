// The repository's push/pull protocol on a data directory (SQLite + filesystem blobs): exact bytes
// back for WIMs of several sizes, a second version sends only its new chunks, a push interrupted
// part-way resumes with only what is missing, and bad input changes nothing.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { wimCapture, wimUpdate } from '../../src/engines/wimlib.ts';
import { withTempDir } from '../../src/io/output.ts';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { chunkStream } from '../../src/store/chunker.ts';
import { manifestDigest } from '../../src/store/manifest.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { kyselyOf } from '../../src/db/database.ts';
import { manifestOfFile, pullFile, pushFile } from '../../src/app/transfer.ts';
import type { Repository } from '../../src/store/repository.ts';
import { AppError } from '../../src/core/errors.ts';

const CHUNKING = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
const ACTOR = { user: 'tester', client: 'test' };

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Runs `fn` on a new data directory (`r`: its images as ACTOR), closed afterwards. */
async function withRepository(
  options: { readonly gcGraceSeconds?: number },
  fn: (app: LocalApp, r: Repository, dir: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const app = await LocalApp.openDataDir(join(dir, 'data'), { chunking: CHUNKING, ...options });
    try {
      await fn(app, app.as(ACTOR).images, dir);
    } finally {
      await app.close();
    }
  });
}

/** A WIM captured from `files` random files of `each` bytes (stored uncompressed, so chunks dedup). */
async function makeWim(dir: string, name: string, files: number, each: number): Promise<string> {
  const tree = join(dir, `${name}-tree`);
  await mkdir(tree, { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(tree, `f${i}.bin`), randomBytes(each));
  const wim = join(dir, `${name}.wim`);
  await wimCapture(tree, wim, { name, compression: 'none' });
  return wim;
}

test(
  'push then pull gives identical bytes for WIMs of several sizes, with editions recorded',
  { timeout: 120_000 },
  async () => {
    await withRepository({}, async (_app, r, dir) => {
      for (const [files, each] of [
        [1, 1000],
        [4, 300_000],
        [16, 512 * 1024],
      ] as const) {
        const wim = await makeWim(dir, `w${files}`, files, each);
        const ref = { name: 'team-a/sizes', tag: `f${files}` };
        const pushed = await pushFile(r, wim, ref, await artifactMetaOf(wim));
        assert.equal(pushed.image.mediaType, 'application/x-wim');
        assert.equal(pushed.image.editions.length, 1);
        const out = join(dir, `out-${files}.wim`);
        await pullFile(r, ref, out);
        assert.equal(await sha256(out), await sha256(wim));
        assert.equal(pushed.image.sha256, await sha256(wim));
      }
      assert.equal((await r.check()).ok, true);
    });
  },
);

test(
  'version 2 (one file added with wimupdate) uploads only the chunks version 1 lacks',
  { timeout: 120_000 },
  async () => {
    await withRepository({}, async (_app, r, dir) => {
      const v1 = await makeWim(dir, 'base', 24, 256 * 1024);
      const first = await pushFile(r, v1, { name: 'ws', tag: 'v1' }, await artifactMetaOf(v1));
      assert.equal(first.uploadedChunks, first.chunks);
      const v2 = join(dir, 'v2.wim');
      await writeFile(v2, await readFile(v1));
      const extra = join(dir, 'extra.bin');
      await writeFile(extra, randomBytes(200_000));
      await wimUpdate(v2, 1, [{ op: 'add', source: extra, dest: '/extra.bin' }]);
      const m1 = await manifestOfFile(v1, 'application/x-wim', CHUNKING);
      const m2 = await manifestOfFile(v2, 'application/x-wim', CHUNKING);
      const old = new Set(m1.chunks.map((c) => c.digest));
      const fresh = new Set(m2.chunks.map((c) => c.digest).filter((d) => !old.has(d)));
      const second = await pushFile(
        r,
        v2,
        { name: 'ws', tag: 'v2' },
        await artifactMetaOf(v2, { parentDigest: first.image.digest }),
      );
      assert.equal(second.uploadedChunks, fresh.size);
      assert.ok(
        second.uploadedChunks < second.chunks / 2,
        `${second.uploadedChunks} of ${second.chunks} sent`,
      );
      assert.equal(second.image.parentDigest, first.image.digest);
      assert.equal(second.image.digest, manifestDigest(m2));
      const stats = await r.stats();
      assert.equal(stats.artifacts, 2);
      assert.ok(stats.storedBytes < stats.logicalBytes * 0.7);
    });
  },
);

test(
  'an interrupted push is not listed, and the same push again sends only what is missing',
  { timeout: 60_000 },
  async () => {
    await withRepository({}, async (_app, r, dir) => {
      const file = join(dir, 'a.bin');
      await writeFile(file, randomBytes(2 * 1024 * 1024));
      const manifest = await manifestOfFile(file, 'application/octet-stream', CHUNKING);
      const ref = { name: 'resume', tag: 'v1' };
      const session = await r.beginUpload(ref, manifest);
      const bytes = await readFile(file);
      let offset = 0;
      const half = Math.floor(manifest.chunks.length / 2);
      for (const c of manifest.chunks.slice(0, half)) {
        await r.putChunk(session.id, c.digest, bytes.subarray(offset, offset + c.size));
        offset += c.size;
      }
      await assert.rejects(
        r.commitUpload(session.id, {
          mediaType: 'application/octet-stream',
          editions: [],
          parentDigest: null,
          recipe: null,
          sourceIsoSha256: null,
        }),
        (e: unknown) => e instanceof AppError && e.code === 'CONFLICT',
      );
      assert.deepEqual(await r.listImages(), []);
      const again = await pushFile(r, file, ref, await artifactMetaOf(file));
      assert.equal(again.uploadedChunks, new Set(manifest.chunks.slice(half).map((c) => c.digest)).size);
      assert.equal((await r.listImages()).length, 1);
    });
  },
);

test(
  'bad input: wrong chunk hash, malformed manifest, unknown image, pull of a removed tag — clear errors, nothing changed; the removal in the tag history',
  { timeout: 60_000 },
  async () => {
    await withRepository({}, async (_app, r, dir) => {
      const file = join(dir, 'a.bin');
      await writeFile(file, randomBytes(300_000));
      const manifest = await manifestOfFile(file, 'application/octet-stream', CHUNKING);
      const session = await r.beginUpload({ name: 'bad', tag: 'v1' }, manifest);
      const first = manifest.chunks[0];
      assert.ok(first !== undefined);
      await assert.rejects(
        r.putChunk(session.id, first.digest, randomBytes(first.size)),
        (e: unknown) => e instanceof AppError && e.code === 'FORMAT_INVALID',
      );
      const before = await r.stats();
      assert.equal(before.chunks, 0);
      await assert.rejects(
        r.beginUpload({ name: 'bad', tag: 'v2' }, { ...manifest, size: manifest.size + 1 }),
        (e: unknown) => e instanceof AppError && e.code === 'FORMAT_INVALID',
      );
      await assert.rejects(
        r.getImage({ name: 'nothing', tag: 'here' }),
        (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND' && /nothing:here/.test(e.message),
      );
      await pushFile(r, file, { name: 'bad', tag: 'v1' }, await artifactMetaOf(file));
      await r.removeTag({ name: 'bad', tag: 'v1' });
      await assert.rejects(
        pullFile(r, { name: 'bad', tag: 'v1' }, join(dir, 'out.bin')),
        (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND',
      );
      await assert.rejects(readFile(join(dir, 'out.bin')));
      const history = await r.tagHistory({ name: 'bad', tag: 'v1' });
      assert.deepEqual(
        history.map((h) => [h.changedBy, h.digest === null, h.previousDigest === null]),
        [
          ['tester', true, false],
          ['tester', false, true],
        ],
      );
      await assert.rejects(
        r.tagHistory({ name: 'never', tag: 'tagged' }),
        (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND' && /never:tagged/.test(e.message),
      );
    });
  },
);

test(
  'gc removes what only an abandoned upload held and keeps every image whole',
  { timeout: 60_000 },
  async () => {
    await withRepository({ gcGraceSeconds: 0 }, async (_app, r, dir) => {
      const kept = join(dir, 'kept.bin');
      await writeFile(kept, randomBytes(400_000));
      await pushFile(r, kept, { name: 'kept', tag: 'v1' }, await artifactMetaOf(kept));
      const before = await r.stats();
      const orphan = join(dir, 'orphan.bin');
      await writeFile(orphan, randomBytes(300_000));
      const manifest = await manifestOfFile(orphan, 'application/octet-stream', CHUNKING);
      const session = await r.beginUpload({ name: 'orphan', tag: 'v1' }, manifest);
      const first = manifest.chunks[0];
      assert.ok(first !== undefined);
      await r.putChunk(session.id, first.digest, (await readFile(orphan)).subarray(0, first.size));
      assert.equal((await r.stats()).chunks, before.chunks + 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const report = await r.gc();
      assert.equal(report.removedChunks, 1);
      assert.deepEqual(await r.stats(), before);
      assert.equal((await r.check()).ok, true);
      const out = join(dir, 'out.bin');
      await pullFile(r, { name: 'kept', tag: 'v1' }, out);
      assert.deepEqual(await readFile(out), await readFile(kept));
    });
  },
);

test('a push manifest cuts where the serial chunker cuts, and holds the SHA-256 of the whole file', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'content.bin');
    // Runs of repeated bytes among random ones: stretches with no cut point, cut at the maximum size.
    const content = Buffer.concat([
      randomBytes(3_000_000),
      Buffer.alloc(2_000_000, 7),
      randomBytes(1_234_567),
    ]);
    await writeFile(file, content);
    const serial = [];
    for await (const chunk of chunkStream(Readable.from([content]), CHUNKING))
      serial.push({ digest: chunk.digest, size: chunk.size });
    const manifest = await manifestOfFile(file, 'application/octet-stream', CHUNKING);
    assert.deepEqual(manifest.chunks, serial);
    assert.equal(manifest.size, content.length);
    assert.equal(manifest.sha256, await sha256(file));
  });
});

test('store check reads every image whole against its SHA-256, and names one listed with a false one', async () => {
  await withRepository({}, async (app, r, dir) => {
    const file = join(dir, 'content.bin');
    await writeFile(file, randomBytes(300_000));
    const pushed = await pushFile(r, file, { name: 'team-a/c', tag: 'v1' }, await artifactMetaOf(file));
    assert.deepEqual((await r.check()).wrongContent, []);
    // An image listed with a false SHA-256, as a commit before the check at commit could list one.
    const lie = 'e'.repeat(64);
    await kyselyOf(app.database)
      .updateTable('artifacts')
      .set({ sha256: lie })
      .where('digest', '=', pushed.image.digest)
      .execute();
    const report = await r.check();
    assert.equal(report.ok, false);
    assert.deepEqual(report.wrongContent, [
      { digest: pushed.image.digest, expected: lie, found: await sha256(file) },
    ]);
  });
});

test('artifacts stored before the catalog recorded their chunks are indexed when the repository opens', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    const file = join(dir, 'content.bin');
    await writeFile(file, randomBytes(300_000));
    let app = await LocalApp.openDataDir(data, { chunking: CHUNKING });
    await pushFile(app.as(ACTOR).images, file, { name: 'team-a/old', tag: 'v1' }, await artifactMetaOf(file));
    const indexed = async (): Promise<number> =>
      (await kyselyOf(app.database).selectFrom('artifact_chunks').selectAll().execute()).length;
    await kyselyOf(app.database).deleteFrom('artifact_chunks').execute();
    assert.equal(await indexed(), 0);
    await app.close();
    app = await LocalApp.openDataDir(data, { chunking: CHUNKING });
    try {
      assert.ok((await indexed()) > 0);
      const scoped = await pushFile(
        app.as({ ...ACTOR, readScopes: ['team-a/'] }).images,
        file,
        { name: 'team-a/new', tag: 'v1' },
        await artifactMetaOf(file),
      );
      assert.equal(scoped.uploadedChunks, 0);
    } finally {
      await app.close();
    }
  });
});

test('a check for scoped callers names only the problems of images within their scopes', async () => {
  await withRepository({}, async (app, r, dir) => {
    for (const name of ['team-a/x', 'team-b/y']) {
      const file = join(dir, `${name.replace('/', '-')}.bin`);
      await writeFile(file, randomBytes(200_000));
      await pushFile(r, file, { name, tag: 'v1' }, await artifactMetaOf(file));
    }
    const hidden = await r.getImage({ name: 'team-b/y', tag: 'v1' });
    const chunk =
      (
        await kyselyOf(app.database)
          .selectFrom('artifact_chunks')
          .select('chunk_digest')
          .where('artifact_digest', '=', hidden.digest)
          .executeTakeFirst()
      )?.chunk_digest ?? '';
    await writeFile(
      join(dir, 'data', 'blobs', 'chunks', chunk.slice(0, 2), chunk.slice(2, 4), chunk),
      'damaged',
    );
    const whole = await r.check();
    assert.equal(whole.ok, false);
    assert.deepEqual(whole.corruptChunks, [chunk]);
    assert.equal(whole.wrongContent.length, 1);
    const teamA = await app.as({ ...ACTOR, readScopes: ['team-a/'] }).images.check();
    assert.equal(teamA.ok, true);
    assert.deepEqual([teamA.corruptChunks, teamA.wrongContent], [[], []]);
    const teamB = await app.as({ ...ACTOR, readScopes: ['team-b/'] }).images.check();
    assert.deepEqual(teamB.corruptChunks, [chunk]);
    assert.equal(teamB.ok, false);
  });
});
