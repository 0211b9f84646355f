import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import {
  AD_TYPE,
  crcItuT,
  parseAllocationDescriptors,
  parseDescriptorTag,
  parseFileIdentifiers,
  parseLogicalVolumeDescriptor,
} from './descriptors.ts';

/** Seals a descriptor: tag identifier, location, CRC over the rest and the tag checksum. */
function seal(bytes: Uint8Array, identifier: number, location: number): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint16(0, identifier, true);
  dv.setUint16(2, 2, true);
  dv.setUint16(10, bytes.byteLength - 16, true);
  dv.setUint16(8, crcItuT(bytes.subarray(16)), true);
  dv.setUint32(12, location, true);
  let sum = 0;
  for (let i = 0; i < 16; i++) if (i !== 4) sum += bytes[i] ?? 0;
  dv.setUint8(4, sum & 0xff);
  return bytes;
}

test('CRC-ITU-T of "123456789" is 0x31c3 (the check value of ECMA-167 1/7.2.6)', () => {
  assert.equal(crcItuT(new TextEncoder().encode('123456789')), 0x31c3);
  assert.equal(crcItuT(new Uint8Array(0)), 0);
});

test('a sealed tag parses; any changed byte of it or of the body is caught', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 200 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (body, at, delta) => {
        const bytes = seal(new Uint8Array([...new Uint8Array(16), ...body]), 261, 42);
        const tag = parseDescriptorTag(bytes, 0);
        assert.equal(tag.identifier, 261);
        assert.equal(tag.location, 42);
        const broken = bytes.slice();
        const i = at % broken.byteLength;
        broken[i] = ((broken[i] ?? 0) + delta) & 0xff;
        assert.throws(() => parseDescriptorTag(broken, 0x800), FormatError);
      },
    ),
  );
});

test('short and long allocation descriptors: types, lengths and the zero-length end', () => {
  const short = new Uint8Array(24);
  const dv = new DataView(short.buffer);
  dv.setUint32(0, 4096, true);
  dv.setUint32(4, 7, true);
  dv.setUint32(8, (1 << 30) | 2048, true);
  dv.setUint32(12, 0, true);
  assert.deepEqual(parseAllocationDescriptors(short, AD_TYPE.SHORT, 3, 0), [
    { length: 4096, type: 0, location: { block: 7, partition: 3 } },
    { length: 2048, type: 1, location: { block: 0, partition: 3 } },
  ]);
  const long = new Uint8Array(16);
  const lv = new DataView(long.buffer);
  lv.setUint32(0, (3 << 30) | 2048, true);
  lv.setUint32(4, 99, true);
  lv.setUint16(8, 1, true);
  assert.deepEqual(parseAllocationDescriptors(long, AD_TYPE.LONG, 0, 0), [
    { length: 2048, type: 3, location: { block: 99, partition: 1 } },
  ]);
  assert.throws(
    () => parseAllocationDescriptors(new Uint8Array(12), AD_TYPE.SHORT, 0, 0),
    /not a multiple of 8/,
  );
  assert.throws(
    () => parseAllocationDescriptors(new Uint8Array(20), AD_TYPE.EXTENDED, 0, 0),
    (e: unknown) => e instanceof FormatError && e.code === 'FORMAT_UNSUPPORTED',
  );
});

test('a Logical Volume Descriptor with a metadata partition map is unsupported, not invalid', () => {
  const lvd = new Uint8Array(440 + 6 + 64);
  const dv = new DataView(lvd.buffer);
  dv.setUint32(212, 2048, true);
  dv.setUint32(264, 70, true);
  dv.setUint32(268, 2, true);
  lvd.set([1, 6, 1, 0, 0, 0], 440);
  lvd.set([2, 64], 446);
  lvd.set(new TextEncoder().encode('*UDF Metadata Partition'), 446 + 5);
  assert.throws(
    () => parseLogicalVolumeDescriptor(lvd, 0),
    (e: unknown) =>
      e instanceof FormatError && e.code === 'FORMAT_UNSUPPORTED' && /Metadata Partition/.test(e.message),
  );
  dv.setUint32(268, 1000, true);
  assert.throws(
    () => parseLogicalVolumeDescriptor(lvd, 0),
    (e: unknown) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
});

test('file identifiers: names, the parent entry, padding to 4 bytes and the entry limit', () => {
  const fid = (name: string, flags: number): Uint8Array => {
    const id = name === '' ? [] : [8, ...new TextEncoder().encode(name)];
    const bytes = new Uint8Array((38 + id.length + 3) & ~3);
    bytes[18] = flags;
    bytes[19] = id.length;
    bytes.set(id, 38);
    return seal(bytes, 257, 0);
  };
  const content = new Uint8Array([...fid('', 8), ...fid('sources', 2), ...fid('setup.exe', 0)]);
  const fids = parseFileIdentifiers(content, 0, 10);
  assert.deepEqual(
    fids.map((f) => [f.name, f.characteristics]),
    [
      ['..', 8],
      ['sources', 2],
      ['setup.exe', 0],
    ],
  );
  assert.throws(
    () => parseFileIdentifiers(content, 0, 2),
    (e: unknown) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
});
