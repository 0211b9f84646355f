// Property tests: a model of keys and values written as a hive reads back equal to the model; any
// bytes (arbitrary, or a valid hive mutated) give a hive or a FormatError (HIVE_DIRTY for a broken
// base block checksum), never another exception.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AppError, FormatError } from '../../core/errors.ts';
import { Hive, REG_TYPES, decodeRegData, encodeRegData, type HiveKey, type RegData } from './index.ts';

type Model = Map<string, Map<string, { name: string; type: number; data: string }>>;

const nameChar = fc.constantFrom(...'abcXYZ_-. 019éÜßΩж€\u{1F600}'.split(''), '\u0130', '\u00ff');
const keyName = fc.string({ unit: nameChar, minLength: 1, maxLength: 12 });
const valueName = fc.string({ unit: nameChar, maxLength: 12 });
const valueType = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 11),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);
const valueData = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.integer({ min: 16_000, max: 40_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff)),
);
const op = fc.oneof(
  fc.record({
    kind: fc.constant('value' as const),
    path: fc.array(keyName, { maxLength: 3 }),
    name: valueName,
    type: valueType,
    data: valueData,
  }),
  fc.record({ kind: fc.constant('key' as const), path: fc.array(keyName, { minLength: 1, maxLength: 4 }) }),
  fc.record({
    kind: fc.constant('delete' as const),
    path: fc.array(keyName, { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    kind: fc.constant('unset' as const),
    path: fc.array(keyName, { maxLength: 3 }),
    name: valueName,
  }),
);

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

function dump(key: HiveKey): Model {
  const model: Model = new Map();
  const walk = (k: HiveKey): void => {
    model.set(
      k.path.toUpperCase(),
      new Map(
        k.values().map((v) => [v.name.toUpperCase(), { name: v.name, type: v.type, data: hex(v.data) }]),
      ),
    );
    for (const s of k.subkeys()) walk(s);
  };
  walk(key);
  return model;
}

test('model → hive → parse gives the model back (keys, values, types, data, names)', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const hive = Hive.create('ROOT', { clock: () => 1n });
      for (const o of ops) {
        const path = o.path.join('\\');
        if (o.kind === 'value') hive.ensureKey(path).setValue(o.name, o.type, o.data);
        else if (o.kind === 'key') hive.ensureKey(path);
        else if (o.kind === 'delete') hive.deleteKey(path);
        else hive.getKey(path)?.deleteValue(o.name);
      }
      const bytes = hive.serialize();
      const back = Hive.parse(bytes, { clock: () => 1n });
      assert.deepEqual(dump(back.root), dump(hive.root));
      assert.ok(
        Buffer.from(back.serialize()).equals(bytes),
        'writing the hive read back gives the same bytes',
      );
    }),
    { numRuns: 300 },
  );
});

test('encodeRegData and decodeRegData are inverses for each type', () => {
  const cases: fc.Arbitrary<[number, RegData]> = fc.oneof(
    fc.tuple(
      fc.constantFrom(1, 2, 6),
      fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
    ),
    fc.tuple(fc.constant(7), fc.array(fc.string({ minLength: 1 }).filter((s) => !s.includes('\0')))),
    fc.tuple(fc.constantFrom(4, 5), fc.integer({ min: 0, max: 0xffff_ffff })),
    fc.tuple(fc.constant(11), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    fc.tuple(fc.constantFrom(0, 3, 8, 9, 10, 0x20000), fc.uint8Array()),
  );
  fc.assert(
    fc.property(cases, ([type, data]) => {
      const bytes = encodeRegData(type, data);
      assert.deepEqual(decodeRegData({ name: '', type, data: bytes }), data);
    }),
    { numRuns: 1000 },
  );
});

test('decodeRegData tolerates any bytes for any type', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 40 }), (type, data) => {
      decodeRegData({ name: '', type, data });
    }),
  );
});

function expectCleanOutcome(bytes: Uint8Array): void {
  try {
    const hive = Hive.parse(bytes);
    hive.serialize();
  } catch (e) {
    if (e instanceof FormatError) {
      assert.ok(e.offset === undefined || (Number.isInteger(e.offset) && e.offset >= 0), e.message);
      return;
    }
    if (e instanceof AppError && e.code === 'HIVE_DIRTY') return;
    throw e;
  }
}

const sample = (() => {
  const hive = Hive.create('ROOT', { clock: () => 1n });
  for (let i = 0; i < 30; i++) {
    const k = hive.ensureKey(`K${i % 7}\\Sub${i}`);
    k.setValue(`v${i}`, REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, `value ${i}`));
    k.setValue(`d${i}`, REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, i));
  }
  hive.ensureKey('Big').setValue('b', REG_TYPES.REG_BINARY, new Uint8Array(40_000).fill(3));
  return hive.serialize();
})();

test('arbitrary bytes give a hive or a FormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 9000 }), (bytes) => {
      const withHeader = bytes.slice();
      withHeader.set(sample.subarray(0, Math.min(4096, withHeader.length)));
      expectCleanOutcome(bytes);
      expectCleanOutcome(withHeader);
    }),
    { numRuns: 500 },
  );
});

test('a valid hive mutated (bit flips, byte runs, truncation, u32 edits) gives a hive or a FormatError', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({
      kind: fc.constant('run' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 64 }),
      byte: fc.nat(255),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('u32' as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fff0, 4096, 0x20, 0xfff8),
    }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (muts, skipBaseBlock) => {
      let bytes = sample.slice();
      for (const m of muts) {
        const span = skipBaseBlock ? bytes.length - 4096 : bytes.length;
        const at = (skipBaseBlock ? 4096 : 0) + (m.at % Math.max(1, span));
        if (m.kind === 'flip') bytes[at] = (bytes[at] ?? 0) ^ (1 << m.bit);
        else if (m.kind === 'run') bytes.fill(m.byte, at, at + m.length);
        else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
        else if (at + 4 <= bytes.length)
          new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at & ~3, m.value, true);
      }
      expectCleanOutcome(bytes);
    }),
    { numRuns: 3000 },
  );
});

test('an error naming a key or value read from a hive is one printable line, whatever the names', () => {
  const nonPrinting = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
  const hostileChar = fc.constantFrom('\r', '\n', '\u0000', '\u0085', '\u2028', '\u202e', '\u001b', 'a', 'é');
  const hostileName = fc.string({ unit: hostileChar, minLength: 1, maxLength: 10 });
  fc.assert(
    fc.property(hostileName, hostileName, (keyName, valueName) => {
      // Two values, x and y, then y's name turned into x's in the written bytes: the reader finds a
      // key with two values of one name, and says so naming both.
      const hive = Hive.create('ROOT');
      const key = hive.ensureKey(keyName);
      key.setValue(`${valueName}x`, REG_TYPES.REG_DWORD, new Uint8Array(4));
      key.setValue(`${valueName}y`, REG_TYPES.REG_DWORD, new Uint8Array(4));
      const bytes = hive.serialize();
      const y = new TextEncoder().encode('y')[0] ?? 0;
      const wide = Array.from(valueName).some((c) => c.charCodeAt(0) > 0xff);
      const nameAt = findName(bytes, `${valueName}y`, wide);
      assert.ok(nameAt >= 0, 'the value name is in the written hive');
      bytes[nameAt + (wide ? 2 : 1) * valueName.length] = y - 1;
      assert.throws(
        () => Hive.parse(bytes),
        (e: unknown) =>
          e instanceof FormatError && /two values/.test(e.message) && !nonPrinting.test(e.message),
      );
    }),
    { numRuns: 200 },
  );
});

/** Where the hive bins start, after the 4 KiB base block. */
const HIVE_BINS_OFFSET = 4096;

/** Offset of `name` as the writer stores it (Latin-1 bytes, or UTF-16LE when `wide`), or -1. */
function findName(bytes: Uint8Array, name: string, wide: boolean): number {
  const units = Array.from(name, (c) => c.charCodeAt(0)).flatMap((u) => (wide ? [u & 0xff, u >> 8] : [u]));
  // From the first hive bin: the base block's fields (its checksum) can hold the same bytes.
  outer: for (let i = HIVE_BINS_OFFSET; i + units.length <= bytes.length; i++) {
    for (let j = 0; j < units.length; j++) if (bytes[i + j] !== units[j]) continue outer;
    return i;
  }
  return -1;
}
