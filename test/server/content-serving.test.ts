// Serving an image's bytes from a filesystem store: Content.writeTo (chunk files read into two
// reused buffers, src/store/chunk-files-writer.ts) gives exactly the bytes asked for, never hands a
// buffer back before the destination is done with it, and fails on a missing or resized chunk
// file; over a real socket the GET gives exact bodies and ranges, and a broken store cuts the body
// short instead of sending wrong bytes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { isAppError } from '../../src/core/errors.ts';
import { withTempDir } from '../../src/io/output.ts';
import { createApp } from '../../src/server/app.ts';
import { EventHub } from '../../src/app/events.ts';
import { silentLogger } from '../../src/server/log.ts';
import { startServer } from '../../src/server/server.ts';
import { SEND_BUFFER_BYTES } from '../../src/store/chunk-files-writer.ts';
import { pushFile } from '../../src/app/transfer.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import { LocalApp } from '../../src/app/local-app.ts';

const ACTOR = { user: 'setup', client: 'test' };
const REF = { name: 'team/img', tag: 'v1' };
/** Small chunks, so one send buffer spans several chunk files. */
const CHUNKING = { minSize: 64 * 1024, avgSize: 256 * 1024, maxSize: 1024 * 1024 };
const SIZE = 3 * SEND_BUFFER_BYTES + 12_345;

interface Fixture {
  readonly dir: string;
  readonly repo: LocalApp;
  readonly bytes: Buffer;
  readonly digest: string;
}

async function withImage(fn: (f: Fixture) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const bytes = randomBytes(SIZE);
    const file = join(dir, 'image.bin');
    await writeFile(file, bytes);
    const repo = await LocalApp.openDataDir(join(dir, 'data'), { chunking: CHUNKING });
    try {
      const { image } = await pushFile(repo.as(ACTOR).images, file, REF, DEFAULT_META);
      await fn({ dir, repo, bytes, digest: image.digest });
    } finally {
      await repo.close();
    }
  });
}

/**
 * A destination that takes each piece only when it calls back, a little later: if the writer
 * refilled a buffer before that, the copy taken here would hold the wrong bytes.
 */
function slowSink(): { sink: Writable; received: () => Buffer } {
  const pieces: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1024,
    write(piece: Buffer, _encoding, done) {
      setTimeout(() => {
        pieces.push(Buffer.from(piece));
        done();
      }, 2);
    },
  });
  return { sink, received: () => Buffer.concat(pieces) };
}

async function chunkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, 'data', 'blobs', 'chunks'), {
    recursive: true,
    withFileTypes: true,
  });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('writeTo gives exactly the bytes of any range, each buffer taken before it is reused', async () => {
  await withImage(async ({ repo, bytes, digest }) => {
    const whole = slowSink();
    await (await repo.as(ACTOR).images.readContent(REF, digest)).writeTo(whole.sink);
    assert.ok(whole.received().equals(bytes));
    await fc.assert(
      fc.asyncProperty(fc.nat(SIZE - 1), fc.nat(SIZE - 1), async (a, b) => {
        const range = { start: Math.min(a, b), end: Math.max(a, b) };
        const { sink, received } = slowSink();
        const content = await repo.as(ACTOR).images.readContent(REF, digest, range);
        assert.equal(content.size, range.end - range.start + 1);
        await content.writeTo(sink);
        assert.ok(received().equals(bytes.subarray(range.start, range.end + 1)));
      }),
      { numRuns: 25, seed: 4242 },
    );
  });
});

test('writeTo fails on a missing chunk file (NOT_FOUND) and on a resized one (FORMAT_INVALID)', async () => {
  await withImage(async ({ dir, repo, digest }) => {
    const files = await chunkFiles(dir);
    assert.ok(files.length >= 6, `${files.length} chunks`);
    await truncate(files[2] ?? '', 1000);
    await assert.rejects(
      (await repo.as(ACTOR).images.readContent(REF, digest)).writeTo(slowSink().sink),
      (e: unknown) => isAppError(e) && e.code === 'FORMAT_INVALID',
    );
    await rm(files[2] ?? '');
    await assert.rejects(
      (await repo.as(ACTOR).images.readContent(REF, digest)).writeTo(slowSink().sink),
      (e: unknown) => isAppError(e) && e.code === 'NOT_FOUND',
    );
  });
});

test('over a socket: exact bodies and ranges; a broken store cuts the body short', async () => {
  await withImage(async ({ dir, repo, bytes }) => {
    await repo.as(ACTOR).accounts.addUser({ name: 'reader', role: 'viewer', scopes: [] });
    const { token } = await issueToken(new AccountStore(repo.database), { userName: 'reader', name: 't' });
    const { app } = createApp({ backend: repo, events: new EventHub(), logger: silentLogger, version: '0' });
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      fetch: app.fetch,
      logger: silentLogger,
      services: [],
    });
    try {
      const url = `${server.url}/api/v1/images/team%2Fimg/tags/v1/content`;
      const get = (headers: Record<string, string> = {}): Promise<Response> =>
        fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
      const full = await get();
      assert.equal(full.status, 200);
      assert.equal(full.headers.get('content-length'), String(SIZE));
      assert.ok(Buffer.from(await full.arrayBuffer()).equals(bytes));
      for (const [start, end] of [
        [0, 0],
        [SEND_BUFFER_BYTES - 1, SEND_BUFFER_BYTES + 1],
        [5, SIZE - 1],
      ] as const) {
        const part = await get({ range: `bytes=${start}-${end}` });
        assert.equal(part.status, 206);
        assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(start, end + 1)));
      }
      await rm((await chunkFiles(dir)).at(-1) ?? '');
      // The body is cut short: fetch fails on reading it, or at once when the cut reaches the
      // client with the headers.
      await assert.rejects(async () => {
        const broken = await get();
        assert.equal(broken.status, 200);
        await broken.arrayBuffer();
      }, TypeError);
    } finally {
      await server.close();
    }
  });
});
