// The image served on the agent's Unix socket (ranges, HEAD, refusals, a corrupt chunk cutting the
// answer), and mounted through nbdkit's curl plugin and nbdfuse as a file that reads the same bytes
// as the image, unmounted without a trace.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageChunks, type ChunkFetcher } from '../../src/agent/image-chunks.ts';
import { serveImage } from '../../src/agent/image-server.ts';
import { openImageStream } from '../../src/agent/image-stream.ts';
import { withTempDir } from '../../src/io/output.ts';
import { chunkBytes } from '../../src/store/chunker.ts';
import { sha256Hex, type Manifest } from '../../src/store/manifest.ts';
import { run } from '../disk/helpers.ts';
import { SMALL_CHUNKS, streamingUnavailable } from './agent-fixture.ts';

const skip = await streamingUnavailable();

function imageOf(bytes: Uint8Array, corrupt?: number): ImageChunks {
  const chunks = [...chunkBytes(bytes, SMALL_CHUNKS)];
  const manifest: Manifest = {
    schemaVersion: 1,
    mediaType: 'application/octet-stream',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    chunks: chunks.map(({ digest, size }) => ({ digest, size })),
  };
  const fetcher: ChunkFetcher = (_chunk, index) => {
    const copy = new Uint8Array(chunks[index]?.bytes ?? new Uint8Array(0));
    if (index === corrupt) copy[0] = (copy[0] ?? 0) ^ 0xff;
    return Promise.resolve(copy);
  };
  return new ImageChunks(manifest, fetcher);
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly aborted: boolean;
}

function ask(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      let aborted = false;
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts),
          aborted: aborted || !res.complete,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('the image over the Unix socket: ranges, HEAD, the whole, and what is refused', async () => {
  await withTempDir(async (dir) => {
    const bytes = randomBytes(1024 * 1024 + 12345);
    const server = await serveImage(imageOf(bytes), join(dir, 'image.sock'));
    try {
      const range = await ask(server.socketPath, 'GET', '/image', { range: 'bytes=100000-300000' });
      assert.equal(range.status, 206);
      assert.equal(range.headers['content-range'], `bytes 100000-300000/${bytes.length}`);
      assert.equal(range.headers['accept-ranges'], 'bytes');
      assert.deepEqual(range.body, bytes.subarray(100000, 300001));
      const suffix = await ask(server.socketPath, 'GET', '/image', { range: 'bytes=-10' });
      assert.deepEqual(suffix.body, bytes.subarray(bytes.length - 10));
      const head = await ask(server.socketPath, 'HEAD', '/image');
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(bytes.length));
      assert.equal(head.body.length, 0);
      const whole = await ask(server.socketPath, 'GET', '/image');
      assert.deepEqual(whole.body, bytes);
      const past = await ask(server.socketPath, 'GET', '/image', { range: `bytes=${bytes.length}-` });
      assert.equal(past.status, 416);
      assert.equal(past.headers['content-range'], `bytes */${bytes.length}`);
      assert.equal((await ask(server.socketPath, 'GET', '/other')).status, 404);
      assert.equal((await ask(server.socketPath, 'POST', '/image')).status, 405);
    } finally {
      await server.close();
    }
  });
});

test('a corrupt chunk cuts the answer that needs it; the image keeps the reason', async () => {
  await withTempDir(async (dir) => {
    const bytes = randomBytes(512 * 1024);
    const image = imageOf(bytes, 3);
    const server = await serveImage(image, join(dir, 'image.sock'));
    try {
      const answer = await ask(server.socketPath, 'GET', '/image');
      assert.equal(answer.status, 200);
      assert.ok(answer.aborted, 'the answer ended as if whole');
      assert.ok(answer.body.length < bytes.length);
      assert.match(image.failure?.message ?? '', /^chunk 3 \(/);
    } finally {
      await server.close();
    }
  });
});

test(
  'the mounted image reads as the image, and unmounts without a trace',
  { skip: skip ?? false },
  async () => {
    await withTempDir(async (dir) => {
      const bytes = randomBytes(3 * 1024 * 1024 + 777);
      const original = join(dir, 'original.bin');
      await writeFile(original, bytes);
      const stream = await openImageStream(imageOf(bytes), dir);
      const mounted = stream.path;
      try {
        assert.ok((await readFile('/proc/mounts', 'utf8')).includes(mounted));
        await run('cmp', [mounted, original]);
      } finally {
        await stream.close();
      }
      assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(mounted));
    });
  },
);
