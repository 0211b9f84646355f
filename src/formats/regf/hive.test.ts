import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, FormatError } from '../../core/errors.ts';
import { Hive, REG_TYPES, encodeRegData } from './index.ts';
import { BB, baseBlockChecksum, readU32, writeU32 } from './layout.ts';

const T0 = 133_000_000_000_000_000n;

function fixedClock(): () => bigint {
  let t = T0;
  return () => (t += 10n);
}

test('a new hive round-trips keys, values and every value type', () => {
  const hive = Hive.create('ROOT', { clock: fixedClock() });
  const k = hive.ensureKey('\\Software\\Winsmith');
  k.setValue('', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'default'));
  k.setValue('dw', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, 0x12345678));
  k.setValue('qw', REG_TYPES.REG_QWORD, encodeRegData(REG_TYPES.REG_QWORD, 2n ** 60n));
  k.setValue('multi', REG_TYPES.REG_MULTI_SZ, encodeRegData(REG_TYPES.REG_MULTI_SZ, ['a', 'bé', 'ç']));
  k.setValue(
    'big',
    REG_TYPES.REG_BINARY,
    new Uint8Array(50_000).map((_, i) => i & 0xff),
  );
  k.setValue('none', REG_TYPES.REG_NONE, new Uint8Array(0));
  k.setValue('odd', 0x20000, new Uint8Array([1, 2, 3, 4, 5]));
  k.setValue('ünï€', REG_TYPES.REG_BINARY, new Uint8Array([9]));
  hive.ensureKey('Software\\Ωmega');

  const back = Hive.parse(hive.serialize());
  assert.equal(back.root.name, 'ROOT');
  assert.equal(back.root.path, '\\');
  const k2 = back.getKey('software\\WINSMITH');
  assert.ok(k2);
  assert.equal(k2.path, '\\Software\\Winsmith');
  assert.deepEqual(
    k2.values().map((v) => [v.name, v.type, [...v.data]]),
    k.values().map((v) => [v.name, v.type, [...v.data]]),
  );
  assert.deepEqual(
    back
      .getKey('Software')
      ?.subkeys()
      .map((s) => s.name),
    ['Winsmith', 'Ωmega'],
  );
});

test('keys are sorted by upper-cased name and looked up case-insensitively', () => {
  const hive = Hive.create('R');
  for (const n of ['b', 'A', 'c', '_x', 'Zz']) hive.root.createSubkey(n);
  const back = Hive.parse(hive.serialize());
  assert.deepEqual(
    back.root.subkeys().map((s) => s.name),
    ['A', 'b', 'c', 'Zz', '_x'],
  );
  assert.equal(back.root.subkey('ZZ')?.name, 'Zz');
  assert.equal(back.root.createSubkey('zZ').name, 'Zz');
});

test('deleteKey is recursive, returns false when absent and refuses the root', () => {
  const hive = Hive.create('R');
  hive.ensureKey('a\\b\\c').setValue('v', REG_TYPES.REG_DWORD, new Uint8Array(4));
  assert.equal(hive.deleteKey('A'), true);
  assert.equal(hive.deleteKey('A'), false);
  assert.equal(hive.getKey('a\\b'), undefined);
  assert.throws(() => hive.deleteKey('\\'), AppError);
  assert.equal(Hive.parse(hive.serialize()).root.subkeys().length, 0);
});

test('changes stamp the injected clock on the changed key', () => {
  const hive = Hive.create('R', { clock: fixedClock() });
  const k = hive.ensureKey('k');
  const before = k.lastWritten;
  k.setValue('v', REG_TYPES.REG_DWORD, new Uint8Array(4));
  assert.ok(k.lastWritten > before);
  assert.equal(Hive.parse(hive.serialize()).getKey('k')?.lastWritten, k.lastWritten);
});

test('more than a leaf of subkeys goes through an index root', () => {
  const hive = Hive.create('R');
  for (let i = 0; i < 2500; i++) hive.root.createSubkey(`key${i}`);
  const bytes = hive.serialize();
  const back = Hive.parse(bytes);
  assert.equal(back.root.subkeys().length, 2500);
  assert.equal(back.getKey('KEY2499')?.name, 'key2499');
});

test('a dirty hive without logs is refused with HIVE_DIRTY', () => {
  const bytes = Hive.create('R').serialize();
  writeU32(bytes, BB.secondarySeq, readU32(bytes, BB.primarySeq) + 1);
  writeU32(bytes, BB.checksum, baseBlockChecksum(bytes));
  assert.throws(
    () => Hive.parse(bytes),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && /no transaction logs/.test(e.message),
  );
});

test('garbage is a FormatError naming an offset', () => {
  assert.throws(() => Hive.parse(new Uint8Array(100)), FormatError);
  const bytes = Hive.create('R').serialize();
  const truncated = bytes.slice(0, 5000);
  assert.throws(
    () => Hive.parse(truncated),
    (e: unknown) => e instanceof FormatError && e.offset === BB.hbinsSize,
  );
});

test('a Node Buffer given or taken is copied, never aliased', () => {
  const hive = Hive.create('R', { clock: () => T0 });
  const data = Buffer.from([1, 2, 3, 4, 5, 6]);
  hive.root.setValue('v', REG_TYPES.REG_BINARY, data);
  data[0] = 9;
  assert.equal(hive.root.value('v')?.data[0], 1);
  const bytes = Buffer.from(hive.serialize());
  const copy = Buffer.from(bytes);
  const back = Hive.parse(bytes, { clock: () => T0 });
  bytes.fill(0);
  assert.deepEqual([...(back.root.value('v')?.data ?? [])], [1, 2, 3, 4, 5, 6]);
  assert.ok(Buffer.from(back.serialize()).equals(copy));
});
