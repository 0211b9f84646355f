import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRegData, Hive, REG_TYPES } from '../formats/regf/index.ts';
import { diffFiles, diffHives, diffUnattend, unattendSettings } from './diff.ts';

test('files: added, removed and changed by size or SHA-1; directories only when added or removed', () => {
  const a = [
    { path: '/A', size: 0, isDir: true, sha1: null },
    { path: '/A/x', size: 1, isDir: false, sha1: '11' },
    { path: '/A/y', size: 1, isDir: false, sha1: '22' },
    { path: '/gone', size: 3, isDir: false, sha1: '33' },
  ];
  const b = [
    { path: '/a', size: 0, isDir: true, sha1: null },
    { path: '/A/x', size: 1, isDir: false, sha1: '11' },
    { path: '/A/y', size: 1, isDir: false, sha1: '99' },
    { path: '/new', size: 0, isDir: true, sha1: null },
  ];
  assert.deepEqual(
    diffFiles(a, b).map((c) => `${c.change} ${c.path}`),
    ['changed /A/y', 'removed /gone', 'added /new'],
  );
});

test('hives: keys added and removed once, values added, removed and changed', () => {
  const a = Hive.create('ROOT');
  const b = Hive.create('ROOT');
  for (const h of [a, b])
    h.ensureKey('Same\\Deep').setValue('v', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, 1));
  a.ensureKey('Old\\Sub');
  b.ensureKey('New\\Sub\\Deeper');
  a.ensureKey('K').setValue('gone', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'x'));
  a.ensureKey('K').setValue('chg', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'before'));
  b.ensureKey('K').setValue('CHG', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'after'));
  b.ensureKey('K').setValue('new', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, 5));
  assert.deepEqual(
    diffHives('SOFTWARE', a, b).map((c) => [c.change, c.key, c.value ?? '', c.b ?? '']),
    [
      ['removed', '\\K', 'gone', ''],
      ['changed', '\\K', 'chg', 'REG_SZ:after'],
      ['added', '\\K', 'new', 'REG_DWORD:5'],
      ['removed', '\\Old', '', ''],
      ['added', '\\New', '', ''],
    ],
  );
  assert.deepEqual(diffHives('SOFTWARE', a, a), []);
});

const XML = (name: string, extra = ''): string =>
  `<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize">` +
  `<component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64"><ComputerName>${name}</ComputerName>${extra}</component>` +
  `</settings></unattend>`;

test('unattend: settings by pass and component, compared one by one', () => {
  assert.deepEqual(
    [...unattendSettings(XML('A', '<TimeZone>UTC</TimeZone>'))],
    [
      ['specialize/Microsoft-Windows-Shell-Setup/ComputerName', 'A'],
      ['specialize/Microsoft-Windows-Shell-Setup/TimeZone', 'UTC'],
    ],
  );
  assert.deepEqual(diffUnattend(XML('A', '<TimeZone>UTC</TimeZone>'), XML('B')), [
    { setting: 'specialize/Microsoft-Windows-Shell-Setup/ComputerName', change: 'changed', a: 'A', b: 'B' },
    { setting: 'specialize/Microsoft-Windows-Shell-Setup/TimeZone', change: 'removed', a: 'UTC' },
  ]);
  assert.equal(diffUnattend(undefined, XML('B')).length, 1);
  assert.throws(() => unattendSettings('<unattend><settings>'), /not well-formed/);
});
