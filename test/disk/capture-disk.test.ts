// `image capture` of a whole disk image: the Windows partition of a qcow2 (UEFI, GPT) and of a raw
// disk (BIOS, MBR) made by `winsmith disk` is found and captured, with the same file tree as the
// image the disk was made from; a named partition that is not there, and a disk without Windows,
// are refused with the partitions listed; an NTFS volume file is still captured as a volume.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { extractPartition, makeSample, run, wimTree } from './helpers.ts';

test('the Windows partition of a disk image is captured with the tree of the image it holds', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const want = await wimTree(wim, 1);
    for (const [firmware, format] of [
      ['uefi', 'qcow2'],
      ['bios', 'raw'],
    ] as const) {
      const disk = join(dir, `disk-${firmware}.${format}`);
      const made = await runWinsmith(['disk', wim, '-o', disk, '--size', '400M', '--firmware', firmware]);
      assert.equal(made.code, 0, made.stderr);
      const out = join(dir, `captured-${firmware}.wim`);
      const captured = await runWinsmith(['image', 'capture', disk, out, '--name', 'back', '--json']);
      assert.equal(captured.code, 0, captured.stderr);
      const data = JSON.parse(captured.stdout) as { partition: number };
      assert.equal(data.partition, firmware === 'uefi' ? 3 : 2);
      assert.deepEqual(await wimTree(out, 1), want);
    }
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.')),
      [],
      'no scratch left beside the outputs',
    );
  });
});

test('a partition that is not there, and a disk with no Windows, are refused listing the partitions', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'disk.qcow2');
    assert.equal((await runWinsmith(['disk', wim, '-o', disk, '--size', '400M'])).code, 0);
    const missing = await runWinsmith([
      'image',
      'capture',
      disk,
      join(dir, 'a.wim'),
      '--name',
      'a',
      '--partition',
      '9',
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /has no partition 9; its partitions: 1 \(.*\), 2 \(.*\), 3 \(.*\)/);
    const bad = await runWinsmith([
      'image',
      'capture',
      disk,
      join(dir, 'b.wim'),
      '--name',
      'b',
      '--partition',
      'x',
    ]);
    assert.match(bad.stderr, /--partition must be a partition number from 1 to 128, found "x"/);

    const empty = join(dir, 'empty.raw');
    await run('qemu-img', ['create', '-f', 'raw', empty, '64M']);
    await run('sgdisk', ['-n', '1:2048:+32M', '-t', '1:0700', empty]);
    const volume = join(dir, 'data.img');
    await run('qemu-img', ['create', '-f', 'raw', volume, '32M']);
    await run('mkntfs', ['-q', '-F', '-Q', volume]);
    await run('dd', [`if=${volume}`, `of=${empty}`, 'bs=512', 'seek=2048', 'conv=notrunc', 'status=none']);
    const none = await runWinsmith(['image', 'capture', empty, join(dir, 'c.wim'), '--name', 'c']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no partition of .*empty\.raw holds Windows .*its partitions: 1 \(/);
    assert.match(none.stderr, /--partition N/);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.wim')).sort(),
      ['sample.wim'],
      'no output written',
    );
  });
});

test('an NTFS volume file is captured as a volume, as before', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'disk.raw');
    assert.equal((await runWinsmith(['disk', wim, '-o', disk, '--size', '400M'])).code, 0);
    const verified = await runWinsmith(['disk', 'verify', disk, '--json']);
    const { partitions } = JSON.parse(verified.stdout) as {
      partitions: { number: number; firstLba: number; sectorCount: number }[];
    };
    const windows = partitions.find((p) => p.number === 3);
    assert.ok(windows);
    const volume = await extractPartition(
      disk,
      windows.firstLba * 512,
      windows.sectorCount * 512,
      join(dir, 'windows.img'),
    );
    const out = join(dir, 'volume.wim');
    const captured = await runWinsmith(['image', 'capture', volume, out, '--name', 'v', '--json']);
    assert.equal(captured.code, 0, captured.stderr);
    assert.equal((JSON.parse(captured.stdout) as { partition?: number }).partition, undefined);
    assert.deepEqual(await wimTree(out, 1), await wimTree(wim, 1));
  });
});

test('--push stores the Windows partition straight into a repository, the tree of the image it holds', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'disk.qcow2');
    assert.equal((await runWinsmith(['disk', wim, '-o', disk, '--size', '400M'])).code, 0);
    const repo = join(dir, 'data');
    const capture = (ref: string, ...more: string[]) =>
      runWinsmith([
        'image',
        'capture',
        disk,
        '--push',
        ref,
        '--repo',
        repo,
        '--name',
        'back',
        '--json',
        ...more,
      ]);

    const stored = await capture('lab/back:v1', '--init');
    assert.equal(stored.code, 0, stored.stderr);
    const data = JSON.parse(stored.stdout) as {
      partition: number;
      image: { mediaType: string; editions: { name: string }[] };
    };
    assert.equal(data.partition, 3);
    assert.equal(data.image.mediaType, 'application/x-wim');
    assert.deepEqual(
      data.image.editions.map((e) => e.name),
      ['back'],
      'editions read from the stored bytes',
    );
    const back = join(dir, 'back.wim');
    const pulled = await runWinsmith(['pull', 'lab/back:v1', '-o', back, '--repo', repo]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await wimTree(back, 1), await wimTree(wim, 1));

    // The ESP is FAT: wimlib fails half-way and nothing is recorded.
    const failed = await capture('lab/back:esp', '--partition', '1');
    assert.notEqual(failed.code, 0);
    const images = await runWinsmith(['images', '--repo', repo, '--json']);
    assert.deepEqual(
      (JSON.parse(images.stdout) as { tag: string }[]).map((i) => i.tag),
      ['v1'],
      'the failed capture is not listed',
    );

    const both = await runWinsmith([
      'image',
      'capture',
      disk,
      join(dir, 'x.wim'),
      '--push',
      'lab/x:1',
      '--name',
      'x',
    ]);
    assert.match(both.stderr, /both OUT .* and --push were given/);
    const neither = await runWinsmith(['image', 'capture', disk, '--name', 'x']);
    assert.match(neither.stderr, /no OUT\.wim and no --push NAME:TAG/);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.') || n === 'x.wim'),
      [],
      'no scratch left beside the disk, no WIM written',
    );
  });
});
