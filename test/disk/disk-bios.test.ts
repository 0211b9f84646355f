// winsmith disk --firmware bios from the sample image: MBR (sfdisk), GRUB in the MBR and gap, the
// System Reserved NTFS with bootmgr and \Boot\BCD whose devices name this disk by signature and
// byte offset, and the Windows NTFS equal to the image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import {
  exportHive,
  extractPartition,
  hexValue,
  makeSample,
  ntfsTree,
  run,
  runBytes,
  stringValue,
  wimTree,
} from './helpers.ts';

const BOOTMGR = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';

interface SfdiskDump {
  partitiontable: {
    label: string;
    id: string;
    partitions: { node: string; start: number; size: number; type: string; bootable?: boolean }[];
  };
}

test('a BIOS disk from the sample image: MBR, GRUB, System Reserved with bootmgr and BCD, Windows tree', async () => {
  await withTempDir(async (dir) => {
    const wim = await makeSample(dir);
    const disk = join(dir, 'bios.raw');
    const made = await runWinsmith(['disk', wim, '-o', disk, '--firmware', 'bios', '--size', '400M']);
    assert.equal(made.code, 0, made.stderr);

    const check = await run('sfdisk', ['-V', disk]);
    assert.match(check, /No errors detected/);
    const dump = JSON.parse(await run('sfdisk', ['--json', disk])) as SfdiskDump;
    assert.equal(dump.partitiontable.label, 'dos');
    const [system, windows] = dump.partitiontable.partitions;
    assert.ok(system !== undefined && windows !== undefined);
    assert.equal(system.bootable, true);
    assert.equal(system.type, '7');
    assert.equal(system.start, 2048);
    assert.equal(windows.type, '7');
    assert.equal(windows.bootable ?? false, false);

    const handle = await open(disk, 'r');
    const head = new Uint8Array(1024);
    await handle.read(head, 0, 1024, 0);
    await handle.close();
    const view = new DataView(head.buffer);
    assert.equal(view.getBigUint64(0x5c, true), 1n, 'boot.img points at core.img in LBA 1');
    assert.match(Buffer.from(head.subarray(0, 440)).toString('latin1'), /GRUB/);
    const signature = view.getUint32(0x1b8, true).toString(16).padStart(8, '0');
    assert.equal(`0x${signature}`, dump.partitiontable.id);

    const sysFile = await extractPartition(
      disk,
      system.start * 512,
      system.size * 512,
      join(dir, 'system.img'),
    );
    await run('ntfsfix', ['-n', sysFile]);
    const root = (await run('ntfsls', ['-p', '/', sysFile])).split('\n');
    assert.ok(root.includes('bootmgr') && root.includes('Boot'));
    const bcdPath = join(dir, 'BCD');
    await writeFile(bcdPath, await runBytes('ntfscat', [sysFile, '/Boot/BCD']));
    const bcd = await exportHive(bcdPath);
    const element = (object: string, type: string): string | undefined =>
      bcd.get(`\\objects\\${object}\\elements\\${type}`)?.get('element');
    const loader = stringValue(element(BOOTMGR, '23000003'));
    for (const type of ['11000001', '21000001']) {
      const device = new DataView(hexValue(element(loader, type)).buffer);
      assert.equal(device.getUint32(0x34, true), 1, 'MBR style');
      assert.equal(
        Number(device.getBigUint64(0x20, true)),
        windows.start * 512,
        `loader ${type}: Windows partition offset`,
      );
      assert.equal(
        device.getUint32(0x38, true).toString(16).padStart(8, '0'),
        signature,
        `loader ${type}: disk signature`,
      );
    }
    const bootmgrDevice = new DataView(hexValue(element(BOOTMGR, '11000001')).buffer);
    assert.equal(Number(bootmgrDevice.getBigUint64(0x20, true)), system.start * 512);

    const winFile = await extractPartition(
      disk,
      windows.start * 512,
      windows.size * 512,
      join(dir, 'win.img'),
    );
    await run('ntfsfix', ['-n', winFile]);
    assert.deepEqual(
      new Map([...(await ntfsTree(winFile))].sort()),
      new Map([...(await wimTree(wim, 1))].sort()),
    );

    const verify = await runWinsmith(['disk', 'verify', disk]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
