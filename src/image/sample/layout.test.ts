import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hive, REG_TYPES, decodeRegData, type RegValue } from '../../formats/regf/index.ts';
import { SAMPLE_HIVES } from './hive-data.ts';
import { buildSampleBcdTemplate, buildSampleHive, SAMPLE_FILETIME } from './hives.ts';
import { SAMPLE_DIRECTORIES, SAMPLE_FILES, STAND_IN_MARK, type SampleHiveName } from './layout.ts';
import { renderBaseTree } from './write-tree.ts';

test('no two paths differ only by case (Windows would see one file, Linux two)', () => {
  const byLower = new Map<string, string>();
  const all = [...SAMPLE_DIRECTORIES, ...SAMPLE_FILES.map((f) => f.path)];
  for (const path of all) {
    const parts = path.split('\\');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('\\');
      const seen = byLower.get(prefix.toLowerCase());
      if (seen !== undefined) assert.equal(seen, prefix);
      else byLower.set(prefix.toLowerCase(), prefix);
    }
  }
  assert.equal(new Set(SAMPLE_FILES.map((f) => f.path.toLowerCase())).size, SAMPLE_FILES.length);
});

test('the layout has what later stages look for', () => {
  const paths = new Set(SAMPLE_FILES.map((f) => f.path));
  for (const p of [
    'Windows\\System32\\config\\SYSTEM',
    'Windows\\System32\\config\\SOFTWARE',
    'Windows\\System32\\config\\DEFAULT',
    'Windows\\System32\\config\\SAM',
    'Windows\\System32\\config\\SECURITY',
    'Windows\\System32\\config\\BCD-Template',
    'Users\\Default\\NTUSER.DAT',
    'Windows\\Boot\\EFI\\bootmgfw.efi',
    'Windows\\Boot\\EFI\\bootmgr.efi',
    'Windows\\Boot\\EFI\\memtest.efi',
    'Windows\\Boot\\EFI\\boot.stl',
    'Windows\\Boot\\EFI\\en-US\\bootmgfw.efi.mui',
    'Windows\\Boot\\PCAT\\bootmgr',
    'Windows\\Boot\\PCAT\\memtest.exe',
    'Windows\\Boot\\Fonts\\wgl4_boot.ttf',
    'Windows\\Boot\\Resources\\bootres.dll',
    'Windows\\System32\\winload.efi',
    'Windows\\System32\\winload.exe',
    'Windows\\System32\\winresume.efi',
    'Windows\\System32\\winresume.exe',
    'Windows\\System32\\kernel32.dll',
    'Windows\\System32\\ntoskrnl.exe',
    'Windows\\System32\\drivers\\storahci.sys',
    'Windows\\INF\\storahci.inf',
  ]) {
    assert.ok(paths.has(p), p);
  }
  for (const d of ['Windows\\Panther', 'Windows\\Setup\\Scripts'])
    assert.ok(SAMPLE_DIRECTORIES.includes(d), d);
  assert.ok(SAMPLE_FILES.some((f) => f.path.startsWith('Windows\\Temp\\')));
});

test('every stand-in says it is one', () => {
  const decoder = new TextDecoder();
  for (const { file, bytes } of renderBaseTree()) {
    if (file.content.kind === 'stand-in' || file.content.kind === 'pe' || file.content.kind === 'inf') {
      assert.ok(decoder.decode(bytes).includes(STAND_IN_MARK), file.path);
    }
  }
});

test('every hive reads back with our reader holding exactly the keys and values of its description', () => {
  for (const name of Object.keys(SAMPLE_HIVES) as SampleHiveName[]) {
    const spec = SAMPLE_HIVES[name];
    const hive = Hive.parse(buildSampleHive(name));
    assert.equal(hive.root.name, spec.rootName);
    for (const [path, values] of Object.entries(spec.keys)) {
      const key = hive.getKey(path);
      assert.ok(key !== undefined, `${name} ${path}`);
      assert.equal(key.lastWritten, SAMPLE_FILETIME);
      assert.equal(key.values().length, Object.keys(values).length, `${name} ${path}`);
      for (const [valueName, value] of Object.entries(values)) {
        const got = key.value(valueName);
        assert.ok(got !== undefined, `${name} ${path} ${valueName}`);
        const type = typeof value.type === 'number' ? value.type : REG_TYPES[value.type];
        assert.equal(got.type, type);
        assert.deepEqual(decodeRegData(got), value.data, `${name} ${path} ${valueName}`);
      }
    }
  }
});

test('hives and the BCD template have the same bytes every time', () => {
  assert.deepEqual(buildSampleHive('SYSTEM'), buildSampleHive('SYSTEM'));
  assert.deepEqual(buildSampleBcdTemplate(), buildSampleBcdTemplate());
  const bcd = Hive.parse(buildSampleBcdTemplate());
  assert.equal(
    decodeRegData(
      bcd.getKey('Description')?.value('KeyName') ?? { name: '', type: 0, data: new Uint8Array() },
    ),
    'BCD00000001',
  );
});

test('State.ini and the SOFTWARE hive agree on the image state', () => {
  const base = renderBaseTree();
  const ini = base.find(({ file }) => file.path === 'Windows\\Setup\\State\\State.ini');
  assert.ok(ini !== undefined);
  assert.match(
    new TextDecoder().decode(ini.bytes),
    /^\[State\]\r\nImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\r\n$/,
  );
  const software = Hive.parse(buildSampleHive('SOFTWARE'));
  const value = software.getKey('Microsoft\\Windows\\CurrentVersion\\Setup\\State')?.value('ImageState');
  assert.ok(value !== undefined);
  assert.equal(decodeRegData(value), 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE');
});

test('the SYSTEM DriverDatabase links INF, device IDs, package and configuration as Windows 8+ does', () => {
  const system = Hive.parse(buildSampleHive('SYSTEM'));
  const valueOf = (path: string, name: string): RegValue => {
    const value = system.getKey(path)?.value(name);
    assert.ok(value !== undefined, `${path} ${name}`);
    return value;
  };
  const pkg = String(decodeRegData(valueOf('DriverDatabase\\DriverInfFiles\\storahci.inf', 'Active')));
  assert.match(pkg, /^storahci\.inf_amd64_[0-9a-f]{16}$/);
  assert.deepEqual(
    [...valueOf('DriverDatabase\\DeviceIds\\PCI\\CC_010601', 'storahci.inf').data],
    [0x01, 0xff, 0x00, 0x00],
  );
  const version = valueOf(`DriverDatabase\\DriverPackages\\${pkg}`, 'Version').data;
  assert.equal(version.length, 48);
  assert.deepEqual(
    [...version.subarray(0, 24)],
    [
      0x00, 0xff, 0x09, 0, 0, 0, 0, 0, 0x7b, 0xe9, 0x36, 0x4d, 0x25, 0xe3, 0xce, 0x11, 0xbf, 0xc1, 0x08, 0x00,
      0x2b, 0xe1, 0x03, 0x18,
    ],
  );
  const conf = String(
    decodeRegData(
      valueOf(`DriverDatabase\\DriverPackages\\${pkg}\\Descriptors\\PCI\\CC_010601`, 'Configuration'),
    ),
  );
  const service = valueOf(`DriverDatabase\\DriverPackages\\${pkg}\\Configurations\\${conf}`, 'Service');
  assert.equal(decodeRegData(service), 'storahci');
  assert.ok(system.getKey('ControlSet001\\Services\\storahci') !== undefined);
});
