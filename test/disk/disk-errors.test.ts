// Bad input to `winsmith disk`: a clear one-line error, and nothing left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { makeSample, run } from './helpers.ts';

async function expectCleanFailure(dir: string, args: string[], pattern: RegExp): Promise<void> {
  const before = await readdir(dir);
  const result = await runWinsmith(args);
  assert.ok(isCleanFailure(result), `${args.join(' ')}\n${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.deepEqual(await readdir(dir), before, 'no output or scratch file is left behind');
}

test('bad input fails clearly and leaves no output', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const out = join(dir, 'out.raw');

    await expectCleanFailure(dir, ['disk', `${wim}:2`, '-o', out], /has no image 2; it holds 1/);
    await expectCleanFailure(
      dir,
      ['disk', wim, '-o', out, '--size', '100M'],
      /--size 100 MiB is smaller than the \d+ MiB this disk needs.*give --size \d+M or more/,
    );

    const layout = join(dir, 'layout.yaml');
    await writeFile(
      layout,
      'partitions:\n  - role: esp\n    size: 300M\n  - role: windows\n    sise: rest\n',
    );
    await expectCleanFailure(
      dir,
      ['disk', wim, '-o', out, '--layout', layout],
      /layout\.yaml:5:5: unknown key "sise"/,
    );
    await writeFile(layout, 'partitions:\n  - role: esp\n    size: 300M\n  - role: windows\ncolour: blue\n');
    await expectCleanFailure(
      dir,
      ['disk', wim, '-o', out, '--layout', layout],
      /layout\.yaml:5:1: unknown key "colour"/,
    );

    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'Windows', 'System32'), { recursive: true });
    await writeFile(join(tree, 'Windows', 'System32', 'notepad.exe'), 'MZ');
    const data = join(dir, 'data.wim');
    await run('wimcapture', [tree, data, 'Data']);
    await expectCleanFailure(dir, ['disk', data, '-o', out], /has no Windows\\Boot directory/);
    await expectCleanFailure(dir, ['disk', wim, '-o', join(dir, 'out.iso')], /cannot tell the disk format/);
  });
});

test('a failure half-way through (a corrupt file in the WIM) leaves no partial output', async () => {
  await withTempDir(async (dir) => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'Windows', 'Boot', 'EFI'), { recursive: true });
    await writeFile(join(tree, 'Windows', 'Boot', 'EFI', 'bootmgfw.efi'), 'MZ boot manager');
    await writeFile(join(tree, 'Windows', 'big.bin'), 'Z'.repeat(1024 * 1024));
    const wim = join(dir, 'corrupt.wim');
    await run('wimcapture', [tree, wim, 'Corrupt', '--compress=none']);
    const bytes = await readFile(wim);
    const at = bytes.indexOf('Z'.repeat(4096));
    assert.ok(at > 0);
    bytes[at + 100] = 0x41;
    await writeFile(wim, bytes);
    const out = join(dir, 'out.qcow2');
    const result = await runWinsmith(['disk', wim, '-o', out, '--size', '400M']);
    assert.ok(isCleanFailure(result), result.stderr);
    assert.ok(!(await readdir(dir)).some((name) => name.includes('out.qcow2')), 'no partial output');
  });
});

test('disk verify on a file that is not a disk answers bootable: NO with the reason, exit 1', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a disk\n');
    const zeros = join(dir, 'zeros.img');
    await writeFile(zeros, new Uint8Array(1024 * 1024));
    for (const file of [wim, text, zeros]) {
      const verify = await runWinsmith(['disk', 'verify', file]);
      assert.equal(verify.code, 1, `${file}: ${verify.stderr}`);
      assert.equal(verify.stderr, '');
      assert.match(verify.stdout, /table: +none/);
      assert.match(verify.stdout, /bootable: NO\n- it is not a disk image with a partition table: /);
      const json = await runWinsmith(['disk', 'verify', file, '--json']);
      const report = JSON.parse(json.stdout) as { bootable: boolean; problems: string[] };
      assert.equal(report.bootable, false);
      assert.equal(report.problems.length, 1);
    }
    const missing = await runWinsmith(['disk', 'verify', join(dir, 'none.raw')]);
    assert.ok(isCleanFailure(missing), missing.stderr);
    assert.equal(missing.code, 3);
  });
});
