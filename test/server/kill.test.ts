// kill -9 of the real `winsmith server` process at 20 random points of a push (inside chunk
// uploads, between them, just before the commit): after each restart `store check` passes, no
// half-pushed image is listed, and the push resumes sending only what is missing; at the end it
// completes and pulls back identical bytes. Small image (3 MiB) and small chunks (config) keep it fast.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { pullFile, pushFile, type PushTarget } from '../../src/app/transfer.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import { loginRemote } from '../../src/app/remote/http-client.ts';
import { remoteSession } from '../../src/app/remote/remote-session.ts';

const KILLS = 20;
const SIZE = 3 * 1024 * 1024;

/** A repository whose upload kills the server once `killAt` bytes of chunks have been sent. */
function killing(
  inner: PushTarget,
  server: ServerProcess,
  killAt: number,
  sent: { bytes: number; chunks: number },
): PushTarget {
  let killed = false;
  const kill = (): void => {
    if (!killed) server.child.kill('SIGKILL');
    killed = true;
  };
  return {
    location: inner.location,
    chunking: () => inner.chunking(),
    beginUpload: (ref, manifest) => inner.beginUpload(ref, manifest),
    async putChunk(id, digest, bytes) {
      const before = sent.bytes;
      sent.bytes += bytes.length;
      sent.chunks++;
      if (killAt < before) kill();
      const request = inner.putChunk(id, digest, bytes);
      if (killAt >= before && killAt < sent.bytes) setImmediate(kill);
      await request;
    },
    async commitUpload(id, meta) {
      if (killAt >= SIZE) kill();
      return inner.commitUpload(id, meta);
    },
  };
}

test(
  `kill -9 of the server at ${KILLS} points during a push: check passes, nothing half-pushed listed, push resumes`,
  { timeout: 420_000 },
  async () => {
    await withTempDir(async (dir) => {
      const started = Date.now();
      const config = join(dir, 'server.yaml');
      await writeFile(
        config,
        [
          'data: ./data',
          'listen: 127.0.0.1:0',
          'chunking: { minSize: 4096, avgSize: 16384, maxSize: 65536 }',
          '',
        ].join('\n'),
      );
      const file = join(dir, 'image.bin');
      const content = randomBytes(SIZE);
      await writeFile(file, content);
      const log: string[] = [];
      let server = await startServerProcess(config, log);
      const password = server.adminPassword;
      assert.ok(password !== null, 'the first start writes the admin password to its file');
      assert.ok(
        !log.some((l) => l.startsWith('{') && l.includes(password)),
        'the password is not in the JSON log',
      );
      const { token } = await loginRemote(server.url, 'admin', password);
      const ref = { name: 'team-a/killed', tag: 'v1' };
      const points = Array.from({ length: KILLS }, (_, i) =>
        i === KILLS - 1 ? SIZE : Math.floor(Math.random() * SIZE),
      ).sort((a, b) => a - b);
      const sent = { bytes: 0, chunks: 0 };
      let attempts = 0;
      for (const point of points) {
        attempts++;
        const remote = remoteSession(server.url, token).images;
        const repo = killing(remote, server, point, sent);
        const result = await pushFile(repo, file, ref, DEFAULT_META).then(
          () => 'completed',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        await server.exited;
        server = await startServerProcess(config, log);
        const after = remoteSession(server.url, token).images;
        const check = await after.check();
        assert.equal(check.ok, true, `store check after a kill at byte ${point}: ${JSON.stringify(check)}`);
        const listed = await after.listImages();
        if (result !== 'completed')
          assert.deepEqual(listed, [], `a push killed at byte ${point} (${result}) is not listed`);
        if (listed.length > 0) break;
      }
      const remote = remoteSession(server.url, token).images;
      const final = await pushFile(remote, file, ref, DEFAULT_META);
      const chunkCount = final.chunks;
      assert.ok(
        sent.chunks + final.uploadedChunks <= chunkCount + attempts * 2,
        `resumed pushes sent ${sent.chunks + final.uploadedChunks} chunks for ${chunkCount} (${attempts} kills)`,
      );
      const out = join(dir, 'pulled.bin');
      await pullFile(remote, ref, out);
      assert.equal(
        createHash('sha256')
          .update(await readFile(out))
          .digest('hex'),
        createHash('sha256').update(content).digest('hex'),
      );
      assert.equal((await remote.check()).ok, true);
      assert.ok(attempts >= 20, `${attempts} kills`);
      server.child.kill('SIGTERM');
      await server.exited;
      process.stderr.write(
        `# kill test: ${attempts} kills, ${chunkCount} chunks, ${Date.now() - started} ms\n`,
      );
    });
  },
);
