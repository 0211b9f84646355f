// Two-way checks of the GPT and MBR codecs against gdisk and fdisk: tables sgdisk and sfdisk make
// are read by our parsers, and tables our serializers make are read clean by sgdisk and sfdisk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  GPT_TYPES,
  gptUsableRange,
  parseGpt,
  serializeGpt,
  type GptPartition,
} from '../../src/formats/gpt.ts';
import { parseMbr, serializeMbr, type MbrPartition } from '../../src/formats/mbr.ts';
import { withTempDir } from '../../src/io/output.ts';
import { run } from './helpers.ts';

const SECTORS = 4 * 2048 * 64; // 256 MiB

async function readEnds(path: string, bytes: number): Promise<[Uint8Array, Uint8Array]> {
  const handle = await open(path, 'r');
  const head = new Uint8Array(bytes);
  const tail = new Uint8Array(bytes);
  await handle.read(head, 0, bytes, 0);
  await handle.read(tail, 0, bytes, SECTORS * 512 - bytes);
  await handle.close();
  return [head, tail];
}

async function emptyDisk(path: string): Promise<void> {
  await writeFile(path, new Uint8Array(0));
  await truncate(path, SECTORS * 512);
}

test('a GPT made by sgdisk is read by parseGpt, field for field', async () => {
  await withTempDir(async (dir) => {
    const disk = join(dir, 'sgdisk.raw');
    await emptyDisk(disk);
    await run('sgdisk', [
      '-o',
      '-U',
      '0B8AE0D4-4C5B-4A1E-9A3F-0E2F4D6C8A10',
      '-n',
      '1:2048:+100M',
      '-t',
      '1:EF00',
      '-c',
      '1:EFI system partition',
      '-u',
      '1:11111111-2222-4333-8444-555555555555',
      '-n',
      '2:0:+16M',
      '-t',
      '2:0C01',
      '-c',
      '2:Microsoft reserved partition',
      '-n',
      '4:0:+20M',
      '-t',
      '4:2700',
      '-A',
      '4:set:0',
      '-A',
      '4:set:63',
      '-n',
      '3:0:0',
      '-t',
      '3:0700',
      '-c',
      '3:Basic data partition',
      disk,
    ]);
    const [head, tail] = await readEnds(disk, 34 * 512);
    const gpt = parseGpt(head, tail, SECTORS);
    assert.equal(gpt.diskGuid, '0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10');
    assert.deepEqual(
      gpt.partitions.map((p) => p.number),
      [1, 2, 3, 4],
    );
    const [esp, msr, win, recovery] = gpt.partitions;
    assert.ok(esp && msr && win && recovery);
    assert.equal(esp.typeGuid, GPT_TYPES.EFI_SYSTEM);
    assert.equal(esp.uniqueGuid, '11111111-2222-4333-8444-555555555555');
    assert.equal(esp.firstLba, 2048);
    assert.equal(esp.name, 'EFI system partition');
    assert.equal(msr.typeGuid, GPT_TYPES.MICROSOFT_RESERVED);
    assert.equal(win.typeGuid, GPT_TYPES.BASIC_DATA);
    assert.equal(recovery.typeGuid, GPT_TYPES.WINDOWS_RECOVERY);
    assert.equal(recovery.attributes, 0x8000000000000001n);
    for (const p of gpt.partitions) {
      const info = await run('sgdisk', ['-i', String(p.number), disk]);
      assert.match(info, new RegExp(`First sector: ${p.firstLba} `));
      assert.match(info, new RegExp(`Last sector: ${p.lastLba} `));
      assert.match(info, new RegExp(`Partition unique GUID: ${p.uniqueGuid}`, 'i'));
    }
  });
});

const guid = fc.uuid().map((g) => g.toLowerCase());

test('GPTs from serializeGpt pass sgdisk -v and read back the same in sgdisk', async () => {
  await withTempDir(async (dir) => {
    const disk = join(dir, 'ours.raw');
    await fc.assert(
      fc.asyncProperty(
        guid,
        fc.uniqueArray(fc.integer({ min: 1, max: 128 }), { minLength: 1, maxLength: 5 }),
        fc.array(guid, { minLength: 5, maxLength: 5 }),
        fc.constantFrom(GPT_TYPES.BASIC_DATA, GPT_TYPES.EFI_SYSTEM, GPT_TYPES.WINDOWS_RECOVERY),
        async (diskGuid, numbers, uniques, typeGuid) => {
          const range = gptUsableRange(SECTORS);
          const slice = Math.floor((range.lastUsableLba - 2048) / 2048 / numbers.length) * 2048;
          const partitions: GptPartition[] = numbers.map((number, i) => ({
            number,
            typeGuid,
            uniqueGuid: uniques[i] ?? diskGuid,
            firstLba: 2048 + i * slice,
            lastLba: 2048 + (i + 1) * slice - 1,
            attributes: BigInt(i) << 60n,
            name: `part ${number}`,
          }));
          const gpt = serializeGpt({
            sectorSize: 512,
            totalSectors: SECTORS,
            diskGuid,
            entryCount: 128,
            ...range,
            partitions,
          });
          await emptyDisk(disk);
          const handle = await open(disk, 'r+');
          await handle.write(gpt.head, 0, gpt.head.byteLength, 0);
          await handle.write(gpt.tail, 0, gpt.tail.byteLength, gpt.tailOffset);
          await handle.close();
          assert.match(await run('sgdisk', ['-v', disk]), /No problems found/);
          const printed = await run('sgdisk', ['-p', disk]);
          assert.match(printed, new RegExp(`Disk identifier \\(GUID\\): ${diskGuid}`, 'i'));
          for (const p of partitions)
            assert.match(printed, new RegExp(`\\s${p.number}\\s+${p.firstLba}\\s+${p.lastLba}\\s`));
        },
      ),
      { numRuns: 10 },
    );
  });
});

interface SfdiskJson {
  partitiontable: {
    id: string;
    partitions: { start: number; size: number; type: string; bootable?: boolean }[];
  };
}

test('MBRs: sfdisk-made ones parse, ours pass sfdisk -V and dump the same', async () => {
  await withTempDir(async (dir) => {
    const disk = join(dir, 'mbr.raw');
    await emptyDisk(disk);
    await run('sh', [
      '-c',
      `printf 'label: dos\\nlabel-id: 0x1234abcd\\n2048,204800,7,*\\n206848,,7\\n' | sfdisk -q ${disk}`,
    ]);
    const handle = await open(disk, 'r');
    const sector = new Uint8Array(512);
    await handle.read(sector, 0, 512, 0);
    await handle.close();
    const mbr = parseMbr(sector);
    assert.equal(mbr.diskSignature, 0x1234abcd);
    assert.deepEqual(mbr.partitions, [
      { bootable: true, type: 7, firstLba: 2048, sectorCount: 204800 },
      { bootable: false, type: 7, firstLba: 206848, sectorCount: SECTORS - 206848 },
      null,
      null,
    ]);

    const ours: MbrPartition[] = [
      { bootable: true, type: 0x07, firstLba: 2048, sectorCount: 100 * 2048 },
      { bootable: false, type: 0x07, firstLba: 102 * 2048, sectorCount: 100 * 2048 },
      { bootable: false, type: 0x27, firstLba: 202 * 2048, sectorCount: SECTORS - 202 * 2048 },
    ];
    await emptyDisk(disk);
    await writeFile(
      disk,
      serializeMbr({ bootCode: new Uint8Array(0), diskSignature: 0xdeadbeef, partitions: [...ours, null] }),
      { flag: 'r+' },
    );
    assert.match(await run('sfdisk', ['-V', disk]), /No errors detected/);
    const dump = JSON.parse(await run('sfdisk', ['--json', disk])) as SfdiskJson;
    assert.equal(dump.partitiontable.id, '0xdeadbeef');
    assert.deepEqual(
      dump.partitiontable.partitions.map((p) => [
        p.start,
        p.size,
        Number.parseInt(p.type, 16),
        p.bootable ?? false,
      ]),
      ours.map((p) => [p.firstLba, p.sectorCount, p.type, p.bootable]),
    );
  });
});
