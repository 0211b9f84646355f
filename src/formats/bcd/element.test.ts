import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import {
  type BcdValue,
  REG_BINARY,
  REG_MULTI_SZ,
  REG_SZ,
  decodeElement,
  encodeElement,
  formatValue,
  readElement,
  valueToJson,
} from './element.ts';
import {
  elementName,
  elementTypeFromName,
  objectTypeName,
  splitElementType,
  aliasOf,
  guidOfAlias,
} from './tables.ts';

const utf16 = (s: string): Uint8Array =>
  Uint8Array.from(Array.from(s + '\0').flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]));

test('element types split into class, format and subtype', () => {
  assert.deepEqual(splitElementType(0x250000c2), { class: 2, format: 5, subtype: 0xc2 });
  assert.deepEqual(splitElementType(0x11000001), { class: 1, format: 1, subtype: 1 });
});

test('element names follow the object type, as bcdedit shows them', () => {
  assert.equal(elementName(0x23000003, 0x10100002), 'default');
  assert.equal(elementName(0x23000003, 0x10200003), 'resumeobject');
  assert.equal(elementName(0x22000002, 0x10200003), 'systemroot');
  assert.equal(elementName(0x22000002, 0x10200004), 'filepath');
  assert.equal(elementName(0x12000004, 0x10200003), 'description');
  assert.equal(elementName(0x250000f5, 0x20200003), 'hypervisorbaudrate');
  assert.equal(elementName(0x45000001, 0x10100002), 'custom:45000001');
  assert.equal(elementTypeFromName('osdevice', 0x10200003), 0x21000001);
  assert.equal(elementTypeFromName('custom:26000010', 0x10200003), 0x26000010);
  assert.equal(elementTypeFromName('nosuch', 0x10200003), undefined);
  assert.equal(objectTypeName(0x10200003), 'Windows Boot Loader');
  assert.equal(aliasOf('{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}'), '{bootmgr}');
  assert.equal(guidOfAlias('bootloadersettings'), '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}');
});

test('each format decodes from the registry type BCD uses', () => {
  assert.deepEqual(decodeElement(0x12000004, REG_SZ, utf16('Windows Boot Manager')), {
    format: 'string',
    value: 'Windows Boot Manager',
  });
  assert.deepEqual(decodeElement(0x23000003, REG_SZ, utf16('{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}')), {
    format: 'object',
    value: '{9dea862c-5cdd-4e70-acc1-f32b344d4795}',
  });
  const list = new Uint8Array([
    ...utf16('{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}'),
    ...utf16('{7ff607e0-4395-11db-b0de-0800200c9a66}'),
    0,
    0,
  ]);
  assert.deepEqual(decodeElement(0x14000006, REG_MULTI_SZ, list).format, 'objectList');
  assert.deepEqual(decodeElement(0x25000004, REG_BINARY, Uint8Array.of(30, 0, 0, 0, 0, 0, 0, 0)), {
    format: 'integer',
    value: 30n,
  });
  assert.deepEqual(decodeElement(0x16000060, REG_BINARY, Uint8Array.of(1)), {
    format: 'boolean',
    value: true,
  });
  assert.deepEqual(decodeElement(0x17000077, REG_BINARY, Uint8Array.of(0x75, 0, 0, 0x15, 0, 0, 0, 0)), {
    format: 'integerList',
    value: [0x15000075n],
  });
  assert.deepEqual(
    valueToJson(decodeElement(0x17000077, REG_BINARY, Uint8Array.of(0x75, 0, 0, 0x15, 0, 0, 0, 0))),
    [0x15000075],
  );
  assert.deepEqual(formatValue({ format: 'objectList', value: ['{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}'] }), [
    '{globalsettings}',
  ]);
});

test('a value of the wrong registry type or shape is a FormatError', () => {
  assert.throws(() => decodeElement(0x12000004, REG_BINARY, Uint8Array.of(1)), FormatError);
  assert.throws(() => decodeElement(0x25000004, REG_BINARY, new Uint8Array(9)), FormatError);
  assert.throws(() => decodeElement(0x25000004, REG_BINARY, new Uint8Array(0)), FormatError);
  assert.throws(() => decodeElement(0x17000077, REG_BINARY, new Uint8Array(12)), FormatError);
  assert.throws(() => decodeElement(0x23000003, REG_SZ, utf16('not a guid')), FormatError);
  assert.throws(() => encodeElement(0x25000004, { format: 'string', value: 'x' }), FormatError);
  assert.throws(() => encodeElement(0x25000004, { format: 'integer', value: -1n }), FormatError);
});

test('integer elements shorter than 8 bytes decode from the bytes present and are written back as long', () => {
  const one = decodeElement(0x25000004, REG_BINARY, Uint8Array.of(30));
  assert.deepEqual(one, { format: 'integer', value: 30n, size: 1 });
  assert.deepEqual(formatValue(one), ['30']);
  assert.equal(valueToJson(one), 30);
  assert.deepEqual(encodeElement(0x25000004, one).data, Uint8Array.of(30));
  const four = decodeElement(0x250000c2, REG_BINARY, Uint8Array.of(0x78, 0x56, 0x34, 0x12));
  assert.deepEqual(four, { format: 'integer', value: 0x12345678n, size: 4 });
  assert.deepEqual(encodeElement(0x250000c2, four).data, Uint8Array.of(0x78, 0x56, 0x34, 0x12));
  assert.throws(() => encodeElement(0x25000004, { format: 'integer', value: 256n, size: 1 }), FormatError);
  assert.equal(encodeElement(0x25000004, { format: 'integer', value: 256n }).data.length, 8);
});

test('readElement keeps an element that does not decode as its bytes and the reason', () => {
  const bad = readElement(0x12000004, REG_BINARY, Uint8Array.of(1, 2));
  assert.equal(bad.format, 'undecoded');
  assert.deepEqual(formatValue(bad), [
    '(registry type 3) 0102 (not decoded: element 12000004 (string) should be registry type 1, found 3)',
  ]);
  assert.deepEqual(valueToJson(bad), {
    regType: REG_BINARY,
    hex: '0102',
    undecoded: 'element 12000004 (string) should be registry type 1, found 3',
  });
  assert.deepEqual(encodeElement(0x12000004, bad), { regType: REG_BINARY, data: Uint8Array.of(1, 2) });
  assert.deepEqual(readElement(0x25000004, REG_BINARY, Uint8Array.of(7)), {
    format: 'integer',
    value: 7n,
    size: 1,
  });
});

const guid = fc.uuid().map((u) => `{${u}}`);
const valueFor = (type: number): fc.Arbitrary<BcdValue> => {
  switch ((type >>> 24) & 0xf) {
    case 2:
      return fc
        .string({ unit: fc.constantFrom('a', 'b', 'c', '\\', '.', ' ', 'é'), maxLength: 30 })
        .map((value) => ({ format: 'string' as const, value }));
    case 3:
      return guid.map((value) => ({ format: 'object' as const, value }));
    case 4:
      return fc.array(guid, { maxLength: 4 }).map((value) => ({ format: 'objectList' as const, value }));
    case 5:
      return fc
        .bigInt({ min: 0n, max: (1n << 64n) - 1n })
        .map((value) => ({ format: 'integer' as const, value }));
    case 6:
      return fc.boolean().map((value) => ({ format: 'boolean' as const, value }));
    default:
      return fc
        .array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 4 })
        .map((value) => ({ format: 'integerList' as const, value }));
  }
};

test('property: decode(encode(v)) = v for every non-device format', () => {
  fc.assert(
    fc.property(
      fc
        .constantFrom(0x12000004, 0x23000003, 0x14000006, 0x25000004, 0x16000060, 0x17000077)
        .chain((t) => fc.tuple(fc.constant(t), valueFor(t))),
      ([type, value]) => {
        const enc = encodeElement(type, value);
        assert.deepEqual(decodeElement(type, enc.regType, enc.data), value);
      },
    ),
  );
});

test('property: arbitrary registry values decode to a value or a FormatError; read, to a value', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 11 }),
      fc.uint8Array({ maxLength: 120 }),
      (type, regType, data) => {
        try {
          decodeElement(type, regType, data);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
        const read = readElement(type, regType, data);
        if (read.format === 'undecoded') assert.deepEqual(encodeElement(type, read).data, data);
      },
    ),
  );
});
