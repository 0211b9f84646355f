// An interrupted pull resumes from what it wrote: the partial file beside the output is checked
// chunk by chunk against the image's manifest, the chunks that match are kept, and only the rest
// is asked of the repository.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { partialPathOf, pullFile, pushFile } from '../../src/app/transfer.ts';
import { AppError } from '../../src/core/errors.ts';
import { withTempDir } from '../../src/io/output.ts';
import type { ByteRange, Repository } from '../../src/store/repository.ts';

const CHUNKING = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
const REF = { name: 'lab/resume', tag: 'v1' };

/** A repository holding REF (4 MiB of random bytes), and the ranges pulls asked of it. */
async function withImage(
  fn: (repo: Repository, bytes: Buffer, dir: string, asked: ByteRange[]) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const app = await LocalApp.openDataDir(join(dir, 'data'), { chunking: CHUNKING });
    try {
      const images = app.as({ user: 'tester', client: 'test' }).images;
      const bytes = randomBytes(4 * 1024 * 1024);
      await writeFile(join(dir, 'image.bin'), bytes);
      await pushFile(images, join(dir, 'image.bin'), REF, await artifactMetaOf(join(dir, 'image.bin')));
      const asked: ByteRange[] = [];
      const counting: Repository = {
        ...images,
        location: images.location,
        readContent(ref, digest, range) {
          if (range !== undefined) asked.push(range);
          return images.readContent(ref, digest, range);
        },
      };
      await fn(counting, bytes, dir, asked);
    } finally {
      await app.close();
    }
  });
}

test('a partial download is checked chunk by chunk: what matches is kept, only the rest is downloaded', async () => {
  await withImage(async (repo, bytes, dir, asked) => {
    const out = join(dir, 'out.bin');
    // What a pull stopped half-way left: the first 2.5 MiB, then a torn write.
    await writeFile(
      partialPathOf(out),
      Buffer.concat([bytes.subarray(0, 2.5 * 1024 * 1024), randomBytes(1000)]),
    );
    const result = await pullFile(repo, REF, out);
    assert.ok(
      result.resumedFrom > 2 * 1024 * 1024 && result.resumedFrom <= 2.5 * 1024 * 1024,
      String(result.resumedFrom),
    );
    assert.deepEqual(asked, [{ start: result.resumedFrom, end: bytes.length - 1 }]);
    assert.ok((await readFile(out)).equals(bytes));
    assert.deepEqual(await readdir(dir).then((n) => n.filter((x) => x.includes('out'))), ['out.bin']);
  });
});

test('a partial file whose first chunk does not match is downloaded again from zero', async () => {
  await withImage(async (repo, bytes, dir, asked) => {
    const out = join(dir, 'out.bin');
    const damaged = Buffer.from(bytes.subarray(0, 3 * 1024 * 1024));
    damaged[100] = (damaged[100] ?? 0) ^ 0xff;
    await writeFile(partialPathOf(out), damaged);
    const result = await pullFile(repo, REF, out);
    assert.equal(result.resumedFrom, 0);
    assert.deepEqual(asked, [{ start: 0, end: bytes.length - 1 }]);
    assert.ok((await readFile(out)).equals(bytes));
  });
});

test('a pull that fails part-way keeps what it wrote, and the next one resumes from it', async () => {
  await withImage(async (repo, bytes, dir, asked) => {
    const out = join(dir, 'out.bin');
    const failing: Repository = {
      ...repo,
      location: repo.location,
      async readContent(ref, digest, range) {
        const content = await repo.readContent(ref, digest, range);
        async function* cut(): AsyncGenerator<Buffer> {
          let sent = 0;
          for await (const piece of content.stream as AsyncIterable<Buffer>) {
            yield piece;
            sent += piece.length;
            if (sent >= 1024 * 1024) throw new AppError('CONFLICT', 'the tag moved');
          }
        }
        return { ...content, stream: Readable.from(cut()) };
      },
    };
    await assert.rejects(pullFile(failing, REF, out), /the tag moved/);
    await assert.rejects(stat(out));
    const kept = (await stat(partialPathOf(out))).size;
    assert.ok(kept >= 1024 * 1024, String(kept));
    asked.length = 0;
    const result = await pullFile(repo, REF, out);
    assert.ok(result.resumedFrom > 0 && result.resumedFrom <= kept);
    assert.equal(asked[0]?.start, result.resumedFrom);
    assert.ok((await readFile(out)).equals(bytes));
    await assert.rejects(stat(partialPathOf(out)));
  });
});

test('an existing output is refused before anything is downloaded, and --force replaces it', async () => {
  await withImage(async (repo, bytes, dir, asked) => {
    const out = join(dir, 'out.bin');
    await writeFile(out, 'old');
    await assert.rejects(pullFile(repo, REF, out), /already exists/);
    assert.deepEqual(asked, []);
    await pullFile(repo, REF, out, { overwrite: true });
    assert.ok((await readFile(out)).equals(bytes));
  });
});
