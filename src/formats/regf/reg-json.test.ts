import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import { Hive, encodeRegData } from './index.ts';
import {
  bytesToHex,
  hexToBytes,
  regJsonValueBytes,
  regKeysToJson,
  regTypeNumber,
  regValueToJson,
} from './reg-json.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

test('each type gets the data form the issue names', () => {
  const cases: [number, Uint8Array, unknown][] = [
    [1, encodeRegData(1, 'C:\\x'), 'C:\\x'],
    [2, encodeRegData(2, '%SystemRoot%'), '%SystemRoot%'],
    [6, encodeRegData(6, '\\Registry\\Machine'), '\\Registry\\Machine'],
    [7, encodeRegData(7, ['a', 'b']), ['a', 'b']],
    [4, bytes(0xff, 0xff, 0xff, 0xff), 4294967295],
    [11, bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), '18446744073709551615'],
    [5, bytes(0, 0, 1, 0), '00000100'],
    [3, bytes(0xde, 0xad), 'dead'],
    [0, bytes(), ''],
    [0x3e8, bytes(0xab), 'ab'],
    // A DWORD that is not 4 bytes long is shown as hex, which keeps its bytes.
    [4, bytes(1, 2, 3), '010203'],
  ];
  for (const [type, data, expected] of cases) {
    const json = regValueToJson({ name: 'v', type, data });
    assert.deepEqual(json.data, expected, `type ${type}`);
    assert.equal(json.raw, undefined, `type ${type}`);
    assert.deepEqual(regJsonValueBytes(json), data, `type ${type}`);
  }
  assert.equal(regValueToJson({ name: '', type: 0x3e8, data: bytes() }).type, '0x3e8');
});

test('data whose typed form loses bytes carries them in raw', () => {
  const cases: [number, Uint8Array][] = [
    [1, bytes()],
    [1, bytes(0x41, 0)],
    [1, bytes(0x41, 0, 0, 0, 0x42, 0, 0, 0)],
    [1, bytes(0x41)],
    [11, bytes(1, 2)],
    [7, bytes(0x61, 0, 0, 0, 0, 0, 0x62, 0, 0, 0, 0, 0)],
  ];
  for (const [type, data] of cases) {
    const json = regValueToJson({ name: 'v', type, data });
    assert.equal(json.raw, bytesToHex(data), `type ${type} ${bytesToHex(data)}`);
    assert.deepEqual(regJsonValueBytes(json), data);
  }
});

test('any value: its JSON gives back its type and bytes', () => {
  const type = fc.oneof(fc.integer({ min: 0, max: 11 }), fc.constantFrom(0x3e8, 0x100000, 0xffffffff));
  fc.assert(
    fc.property(type, fc.uint8Array({ maxLength: 64 }), (t, data) => {
      const json = JSON.parse(JSON.stringify(regValueToJson({ name: 'n', type: t, data }))) as ReturnType<
        typeof regValueToJson
      >;
      assert.equal(regTypeNumber(json.type), t);
      assert.deepEqual(regJsonValueBytes(json), data);
    }),
    { numRuns: 500 },
  );
});

test('hex helpers and type names', () => {
  assert.deepEqual(hexToBytes('0a,1B 2c:3d'), bytes(0x0a, 0x1b, 0x2c, 0x3d));
  assert.throws(() => hexToBytes('abc'), FormatError);
  assert.equal(regTypeNumber('reg_multi_sz'), 7);
  assert.equal(regTypeNumber('REG_FOO'), undefined);
  assert.equal(regTypeNumber('toString'), undefined);
});

test('keys are listed depth first from the key asked for, paths relative to the root', () => {
  const hive = Hive.create('ROOT');
  hive.ensureKey('\\B\\C').setValue('x', 4, bytes(1, 0, 0, 0));
  hive.ensureKey('\\A');
  assert.deepEqual(
    regKeysToJson(hive.root).map((k) => k.path),
    ['\\', '\\A', '\\B', '\\B\\C'],
  );
  const b = hive.getKey('\\B');
  assert.ok(b !== undefined);
  assert.deepEqual(regKeysToJson(b), [
    { path: '\\B', values: [] },
    { path: '\\B\\C', values: [{ name: 'x', type: 'REG_DWORD', data: 1 }] },
  ]);
});
