// qcow2 and vhdx outputs: clean by qemu-img check, the right format, the same disk inside as the
// raw they are converted from, and bootable by `disk verify`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { convertFromRaw } from '../../src/engines/qemu-img.ts';
import { buildDiskImage } from '../../src/image/disk/build.ts';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { makeSample, run } from './helpers.ts';

const SIZE = 400 * 1024 * 1024;

test('qcow2 and vhdx disks check clean, have the right format and boot', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    for (const format of ['qcow2', 'vhdx'] as const) {
      const disk = join(dir, `disk.${format}`);
      const made = await runWinsmith(['disk', wim, '-o', disk, '--size', '400M']);
      assert.equal(made.code, 0, made.stderr);
      await run('qemu-img', ['check', '-f', format, disk]);
      const info = JSON.parse(await run('qemu-img', ['info', '--output=json', disk])) as {
        format: string;
        'virtual-size': number;
      };
      assert.equal(info.format, format);
      assert.equal(info['virtual-size'], SIZE);
      const allocated = (await stat(disk)).blocks * 512;
      assert.ok(allocated < 64 * 1024 * 1024, `${format} takes ${allocated} bytes: not sparse`);
      const raw = join(dir, `back-from-${format}.raw`);
      await run('qemu-img', ['convert', '-O', 'raw', disk, raw]);
      assert.match(await run('sgdisk', ['-v', raw]), /No problems found/);
      const verify = await runWinsmith(['disk', 'verify', disk, '--json']);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.equal((JSON.parse(verify.stdout) as { format: string }).format, format);
    }
  });
});

test('the raw disk inside a converted qcow2 and vhdx is the raw output, byte for byte', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const raw = join(dir, 'disk.raw');
    await buildDiskImage({ source: wim, output: raw, format: 'raw', firmware: 'uefi', size: SIZE });
    for (const format of ['qcow2', 'vhdx'] as const) {
      const converted = join(dir, `disk.${format}`);
      await convertFromRaw(raw, converted, format);
      const compared = await run('qemu-img', ['compare', '-f', 'raw', '-F', format, raw, converted]);
      assert.match(compared, /Images are identical/);
    }
  });
});
