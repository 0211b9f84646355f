// The image served over NBD on the agent's Unix socket, read by libnbd's own tools (its size, read-
// only, every byte; a corrupt chunk failing the reads that need it), and mounted by nbdfuse as a
// file that reads the same bytes as the image, unmounted without a trace — also when the process
// that mounted it is killed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ImageChunks, type ChunkFetcher } from '../../src/agent/image-chunks.ts';
import { openNbdFile, serveNbd } from '../../src/io/nbd-file.ts';
import { runProgram } from '../../src/engines/run.ts';
import { withTempDir } from '../../src/io/output.ts';
import { chunkBytes } from '../../src/store/chunker.ts';
import { sha256Hex, type Manifest } from '../../src/store/manifest.ts';
import { run } from '../disk/helpers.ts';
import { SMALL_CHUNKS } from '../helpers/deploy-server.ts';
import { streamingUnavailable } from './agent-fixture.ts';

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

test('the image over NBD on the Unix socket, as libnbd reads it: size, read-only, every byte', async () => {
  await withTempDir(async (dir) => {
    const bytes = randomBytes(1024 * 1024 + 12345);
    const server = await serveNbd(imageOf(bytes), join(dir, 'image.sock'));
    const uri = `nbd+unix:///?socket=${server.socketPath}`;
    try {
      const info = JSON.parse((await runProgram('nbdinfo', ['--json', uri])).stdout.toString()) as {
        exports: { 'export-size': number; is_read_only: boolean }[];
      };
      const [exported] = info.exports;
      assert.ok(exported !== undefined);
      assert.equal(exported['export-size'], bytes.length);
      assert.equal(exported.is_read_only, true);
      const copy = join(dir, 'copy.bin');
      await runProgram('nbdcopy', [uri, copy]);
      assert.deepEqual(await readFile(copy), bytes);
    } finally {
      await server.close();
    }
  });
});

test('a corrupt chunk fails the reads that need it with EIO; the image keeps the reason', async () => {
  await withTempDir(async (dir) => {
    const bytes = randomBytes(512 * 1024);
    const image = imageOf(bytes, 3);
    const server = await serveNbd(image, join(dir, 'image.sock'));
    try {
      await assert.rejects(
        runProgram('nbdcopy', [`nbd+unix:///?socket=${server.socketPath}`, join(dir, 'copy.bin')]),
        /Input\/output error/,
      );
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
      const stream = await openNbdFile(imageOf(bytes), dir, 'image.wim');
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

test(
  'the mount goes when the process that made it is killed (nbdfuse has a parent-death signal)',
  { skip: skip ?? false, timeout: 60_000 },
  async () => {
    await withTempDir(async (dir) => {
      const holder = spawn(
        process.execPath,
        [fileURLToPath(new URL('./stream-holder.ts', import.meta.url)), dir],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let mounted = '';
      for await (const piece of holder.stdout as AsyncIterable<Buffer>) {
        mounted += piece.toString();
        if (mounted.endsWith('\n')) break;
      }
      mounted = mounted.trim();
      assert.ok((await readFile('/proc/mounts', 'utf8')).includes(mounted), 'mounted while it runs');
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
      const deadline = Date.now() + 10_000;
      while ((await readFile('/proc/mounts', 'utf8')).includes(mounted) && Date.now() < deadline) {
        await sleep(100);
      }
      assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(mounted), 'unmounted after the kill');
    });
  },
);
