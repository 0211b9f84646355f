import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import { encodeChs, MBR_TYPES, parseMbr, protectiveMbr, serializeMbr, type Mbr } from './mbr.ts';

test('CHS is computed with 255 heads × 63 sectors, and FE FF FF past cylinder 1023', () => {
  assert.deepEqual(encodeChs(0), [0, 1, 0]);
  assert.deepEqual(encodeChs(1), [0, 2, 0]); // the protective MBR's 0x000200
  assert.deepEqual(encodeChs(2048), [32, 33, 0]); // what Windows writes for a partition at 1 MiB
  assert.deepEqual(encodeChs(255 * 63 * 1024), [0xfe, 0xff, 0xff]);
});

test('a protective MBR covers the disk from LBA 1 with type 0xEE', () => {
  const bytes = serializeMbr(protectiveMbr(1000));
  assert.equal(bytes[446 + 4], 0xee);
  assert.deepEqual([...bytes.subarray(447, 450)], [0, 2, 0]);
  assert.deepEqual(parseMbr(bytes).partitions[0], {
    bootable: false,
    type: MBR_TYPES.GPT_PROTECTIVE,
    firstLba: 1,
    sectorCount: 999,
  });
});

const partition = fc
  .record({
    bootable: fc.boolean(),
    type: fc.integer({ min: 1, max: 255 }),
    firstLba: fc.integer({ min: 0, max: 0xfffffffe }),
    sectorCount: fc.integer({ min: 0, max: 0xffffffff }),
  })
  .map((p) => ({ ...p }));

test('parseMbr(serializeMbr(m)) is m', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 440, maxLength: 440 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.option(partition), { minLength: 4, maxLength: 4 }),
      (bootCode, diskSignature, partitions) => {
        const mbr: Mbr = { bootCode, diskSignature, partitions };
        assert.deepEqual(parseMbr(serializeMbr(mbr)), mbr);
      },
    ),
  );
});

test('hostile bytes give an MBR or a FormatError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, sign) => {
      if (sign && bytes.length >= 512) {
        bytes[510] = 0x55;
        bytes[511] = 0xaa;
      }
      try {
        parseMbr(bytes);
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
  );
});

test('serializeMbr refuses values that do not fit', () => {
  const p = { bootable: true, type: 7, firstLba: 2 ** 32, sectorCount: 1 };
  assert.throws(
    () => serializeMbr({ bootCode: new Uint8Array(0), diskSignature: 1, partitions: [p] }),
    FormatError,
  );
});
