// The BCD store against the real bcdboot-made store: everything decodes and agrees with hivex's
// reading; createBootStore with that store's GUIDs writes the same bootmgr, loader and resume
// elements; what we write reads back through hivex the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../src/io/output.ts';
import { FormatError } from '../../src/core/errors.ts';
import {
  BcdStore,
  createBcdTemplate,
  createBootStore,
  decodeDevice,
  encodeElement,
  elementFormat,
  WELL_KNOWN,
} from '../../src/formats/bcd/index.ts';
import { realFixture } from '../helpers/fixtures.ts';
import { exportHive, exportedElement } from './reg-export.ts';

const fixture = realFixture('bcd/uefi-bcdboot.BCD');
const LOADER = '{347518e1-f3cc-11ea-911e-c7eaa7d84b6c}';
const RESUME = '{347518e0-f3cc-11ea-911e-c7eaa7d84b6c}';
const DISK = '{d148fb7c-be81-4d12-8dcf-62260299abde}';
const ESP = '{236538dd-1103-424b-80ef-c54841d0a445}';
const WINDOWS = '{ecd43012-88cf-4f80-a8de-8d3719d0653a}';
const hexKey = (t: number): string => t.toString(16).padStart(8, '0');

/** The UTF-16 text of a REG_SZ up to its first NUL. */
function text(data: Uint8Array): string {
  const s = new TextDecoder('utf-16le').decode(data);
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

test(
  'every element of every object of the real store decodes and agrees with hivexregedit',
  { skip: fixture.skip },
  async () => {
    const store = BcdStore.parse(new Uint8Array(await readFile(fixture.path)));
    const exported = await exportHive(fixture.path);
    const objects = store.objects();
    assert.equal(objects.length, 15);
    let devices = 0;
    for (const o of objects) {
      for (const e of o.elements) {
        const theirs = exportedElement(exported, o.id, hexKey(e.type));
        assert.ok(theirs, `${o.id} ${hexKey(e.type)} is in hivex's export`);
        const ours = encodeElement(e.type, e.value);
        assert.equal(ours.regType, theirs.type, `${o.id} ${e.name} registry type`);
        if (elementFormat(e.type) === 'string' || elementFormat(e.type) === 'object') {
          assert.equal(text(ours.data), text(theirs.data), `${o.id} ${e.name}`);
        } else if (elementFormat(e.type) === 'objectList') {
          assert.equal(text(ours.data), text(theirs.data), `${o.id} ${e.name} first`);
          assert.equal(ours.data.length, theirs.data.length, `${o.id} ${e.name} length`);
        } else {
          assert.deepEqual(ours.data, theirs.data, `${o.id} ${e.name} bytes`);
        }
        if (e.value.format === 'device') {
          devices++;
          assert.notEqual(e.value.value.kind, 'raw', `${o.id} ${e.name} is a device we model`);
        }
      }
    }
    assert.equal(devices, 10);
    const loader = store.object(LOADER);
    assert.equal(loader?.typeName, 'Windows Boot Loader');
    const device = loader.elements.find((e) => e.name === 'osdevice')?.value;
    assert.deepEqual(device, {
      format: 'device',
      value: { kind: 'partition', style: 'gpt', partitionGuid: WINDOWS, diskGuid: DISK },
    });
    assert.deepEqual(store.getElement('{bootmgr}', 0x11000001), {
      format: 'device',
      value: { kind: 'partition', style: 'gpt', partitionGuid: ESP, diskGuid: DISK },
    });
    assert.deepEqual(store.getElement('{347518e2-f3cc-11ea-911e-c7eaa7d84b6c}', 0x11000001), {
      format: 'device',
      value: {
        kind: 'ramdisk',
        path: '\\Recovery\\WindowsRE\\Winre.wim',
        parent: {
          kind: 'partition',
          style: 'gpt',
          partitionGuid: '{fb3fd5c6-af83-4c23-9d60-772453d0623d}',
          diskGuid: DISK,
        },
        options: '{347518e3-f3cc-11ea-911e-c7eaa7d84b6c}',
      },
    });
  },
);

/** The elements bcdboot's choice makes deterministic, per object: what we must write byte for byte. */
const SAME: readonly (readonly [string, readonly number[]])[] = [
  [
    WELL_KNOWN.bootmgr,
    [
      0x11000001, 0x12000004, 0x12000005, 0x14000006, 0x23000003, 0x23000006, 0x24000001, 0x24000010,
      0x25000004,
    ],
  ],
  [
    LOADER,
    [
      0x11000001, 0x12000002, 0x12000005, 0x14000006, 0x16000060, 0x17000077, 0x21000001, 0x22000002,
      0x23000003, 0x25000020, 0x250000c2,
    ],
  ],
  [
    RESUME,
    [
      0x11000001, 0x12000002, 0x12000004, 0x12000005, 0x14000006, 0x16000060, 0x17000077, 0x21000001,
      0x22000002, 0x25000008, 0x26000006,
    ],
  ],
  [WELL_KNOWN.memdiag, [0x11000001, 0x12000002, 0x12000004, 0x12000005, 0x14000006, 0x1600000b]],
  [WELL_KNOWN.globalsettings, [0x14000006]],
  [WELL_KNOWN.bootloadersettings, [0x14000006]],
  [WELL_KNOWN.resumeloadersettings, [0x14000006]],
  [WELL_KNOWN.hypervisorsettings, [0x250000f3, 0x250000f4, 0x250000f5]],
  [WELL_KNOWN.dbgsettings, [0x15000011]],
  [WELL_KNOWN.emssettings, [0x16000020]],
];

test(
  'bcd create with the real store GUIDs writes the same elements, byte for byte',
  { skip: fixture.skip },
  async () => {
    const { store } = createBootStore({
      firmware: 'uefi',
      disk: { style: 'gpt', diskGuid: DISK, systemPartitionGuid: ESP, windowsPartitionGuid: WINDOWS },
      loaderId: LOADER,
      resumeId: RESUME,
      description: 'Windows 10',
      clock: () => 0n,
    });
    await withTempDir(async (dir) => {
      const out = join(dir, 'BCD');
      await writeFile(out, store.serialize());
      const ours = await exportHive(out);
      const theirs = await exportHive(fixture.path);
      for (const [id, types] of SAME) {
        for (const t of types) {
          const a = exportedElement(ours, id, hexKey(t));
          const b = exportedElement(theirs, id, hexKey(t));
          assert.ok(a && b, `${id} ${hexKey(t)} in both`);
          assert.equal(a.type, b.type, `${id} ${hexKey(t)} type`);
          assert.deepEqual(a.data, b.data, `${id} ${hexKey(t)} bytes`);
        }
      }
      // The same objects, less those bcdboot takes from the running machine (UEFI NVRAM, Windows RE).
      const ids = (h: Map<string, unknown>): string[] =>
        [...h.keys()].flatMap((k) => /^\\objects\\(\{[^\\]+\})$/.exec(k)?.slice(1) ?? []).sort();
      const machineOnly = [
        WELL_KNOWN.fwbootmgr,
        '{c38f7213-f723-11ea-be88-806e6f6e6963}',
        '{347518e2-f3cc-11ea-911e-c7eaa7d84b6c}',
        '{347518e3-f3cc-11ea-911e-c7eaa7d84b6c}',
      ];
      assert.deepEqual(
        ids(ours),
        ids(theirs).filter((id) => !machineOnly.includes(id)),
      );
      assert.equal(text(exportedElement(ours, LOADER, '12000004')?.data ?? new Uint8Array()), 'Windows 10');
      assert.equal(
        text(exportedElement(ours, WELL_KNOWN.bootmgr, '12000002')?.data ?? new Uint8Array()),
        '\\EFI\\Microsoft\\Boot\\bootmgfw.efi',
      );
      assert.equal(ours.get('\\description')?.get('keyname')?.type, 1);
      assert.equal(text(ours.get('\\description')?.get('keyname')?.data ?? new Uint8Array()), 'BCD00000000');
      // Every object we wrote reads back the same through hivex and through us.
      const back = BcdStore.parse(new Uint8Array(await readFile(out)));
      for (const o of back.objects()) {
        for (const e of o.elements) {
          const enc = encodeElement(e.type, e.value);
          assert.deepEqual(exportedElement(ours, o.id, hexKey(e.type))?.data, enc.data, `${o.id} ${e.name}`);
        }
      }
    });
  },
);

test('bcd create for BIOS on an MBR disk: offsets, signature, .exe paths, no bootmgr path', async () => {
  const { store, loaderId, resumeId } = createBootStore({
    firmware: 'bios',
    disk: {
      style: 'mbr',
      diskSignature: '0x1a2b3c4d',
      systemPartitionOffset: 1048576,
      windowsPartitionOffset: 525336576,
    },
    random: (n) => new Uint8Array(n).fill(0x5a),
    loaderId: '{11111111-2222-3333-4444-555555555555}',
  });
  assert.equal(loaderId, '{11111111-2222-3333-4444-555555555555}');
  assert.equal(resumeId, '{5a5a5a5a-5a5a-4a5a-9a5a-5a5a5a5a5a5a}');
  await withTempDir(async (dir) => {
    const out = join(dir, 'BCD');
    await writeFile(out, store.serialize());
    const ex = await exportHive(out);
    const dev = exportedElement(ex, loaderId, '21000001');
    assert.ok(dev);
    const dv = new DataView(dev.data.buffer, dev.data.byteOffset, dev.data.byteLength);
    assert.equal(dev.data.length, 88);
    assert.equal(dv.getUint32(0x10, true), 6);
    assert.equal(dv.getBigUint64(0x20, true), 525336576n);
    assert.equal(dv.getUint32(0x34, true), 1);
    assert.equal(dv.getUint32(0x38, true), 0x1a2b3c4d);
    assert.deepEqual(
      decodeDevice(exportedElement(ex, WELL_KNOWN.bootmgr, '11000001')?.data ?? new Uint8Array()),
      {
        kind: 'partition',
        style: 'mbr',
        partitionOffset: 1048576,
        diskSignature: '1a2b3c4d',
      },
    );
    assert.equal(
      text(exportedElement(ex, loaderId, '12000002')?.data ?? new Uint8Array()),
      '\\Windows\\system32\\winload.exe',
    );
    assert.equal(
      text(exportedElement(ex, resumeId, '12000002')?.data ?? new Uint8Array()),
      '\\Windows\\system32\\winresume.exe',
    );
    assert.equal(exportedElement(ex, WELL_KNOWN.bootmgr, '12000002'), undefined);
    assert.equal(exportedElement(ex, loaderId, '16000060'), undefined);
  });
});

test('createBcdTemplate holds the inheritable objects and starts a bcdboot store like the image template', () => {
  const template = createBcdTemplate({ clock: () => 0n });
  const store = BcdStore.fromHive(template);
  const aliases = store.objects().map((o) => o.alias);
  for (const a of [
    '{globalsettings}',
    '{bootloadersettings}',
    '{resumeloadersettings}',
    '{hypervisorsettings}',
    '{dbgsettings}',
    '{emssettings}',
    '{badmemory}',
    '{memdiag}',
    '{bootmgr}',
  ]) {
    assert.ok(aliases.includes(a), a);
  }
  assert.equal(template.root.name, 'NewStoreRoot');
  const a = createBootStore({
    firmware: 'uefi',
    template: template.serialize(),
    disk: { style: 'gpt', diskGuid: DISK, systemPartitionGuid: ESP, windowsPartitionGuid: WINDOWS },
    loaderId: LOADER,
    resumeId: RESUME,
    clock: () => 0n,
  });
  const b = createBootStore({
    firmware: 'uefi',
    disk: { style: 'gpt', diskGuid: DISK, systemPartitionGuid: ESP, windowsPartitionGuid: WINDOWS },
    loaderId: LOADER,
    resumeId: RESUME,
    clock: () => 0n,
  });
  assert.deepEqual(a.store.objects(), b.store.objects());
});

test('a store of the wrong shape is a FormatError', async () => {
  const { Hive } = await import('../../src/formats/regf/index.ts');
  assert.throws(() => BcdStore.parse(Hive.create('x').serialize()), FormatError);
  const hive = createBcdTemplate();
  hive.ensureKey('Objects\\not-a-guid');
  assert.throws(() => BcdStore.fromHive(hive).objects(), FormatError);
});
