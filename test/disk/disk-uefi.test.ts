// winsmith disk --firmware uefi from the sample image, checked with the reference tools:
// sgdisk, fsck.fat/mtools, ntfsfix/ntfsls/ntfscat, wimdir, hivexregedit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeGuid } from '../../src/formats/guid.ts';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import {
  exportHive,
  extractPartition,
  hexValue,
  makeSample,
  ntfsTree,
  run,
  stringValue,
  wimTree,
} from './helpers.ts';

const BOOTMGR = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';

function sgdiskField(text: string, label: string): string {
  const m = new RegExp(`${label}:\\s*(\\S+)`).exec(text);
  assert.ok(m?.[1] !== undefined, `sgdisk printed no "${label}"`);
  return m[1];
}

test('a UEFI disk from the sample image: GPT, ESP, NTFS tree and BCD all check out', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'uefi.raw');
    const unattend = join(dir, 'unattend.xml');
    await writeFile(
      unattend,
      '<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"/>\n',
    );
    const made = await runWinsmith([
      'disk',
      wim,
      '-o',
      disk,
      '--firmware',
      'uefi',
      '--size',
      '400M',
      '--unattend',
      unattend,
      '--json',
    ]);
    assert.equal(made.code, 0, made.stderr);
    const result = JSON.parse(made.stdout) as { allocatedBytes: number };
    assert.ok(
      result.allocatedBytes < 64 * 1024 * 1024,
      `a 400 MiB disk of a small image allocated ${result.allocatedBytes} bytes`,
    );

    const verify = await run('sgdisk', ['-v', disk]);
    assert.match(verify, /No problems found/);
    const table = await run('sgdisk', ['-p', disk]);
    const diskGuid = sgdiskField(table, 'Disk identifier \\(GUID\\)').toLowerCase();
    const parts = await Promise.all([1, 2, 3].map((n) => run('sgdisk', ['-i', String(n), disk])));
    const [esp, msr, win] = parts.map((p) => ({
      type: sgdiskField(p, 'Partition GUID code').toLowerCase(),
      guid: sgdiskField(p, 'Partition unique GUID').toLowerCase(),
      first: Number(sgdiskField(p, 'First sector')),
      last: Number(sgdiskField(p, 'Last sector')),
      name: /Partition name: '(.*)'/.exec(p)?.[1],
    }));
    assert.ok(esp !== undefined && msr !== undefined && win !== undefined);
    assert.equal(esp.type, 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
    assert.equal(esp.name, 'EFI system partition');
    assert.equal(esp.first, 2048);
    assert.ok((esp.last - esp.first + 1) * 512 >= 260 * 1024 * 1024);
    assert.equal(msr.type, 'e3c9e316-0b5c-4db8-817d-f92df00215ae');
    assert.equal((msr.last - msr.first + 1) * 512, 16 * 1024 * 1024);
    assert.equal(win.type, 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7');
    assert.equal(win.name, 'Basic data partition');

    const espFile = await extractPartition(
      disk,
      esp.first * 512,
      (esp.last - esp.first + 1) * 512,
      join(dir, 'esp.img'),
    );
    await run('fsck.fat', ['-n', espFile]);
    const files = await run('mdir', ['-/', '-b', '-i', espFile, '::/']);
    for (const f of [
      '::/EFI/Microsoft/Boot/BCD',
      '::/EFI/Microsoft/Boot/bootmgfw.efi',
      '::/EFI/Boot/bootx64.efi',
    ]) {
      assert.ok(files.split('\n').includes(f), `the ESP has no ${f}`);
    }

    const winFile = await extractPartition(
      disk,
      win.first * 512,
      (win.last - win.first + 1) * 512,
      join(dir, 'win.img'),
    );
    await run('ntfsfix', ['-n', winFile]);
    const onDisk = await ntfsTree(winFile);
    const unattendOnDisk = onDisk.get('/Windows/Panther/unattend.xml');
    assert.equal(unattendOnDisk?.size, (await readFile(unattend)).byteLength);
    onDisk.delete('/Windows/Panther/unattend.xml');
    const inWim = await wimTree(wim, 1);
    assert.ok(inWim.size > 50);
    assert.deepEqual(new Map([...onDisk].sort()), new Map([...inWim].sort()));

    await run('mcopy', ['-i', espFile, '::/EFI/Microsoft/Boot/BCD', join(dir, 'BCD')]);
    const hive = await exportHive(join(dir, 'BCD'));
    const element = (object: string, type: string): string | undefined =>
      hive.get(`\\objects\\${object}\\elements\\${type}`)?.get('element');
    const loader = stringValue(element(BOOTMGR, '23000003'));
    for (const type of ['11000001', '21000001']) {
      const device = hexValue(element(loader, type));
      assert.equal(device.byteLength, 88);
      assert.equal(decodeGuid(device, 0x20), win.guid, `loader ${type} names the Windows partition`);
      assert.equal(decodeGuid(device, 0x38), diskGuid, `loader ${type} names this disk`);
    }
    assert.equal(decodeGuid(hexValue(element(BOOTMGR, '11000001')), 0x20), esp.guid);

    const check = await runWinsmith(['disk', 'verify', disk]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /bootable: yes/);
  });
});

test('disk verify says why a disk would not boot, and exits non-zero', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'broken.raw');
    const made = await runWinsmith(['disk', wim, '-o', disk, '--size', '400M']);
    assert.equal(made.code, 0, made.stderr);
    await run('mdel', ['-i', `${disk}@@1048576`, '::/EFI/Boot/bootx64.efi']);
    const check = await runWinsmith(['disk', 'verify', disk, '--json']);
    assert.equal(check.code, 1);
    const report = JSON.parse(check.stdout) as { bootable: boolean; problems: string[] };
    assert.equal(report.bootable, false);
    assert.deepEqual(report.problems, ['the EFI system partition has no /EFI/Boot/bootx64.efi']);
  });
});

test('a layout file: bigger ESP, recovery partition, fixed GUIDs, on a 10 GiB disk', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const layout = join(dir, 'layout.yaml');
    await writeFile(
      layout,
      [
        'diskGuid: 0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10',
        'partitions:',
        '  - {role: esp, size: 300M}',
        '  - {role: msr, size: 16M}',
        '  - {role: windows, guid: 33333333-3333-4333-8333-333333333333}',
        '  - {role: recovery, size: 500M}',
        '',
      ].join('\n'),
    );
    const disk = join(dir, 'layout.raw');
    const made = await runWinsmith(['disk', wim, '-o', disk, '--size', '10G', '--layout', layout]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(
      await run('sgdisk', ['-p', disk]),
      /Disk identifier \(GUID\): 0B8AE0D4-4C5B-4A1E-9A3F-0E2F4D6C8A10/,
    );
    const windows = await run('sgdisk', ['-i', '3', disk]);
    assert.match(windows, /Partition unique GUID: 33333333-3333-4333-8333-333333333333/);
    const recovery = await run('sgdisk', ['-i', '4', disk]);
    assert.match(recovery, /Partition GUID code: DE94BBA4-06D1-4D40-A16A-BFD50179D6AC/);
    assert.match(recovery, /Attribute flags: 8000000000000001/);
    const check = await runWinsmith(['disk', 'verify', disk]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});
