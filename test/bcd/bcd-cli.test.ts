// The bcd commands as a user runs them: show the real store, create stores for UEFI/GPT and
// BIOS/MBR, set and delete elements, and clean one-line failures on bad input.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../src/io/output.ts';
import { createBcdTemplate, WELL_KNOWN } from '../../src/formats/bcd/index.ts';
import { REG_BINARY } from '../../src/formats/bcd/element.ts';
import { Hive } from '../../src/formats/regf/index.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { realFixture } from '../helpers/fixtures.ts';

const fixture = realFixture('bcd/uefi-bcdboot.BCD');
const LOADER = '{347518e1-f3cc-11ea-911e-c7eaa7d84b6c}';
const RESUME = '{347518e0-f3cc-11ea-911e-c7eaa7d84b6c}';
const DISK = '{d148fb7c-be81-4d12-8dcf-62260299abde}';
const ESP = '{236538dd-1103-424b-80ef-c54841d0a445}';
const WINDOWS = '{ecd43012-88cf-4f80-a8de-8d3719d0653a}';
const BOOTMGR = WELL_KNOWN.bootmgr;

interface ShownObject {
  id: string;
  alias: string | null;
  type: string;
  typeCode: string;
  description: string | null;
  elements: Record<string, unknown>;
}

async function show(path: string): Promise<ShownObject[]> {
  const run = await runWinsmith(['bcd', 'show', path, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as { objects: ShownObject[] }).objects;
}

describe('bcd commands', { concurrency: true }, () => {
  test('bcd show decodes the real store, text and JSON', { skip: fixture.skip }, async () => {
    const [objects, text] = await Promise.all([
      show(fixture.path),
      runWinsmith(['bcd', 'show', fixture.path]),
    ]);
    const bootmgr = objects.find((o) => o.alias === '{bootmgr}');
    assert.equal(bootmgr?.typeCode, '10100002');
    assert.equal(bootmgr.description, 'Windows Boot Manager');
    assert.deepEqual(bootmgr.elements['11000001'], {
      kind: 'partition',
      style: 'gpt',
      partitionGuid: ESP,
      diskGuid: DISK,
    });
    assert.equal(bootmgr.elements['25000004'], 30);
    const loader = objects.find((o) => o.id === LOADER);
    assert.equal(loader?.type, 'Windows Boot Loader');
    assert.deepEqual(loader.elements['14000006'], ['{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}']);
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /^Windows Boot Manager\n-+\nidentifier +\{bootmgr\}\ndevice +partition=gpt disk \{d148fb7c/m,
    );
    assert.match(text.stdout, /^default +\{347518e1-f3cc-11ea-911e-c7eaa7d84b6c\}$/m);
    assert.match(text.stdout, /^nx +OptIn$/m);
  });

  test(
    'bcd show reads the real store with a 1-byte integer and an element that does not decode',
    { skip: fixture.skip },
    async () => {
      await withTempDir(async (dir) => {
        const hive = Hive.parse(new Uint8Array(await readFile(fixture.path)));
        const elements = `Objects\\${BOOTMGR}\\Elements`;
        hive.ensureKey(`${elements}\\25000004`).setValue('Element', REG_BINARY, Uint8Array.of(30));
        hive.ensureKey(`${elements}\\12000004`).setValue('Element', REG_BINARY, Uint8Array.of(0xde, 0xad));
        const path = join(dir, 'BCD');
        await writeFile(path, hive.serialize());
        const objects = await show(path);
        const bootmgr = objects.find((o) => o.alias === '{bootmgr}');
        assert.equal(bootmgr?.elements['25000004'], 30);
        assert.deepEqual(bootmgr.elements['12000004'], {
          regType: REG_BINARY,
          hex: 'dead',
          undecoded: 'element 12000004 (string) should be registry type 1, found 3',
        });
        assert.equal(objects.length, 15);
        const text = await runWinsmith(['bcd', 'show', path]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^timeout +30$/m);
        assert.match(text.stdout, /^description +\(registry type 3\) dead \(not decoded: /m);
        const set = await runWinsmith(['bcd', 'set', path, '{bootmgr}', 'displayorder', LOADER]);
        assert.equal(set.code, 0, set.stderr);
        const again = Hive.parse(new Uint8Array(await readFile(path)));
        assert.deepEqual(again.getKey(`${elements}\\25000004`)?.value('Element')?.data, Uint8Array.of(30));
        assert.deepEqual(
          again.getKey(`${elements}\\12000004`)?.value('Element')?.data,
          Uint8Array.of(0xde, 0xad),
        );
      });
    },
  );

  test(
    'bcd create with the real store GUIDs gives its bootmgr and loader elements',
    { skip: fixture.skip },
    async () => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'BCD');
        const run = await runWinsmith([
          'bcd',
          'create',
          out,
          '--firmware',
          'uefi',
          '--disk',
          DISK,
          '--system-partition',
          ESP,
          '--windows-partition',
          WINDOWS,
          '--loader-id',
          LOADER,
          '--resume-id',
          RESUME,
          '--description',
          'Windows 10',
          '--json',
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), {
          store: out,
          firmware: 'uefi',
          loaderId: LOADER,
          resumeId: RESUME,
          objects: 11,
        });
        const [ours, theirs, again] = await Promise.all([
          show(out),
          show(fixture.path),
          runWinsmith([
            'bcd',
            'create',
            out,
            '--firmware',
            'uefi',
            '--disk',
            DISK,
            '--system-partition',
            ESP,
            '--windows-partition',
            WINDOWS,
          ]),
        ]);
        const pick = (objs: ShownObject[], id: string, types: string[]): unknown[] =>
          types.map((t) => objs.find((o) => o.id === id || o.alias === id)?.elements[t]);
        const bootmgr = [
          '11000001',
          '12000004',
          '12000005',
          '14000006',
          '23000003',
          '23000006',
          '24000001',
          '24000010',
          '25000004',
        ];
        assert.deepEqual(pick(ours, '{bootmgr}', bootmgr), pick(theirs, '{bootmgr}', bootmgr));
        const loader = [
          '11000001',
          '12000002',
          '12000004',
          '12000005',
          '14000006',
          '16000060',
          '17000077',
          '21000001',
          '22000002',
          '23000003',
          '25000020',
          '250000c2',
        ];
        assert.deepEqual(pick(ours, LOADER, loader), pick(theirs, LOADER, loader));
        const resume = [
          '11000001',
          '12000002',
          '12000004',
          '14000006',
          '21000001',
          '22000002',
          '25000008',
          '26000006',
        ];
        assert.deepEqual(pick(ours, RESUME, resume), pick(theirs, RESUME, resume));
        assert.ok(isCleanFailure(again), again.stderr);
        assert.match(again.stderr, /already exists/);
      });
    },
  );

  test('bcd create for BIOS/MBR, then set and delete-element', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'BCD');
      const template = join(dir, 'BCD-Template');
      await writeFile(template, createBcdTemplate().serialize());
      const run = await runWinsmith([
        'bcd',
        'create',
        out,
        '--template',
        template,
        '--firmware',
        'bios',
        '--disk',
        '0x1a2b3c4d',
        '--system-partition',
        '1048576',
        '--windows-partition',
        '525336576',
        '--locale',
        'de-DE',
        '--nx',
        'optout',
      ]);
      assert.equal(run.code, 0, run.stderr);
      let objects = await show(out);
      const bootmgr = objects.find((o) => o.alias === '{bootmgr}');
      assert.deepEqual(bootmgr?.elements['11000001'], {
        kind: 'partition',
        style: 'mbr',
        partitionOffset: 1048576,
        diskSignature: '1a2b3c4d',
      });
      assert.equal(bootmgr.elements['12000002'], undefined);
      const loader = objects.find((o) => o.type === 'Windows Boot Loader');
      assert.equal(loader?.elements['12000002'], '\\Windows\\system32\\winload.exe');
      assert.equal(loader.elements['12000005'], 'de-DE');
      assert.equal(loader.elements['25000020'], 1);
      assert.deepEqual(loader.elements['21000001'], {
        kind: 'partition',
        style: 'mbr',
        partitionOffset: 525336576,
        diskSignature: '1a2b3c4d',
      });

      assert.equal((await runWinsmith(['bcd', 'set', out, '{bootmgr}', 'timeout', '5'])).code, 0);
      assert.equal(
        (await runWinsmith(['bcd', 'set', out, '{default}', 'description', 'Server 2022'])).code,
        0,
      );
      assert.equal(
        (await runWinsmith(['bcd', 'set', out, '{default}', 'osdevice', 'ramdisk:\\sources\\boot.wim'])).code,
        0,
      );
      assert.equal((await runWinsmith(['bcd', 'set', out, '{default}', 'winpe', 'yes'])).code, 0);
      assert.equal(
        (await runWinsmith(['bcd', 'delete-element', out, '{bootmgr}', 'toolsdisplayorder'])).code,
        0,
      );
      objects = await show(out);
      const b2 = objects.find((o) => o.alias === '{bootmgr}');
      const l2 = objects.find((o) => o.id === loader.id);
      assert.equal(b2?.elements['25000004'], 5);
      assert.equal(b2.elements['24000010'], undefined);
      assert.equal(l2?.description, 'Server 2022');
      assert.equal(l2.elements['26000022'], true);
      assert.deepEqual(objects.find((o) => o.alias === '{ramdiskoptions}')?.elements, {
        '12000004': 'Ramdisk Options',
        '31000003': { kind: 'boot' },
        '32000004': '\\boot\\boot.sdi',
      });
      assert.deepEqual(l2.elements['21000001'], {
        kind: 'ramdisk',
        path: '\\sources\\boot.wim',
        parent: { kind: 'boot' },
        options: '{ae5534e0-a924-466c-b836-758539a3ee3a}',
      });
      const failures = await Promise.all([
        runWinsmith(['bcd', 'delete-element', out, '{bootmgr}', 'toolsdisplayorder']),
        runWinsmith(['bcd', 'set', out, '{bootmgr}', 'timeout', 'soon']),
        runWinsmith(['bcd', 'set', out, '{bootmgr}', 'nosuchthing', '1']),
      ]);
      for (const f of failures) assert.ok(isCleanFailure(f), f.stderr);
    });
  });

  test('bcd commands fail in one line and leave nothing behind', async () => {
    await withTempDir(async (dir) => {
      const notHive = join(dir, 'junk');
      const sam = join(dir, 'SAM');
      await writeFile(sam, Hive.create('ROOT').serialize());
      await writeFile(notHive, 'not a hive at all, just text'.repeat(200));
      const cases = [
        ['bcd', 'show', join(dir, 'absent')],
        ['bcd', 'show', notHive],
        ['bcd', 'show', sam],
        [
          'bcd',
          'create',
          join(dir, 'a'),
          '--firmware',
          'arm',
          '--disk',
          DISK,
          '--system-partition',
          ESP,
          '--windows-partition',
          WINDOWS,
        ],
        [
          'bcd',
          'create',
          join(dir, 'b'),
          '--firmware',
          'uefi',
          '--disk',
          'sda',
          '--system-partition',
          ESP,
          '--windows-partition',
          WINDOWS,
        ],
        [
          'bcd',
          'create',
          join(dir, 'c'),
          '--firmware',
          'uefi',
          '--disk',
          DISK,
          '--system-partition',
          '1048576',
          '--windows-partition',
          WINDOWS,
        ],
        [
          'bcd',
          'create',
          join(dir, 'd'),
          '--firmware',
          'uefi',
          '--disk',
          DISK,
          '--system-partition',
          ESP,
          '--windows-partition',
          WINDOWS,
          '--template',
          notHive,
        ],
      ];
      const runs = await Promise.all([
        ...cases.map((args) => runWinsmith(args)),
        runWinsmith(['bcd', 'create', '--help']),
      ]);
      cases.forEach((args, i) => {
        const run = runs[i];
        assert.ok(run && isCleanFailure(run), `${args.join(' ')}: ${run?.stderr ?? ''}`);
      });
      assert.deepEqual((await readdir(dir)).sort(), ['SAM', 'junk']);
      assert.equal(existsSync(join(dir, 'd')), false);
      const help = runs[cases.length];
      assert.equal(help?.code, 0);
      assert.match(help.stdout, /--windows-partition/);
    });
  });
});
