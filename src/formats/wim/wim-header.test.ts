import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import {
  WIM_HDR_FLAG,
  WIM_HEADER_SIZE,
  WIM_VERSION_DEFAULT,
  WIM_VERSION_SOLID,
  compressionOf,
  formatWimGuid,
  parseWimHeader,
  serializeWimHeader,
  type WimHeader,
  type WimResourceHeader,
} from './wim-header.ts';

const reshdr: fc.Arbitrary<WimResourceHeader> = fc
  .record({
    sizeInWim: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
    flags: fc.integer({ min: 0, max: 255 }),
    offsetInWim: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    uncompressedSize: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  })
  .map((r) => ({ ...r }));

const header: fc.Arbitrary<WimHeader> = fc
  .record({
    pipable: fc.boolean(),
    version: fc.constantFrom(WIM_VERSION_DEFAULT, WIM_VERSION_SOLID),
    compression: fc.constantFrom(
      0,
      WIM_HDR_FLAG.COMPRESS_XPRESS,
      WIM_HDR_FLAG.COMPRESS_LZX,
      WIM_HDR_FLAG.COMPRESS_LZMS,
    ),
    otherFlags: fc.integer({ min: 0, max: 0xff }).map((f) => f & ~WIM_HDR_FLAG.COMPRESSION),
    chunkShift: fc.integer({ min: 12, max: 30 }),
    guid: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    totalParts: fc.integer({ min: 1, max: 0xffff }),
    imageCount: fc.integer({ min: 0, max: 10_000 }),
    blobTable: reshdr,
    xmlData: reshdr,
    bootMetadata: reshdr,
    integrity: reshdr,
    seed: fc.nat(),
  })
  .map((r) => ({
    pipable: r.pipable,
    version: r.version,
    flags: r.otherFlags | (r.compression === 0 ? 0 : WIM_HDR_FLAG.COMPRESSION | r.compression),
    chunkSize: 2 ** r.chunkShift,
    guid: r.guid,
    partNumber: (r.seed % r.totalParts) + 1,
    totalParts: r.totalParts,
    imageCount: r.imageCount,
    blobTable: r.blobTable,
    xmlData: r.xmlData,
    bootMetadata: r.bootMetadata,
    bootIndex: r.imageCount === 0 ? 0 : r.seed % (r.imageCount + 1),
    integrity: r.integrity,
  }));

function parsesOrFormatError(bytes: Uint8Array): void {
  try {
    parseWimHeader(bytes);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}

test('parseWimHeader(serializeWimHeader(h)) equals h', () => {
  fc.assert(
    fc.property(header, (h) => {
      const bytes = serializeWimHeader(h);
      assert.equal(bytes.byteLength, WIM_HEADER_SIZE);
      assert.deepEqual(parseWimHeader(bytes), h);
    }),
  );
});

test('arbitrary bytes give a header or a FormatError, never another exception', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), parsesOrFormatError));
});

test('a valid header with bytes changed or cut gives a header or a FormatError', () => {
  fc.assert(
    fc.property(
      header,
      fc.array(fc.tuple(fc.nat({ max: WIM_HEADER_SIZE - 1 }), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      }),
      fc.nat({ max: WIM_HEADER_SIZE }),
      (h, changes, keep) => {
        const bytes = serializeWimHeader(h);
        for (const [at, value] of changes) bytes[at] = value;
        parsesOrFormatError(bytes);
        parsesOrFormatError(bytes.subarray(0, keep));
      },
    ),
  );
});

const sample: WimHeader = {
  pipable: false,
  version: WIM_VERSION_DEFAULT,
  flags: WIM_HDR_FLAG.COMPRESSION | WIM_HDR_FLAG.COMPRESS_LZX,
  chunkSize: 32768,
  guid: Uint8Array.from({ length: 16 }, (_, i) => i),
  partNumber: 1,
  totalParts: 1,
  imageCount: 2,
  blobTable: { sizeInWim: 100, flags: 2, offsetInWim: 1000, uncompressedSize: 100 },
  xmlData: { sizeInWim: 50, flags: 2, offsetInWim: 1100, uncompressedSize: 50 },
  bootMetadata: { sizeInWim: 0, flags: 0, offsetInWim: 0, uncompressedSize: 0 },
  bootIndex: 2,
  integrity: { sizeInWim: 0, flags: 0, offsetInWim: 0, uncompressedSize: 0 },
};

test('fields sit at the offsets of wimlib header.h', () => {
  const bytes = serializeWimHeader(sample);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 5)), 'MSWIM');
  assert.equal(view.getUint32(0x0c, true), 0x10d00);
  assert.equal(view.getUint32(0x14, true), 32768);
  assert.equal(bytes[0x18], 0);
  assert.equal(bytes[0x27], 15);
  assert.equal(view.getUint32(0x2c, true), 2);
  assert.equal(view.getUint32(0x48 + 8, true), 1100);
  assert.equal(view.getUint32(0x78, true), 2);
  assert.equal(formatWimGuid(sample.guid), '000102030405060708090a0b0c0d0e0f');
  assert.equal(compressionOf(sample), 'LZX');
});

test('each kind of bad header is told apart', () => {
  const bytes = serializeWimHeader(sample);
  const expectError = (mutate: (b: Uint8Array) => void, code: string, pattern: RegExp): void => {
    const copy = bytes.slice();
    mutate(copy);
    assert.throws(
      () => parseWimHeader(copy),
      (e: unknown) => e instanceof FormatError && e.code === code && pattern.test(e.message),
    );
  };
  expectError((b) => (b[0] = 0x41), 'FORMAT_INVALID', /expected the WIM magic/);
  expectError((b) => (b[0x0c] = 0x01), 'FORMAT_UNSUPPORTED', /version 0x10d01/);
  expectError((b) => (b[0x14] = 0x01), 'FORMAT_INVALID', /chunk size 32769 is not a power of two/);
  expectError((b) => (b[0x28] = 3), 'FORMAT_INVALID', /part 3 of 1/);
  expectError((b) => (b[0x2e] = 1), 'LIMIT_EXCEEDED', /image count/);
  expectError((b) => (b[0x48 + 15] = 0xff), 'LIMIT_EXCEEDED', /XML data offset/);
  expectError((b) => (b[0x12] = 0), 'FORMAT_UNSUPPORTED', /name no format/);
  assert.throws(() => parseWimHeader(bytes.subarray(0, 100)), /208 bytes; the input has only 100/);
});
