// The sparse copy used where fallocate --insert-range is not available, and BlockTarget on a file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyFileInto, openBlockTarget } from '../../src/io/block-target.ts';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { makeSample } from './helpers.ts';

const MiB = 1024 * 1024;

test('copyFileInto places a file at an offset, keeps its holes, and the bytes match', async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, 'part.img');
    await writeFile(source, new Uint8Array(0));
    await truncate(source, 64 * MiB);
    const data = new Uint8Array(3 * MiB + 5).map((_, i) => (i * 7) & 0xff);
    const handle = await openBlockTarget(source, 64 * MiB);
    await handle.write(10 * MiB + 3, data);
    await handle.close();

    const disk = join(dir, 'disk.raw');
    const target = await openBlockTarget(disk, 128 * MiB);
    const written = await copyFileInto(source, target, 32 * MiB);
    await target.close();
    assert.ok(written <= 5 * MiB, `wrote ${written} bytes for 3 MiB of data`);
    const info = await stat(disk);
    assert.equal(info.size, 128 * MiB);
    assert.ok(info.blocks * 512 <= 6 * MiB, 'the copy stays sparse');
    const bytes = await readFile(disk);
    assert.deepEqual(bytes.subarray(42 * MiB + 3, 42 * MiB + 3 + data.length), Buffer.from(data));
    assert.ok(bytes.subarray(0, 42 * MiB + 3).equals(Buffer.alloc(42 * MiB + 3)));
  });
});

const SHM = '/dev/shm';

test(
  'on a file system without insert-range (tmpfs) the disk is assembled by the sparse copy',
  { skip: existsSync(SHM) ? false : `${SHM} is absent` },
  async () => {
    await withTempDir(async (dir) => {
      const wim = await makeSample(dir);
      const shmDir = await mkdtemp(join(SHM, 'winsmith-disk-'));
      try {
        const disk = join(shmDir, 'disk.raw');
        const made = await runWinsmith(['disk', wim, '-o', disk, '--size', '400M']);
        assert.equal(made.code, 0, made.stderr);
        assert.ok((await stat(disk)).blocks * 512 < 64 * MiB, 'sparse');
        assert.deepEqual(await readdir(shmDir), ['disk.raw']);
        const check = await runWinsmith(['disk', 'verify', disk]);
        assert.equal(check.code, 0, check.stdout + check.stderr);
      } finally {
        await rm(shmDir, { recursive: true, force: true });
      }
    });
  },
);
