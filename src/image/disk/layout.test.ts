import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { AppError } from '../../core/errors.ts';
import { withTempDir } from '../../io/output.ts';
import { DEFAULT_LAYOUTS, minimumDiskSize, planDisk, readLayoutFile, type DiskLayout } from './layout.ts';
import { formatSize, GiB, MiB, parseSize } from './size.ts';

const identity = {
  diskGuid: '0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10',
  diskSignature: 0x1234abcd,
  partitionGuids: [
    '11111111-1111-4111-8111-111111111111',
    '22222222-2222-4222-8222-222222222222',
    '33333333-3333-4333-8333-333333333333',
    '44444444-4444-4444-8444-444444444444',
  ],
};

test('formatSize writes whole and tenth GiB without decimals to spare, then MiB', () => {
  assert.deepEqual([16 * GiB, 1.5 * GiB, 40 * GiB + 1, 300 * MiB, 1000].map(formatSize), [
    '16 GiB',
    '1.5 GiB',
    '40.00 GiB',
    '300 MiB',
    '1000 bytes',
  ]);
});

test('parseSize reads bytes and K/M/G/T, and refuses anything else', () => {
  assert.equal(parseSize('40G'), 40 * GiB);
  assert.equal(parseSize('512M'), 512 * MiB);
  assert.equal(parseSize('1.5GiB'), 1.5 * GiB);
  assert.equal(parseSize('4096'), 4096);
  for (const bad of ['', '40X', '-1G', '0', 'G']) assert.throws(() => parseSize(bad), AppError, bad);
});

test('the default UEFI layout: ESP 260 MiB at 1 MiB, MSR 16 MiB, Windows the rest, all 1 MiB aligned', () => {
  const plan = planDisk(DEFAULT_LAYOUTS.uefi, 40 * GiB, identity);
  assert.deepEqual(
    plan.partitions.map((p) => [p.role, p.offset / MiB, p.size / MiB]),
    [
      ['esp', 1, 260],
      ['msr', 261, 16],
      ['windows', 277, 40 * 1024 - 277 - 1],
    ],
  );
  assert.equal(plan.partitions[2]?.uniqueGuid, identity.partitionGuids[2]);
});

test('any disk at least the minimum size takes the layout, aligned and without overlap', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<DiskLayout>(DEFAULT_LAYOUTS.uefi, DEFAULT_LAYOUTS.bios),
      fc.integer({ min: 0, max: 100 * GiB }),
      fc.integer({ min: 1, max: 4 * GiB }),
      (layout, extra, windowsBytes) => {
        const size = minimumDiskSize(layout, windowsBytes) + extra;
        const plan = planDisk(layout, size, identity);
        let end = 0;
        for (const p of plan.partitions) {
          assert.equal(p.offset % MiB, 0);
          assert.ok(p.offset >= end && p.offset >= MiB);
          end = p.offset + p.size;
        }
        assert.ok(end <= size - (layout.firmware === 'uefi' ? 33 * 512 : 0));
        const windows = plan.partitions.find((p) => p.role === 'windows');
        assert.ok(windows !== undefined && windows.size >= windowsBytes);
      },
    ),
  );
});

test('a layout file with an unknown key is refused with file:line:col', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'layout.yaml');
    await writeFile(
      path,
      'diskGuid: 0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10\npartitions:\n  - role: esp\n    size: 300M\n  - role: msr\n    size: 16M\n  - role: windows\n  - {role: recovery, size: 1G, guid: 44444444-4444-4444-8444-444444444444}\n',
    );
    const layout = await readLayoutFile(path, 'uefi');
    assert.deepEqual(
      layout.partitions.map((p) => p.role),
      ['esp', 'msr', 'windows', 'recovery'],
    );
    const plan = planDisk(layout, 10 * GiB, identity);
    assert.equal(plan.diskGuid, '0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10');
    assert.equal(plan.partitions[3]?.attributes, 0x8000000000000001n);

    await writeFile(path, 'partitions:\n  - role: esp\n    colour: red\n');
    await assert.rejects(
      readLayoutFile(path, 'uefi'),
      /layout\.yaml:3:5: unknown key "colour" \(known: role, size, guid, label\)/,
    );
    await writeFile(path, 'partitions:\n  - role: esp\n    size: 100M\n  - role: windows\n');
    await assert.rejects(readLayoutFile(path, 'uefi'), /at least 260 MiB/);
    await writeFile(path, 'partitions:\n  - role: system\n  - role: windows\n');
    await assert.rejects(readLayoutFile(path, 'uefi'), /cannot have a "system" partition/);
    await writeFile(path, 'firmware: bios\npartitions: [{role: system, size: 100M}, {role: windows}]\n');
    await assert.rejects(readLayoutFile(path, 'uefi'), /layout\.yaml:1:11: the layout is for bios/);
  });
});
