// Hostile hives made from a valid one by editing single fields (offsets as msuhanov's regf
// specification gives them: § Key node, § Index leaf / Hash leaf / Index root, § Key value): each
// gives a FormatError naming the offset of the field at fault, or a named limit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, FormatError } from '../../core/errors.ts';
import { Hive, REG_TYPES } from './index.ts';
import { BB, MAX_KEY_DEPTH, baseBlockChecksum, readU32, writeU16, writeU32 } from './layout.ts';

/** A valid hive ROOT → A → B, a value on ROOT, and the file offsets of its key nodes' data. */
function sample(): { bytes: Uint8Array; root: number; a: number; b: number } {
  const hive = Hive.create('ROOT', { clock: () => 1n });
  hive.ensureKey('A\\B');
  hive.root.setValue('v', REG_TYPES.REG_BINARY, new Uint8Array(100).fill(1));
  const bytes = hive.serialize();
  const nk = (cell: number): number => 4096 + cell + 4;
  const root = nk(readU32(bytes, BB.rootCell));
  const firstSubkey = (key: number): number => nk(readU32(bytes, nk(readU32(bytes, key + 28)) + 4));
  const a = firstSubkey(root);
  return { bytes, root, a, b: firstSubkey(a) };
}

function formatError(offset: number, code = 'FORMAT_INVALID', text?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    assert.ok(e.message.includes(`0x${offset.toString(16)}`), e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

test('a truncated hive names the hive bins data size it cannot hold', () => {
  const { bytes } = sample();
  assert.throws(
    () => Hive.parse(bytes.slice(0, 4096 + 100)),
    formatError(BB.hbinsSize, 'FORMAT_INVALID', /truncated/),
  );
  assert.throws(() => Hive.parse(bytes.slice(0, 1000)), FormatError);
});

test('a bad base block checksum makes the hive dirty (HIVE_DIRTY), not silently read', () => {
  const { bytes } = sample();
  writeU32(bytes, BB.checksum, baseBlockChecksum(bytes) ^ 1);
  assert.throws(
    () => Hive.parse(bytes),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && /checksum/.test(e.message),
  );
});

test('a subkey list that leads back to a key already read is a cycle', () => {
  const { bytes, root, b } = sample();
  // B gets one subkey: the root's own subkey list, which holds A again.
  writeU32(bytes, b + 20, 1);
  writeU32(bytes, b + 28, readU32(bytes, root + 28));
  assert.throws(
    () => Hive.parse(bytes),
    (e: unknown) => e instanceof FormatError && /cycle/.test(e.message),
  );
});

test('an index root inside an index root is refused', () => {
  const { bytes, root } = sample();
  const listCell = readU32(bytes, root + 28);
  const list = 4096 + listCell + 4;
  bytes[list] = 0x72; // "ri" pointing at itself
  bytes[list + 1] = 0x69;
  writeU16(bytes, list + 2, 1);
  writeU32(bytes, list + 4, listCell);
  assert.throws(() => Hive.parse(bytes), formatError(list, 'FORMAT_INVALID', /index root/));
});

test('value data past its cell, and a cell offset past the file, name their fields', () => {
  const { bytes, root } = sample();
  const vk = 4096 + readU32(bytes, 4096 + readU32(bytes, root + 40) + 4) + 4;
  const dataSize = vk + 4;
  writeU32(bytes, dataSize, 1000);
  assert.throws(() => Hive.parse(bytes), formatError(vk + 8, 'FORMAT_INVALID', /goes past its cell/));
  writeU32(bytes, dataSize, 100);
  writeU32(bytes, vk + 8, 0x7fff_0000);
  assert.throws(() => Hive.parse(bytes), formatError(vk + 8, 'FORMAT_INVALID', /inside the hive bins data/));
});

test('counts past the limits are LIMIT_EXCEEDED at the count field', () => {
  const { bytes, root, a } = sample();
  writeU32(bytes, root + 36, 0x7fff_ffff);
  assert.throws(() => Hive.parse(bytes), formatError(root + 36, 'LIMIT_EXCEEDED'));
  writeU32(bytes, root + 36, 1);
  writeU32(bytes, a + 20, 0x1000_0000);
  assert.throws(() => Hive.parse(bytes), formatError(a + 20, 'LIMIT_EXCEEDED'));
});

test('a count larger than its list cell holds is refused', () => {
  const { bytes, root } = sample();
  writeU32(bytes, root + 36, 1000);
  assert.throws(() => Hive.parse(bytes), formatError(root + 36, 'FORMAT_INVALID', /do not fit/));
});

test('keys cannot be created deeper than the depth limit', () => {
  const hive = Hive.create('R');
  let key = hive.root;
  for (let depth = 1; depth < MAX_KEY_DEPTH; depth++) key = key.createSubkey('k');
  assert.throws(
    () => key.createSubkey('k'),
    (e: unknown) => e instanceof AppError && e.code === 'LIMIT_EXCEEDED',
  );
  const back = Hive.parse(hive.serialize());
  assert.ok(back.getKey(Array.from({ length: MAX_KEY_DEPTH - 1 }, () => 'k').join('\\')));
});
