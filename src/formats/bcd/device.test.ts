import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import { type BcdDevice, decodeDevice, encodeDevice, formatDevice } from './device.ts';
import { guidToBytes } from './guid.ts';

const PART = '{2fbb5026-f652-4261-a963-67da3c4f7a4f}';
const DISK = '{a87d985e-0c1f-4b7e-9a52-1d2e3f405162}';

test('a GPT partition device is 88 bytes laid out as bcdboot writes it', () => {
  const bytes = encodeDevice({ kind: 'partition', style: 'gpt', partitionGuid: PART, diskGuid: DISK });
  assert.equal(bytes.length, 88);
  const dv = new DataView(bytes.buffer);
  assert.deepEqual(bytes.subarray(0, 16), new Uint8Array(16));
  assert.equal(dv.getUint32(0x10, true), 6);
  assert.equal(dv.getUint32(0x18, true), 0x48);
  assert.deepEqual(bytes.subarray(0x20, 0x30), guidToBytes(PART));
  assert.deepEqual(Array.from(bytes.subarray(0x20, 0x24)), [0x26, 0x50, 0xbb, 0x2f], 'Data1 little-endian');
  assert.equal(dv.getUint32(0x34, true), 0);
  assert.deepEqual(bytes.subarray(0x38, 0x48), guidToBytes(DISK));
  assert.deepEqual(bytes.subarray(0x48), new Uint8Array(16));
});

test('an MBR partition device holds the byte offset and the disk signature', () => {
  const device: BcdDevice = {
    kind: 'partition',
    style: 'mbr',
    partitionOffset: 1048576 + 524288000,
    diskSignature: '1a2b3c4d',
  };
  const bytes = encodeDevice(device);
  const dv = new DataView(bytes.buffer);
  assert.equal(bytes.length, 88);
  assert.equal(dv.getBigUint64(0x20, true), 525336576n);
  assert.equal(dv.getUint32(0x34, true), 1);
  assert.equal(dv.getUint32(0x38, true), 0x1a2b3c4d);
  assert.deepEqual(decodeDevice(bytes), device);
});

test('boot and ramdisk devices round-trip; the ramdisk nests a file path record', () => {
  const boot: BcdDevice = { kind: 'boot' };
  assert.deepEqual(decodeDevice(encodeDevice(boot)), boot);
  const ramdisk: BcdDevice = {
    kind: 'ramdisk',
    path: '\\sources\\boot.wim',
    parent: { kind: 'boot' },
    options: '{ae5534e0-a924-466c-b836-758539a3ee3a}',
  };
  const bytes = encodeDevice(ramdisk);
  const dv = new DataView(bytes.buffer);
  assert.deepEqual(bytes.subarray(0, 16), guidToBytes('{ae5534e0-a924-466c-b836-758539a3ee3a}'));
  assert.equal(dv.getUint32(0x10, true), 0, 'local device');
  assert.equal(dv.getUint32(0x18, true), bytes.length - 16, 'record size');
  assert.equal(dv.getUint32(0x20, true), 3, 'ramdisk');
  assert.equal(dv.getUint32(0x38, true), 1, 'file path version');
  assert.equal(dv.getUint32(0x3c, true), bytes.length - 0x38, 'file path length');
  assert.equal(dv.getUint32(0x44, true), 5, 'inner device is boot');
  assert.deepEqual(decodeDevice(bytes), ramdisk);
  assert.equal(formatDevice(ramdisk), 'ramdisk=[boot]\\sources\\boot.wim,{ramdiskoptions}');
});

test('unknown device types stay raw and encode back to the same bytes', () => {
  const bytes = new Uint8Array(0x58);
  new DataView(bytes.buffer).setUint32(0x10, 8, true);
  new DataView(bytes.buffer).setUint32(0x18, 0x48, true);
  bytes[0x40] = 7;
  const device = decodeDevice(bytes);
  assert.equal(device.kind, 'raw');
  assert.deepEqual(encodeDevice(device), bytes);
});

test('a partition record with a non-zero reserved field is kept raw, not silently changed', () => {
  const bytes = encodeDevice({ kind: 'partition', style: 'gpt', partitionGuid: PART, diskGuid: DISK });
  bytes[0x50] = 1;
  const device = decodeDevice(bytes);
  assert.equal(device.kind, 'raw');
  assert.deepEqual(encodeDevice(device), bytes);
});

test('truncated and oversized records are FormatErrors', () => {
  assert.throws(() => decodeDevice(new Uint8Array(20)), FormatError);
  const bytes = encodeDevice({ kind: 'boot' });
  new DataView(bytes.buffer).setUint32(0x18, 0x1000, true);
  assert.throws(() => decodeDevice(bytes), FormatError);
});

const hex = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
});
const leaf: fc.Arbitrary<BcdDevice> = fc.oneof(
  fc.record({ kind: fc.constant('boot' as const) }),
  fc.record({
    kind: fc.constant('partition' as const),
    style: fc.constant('gpt' as const),
    partitionGuid: hex,
    diskGuid: hex,
  }),
  fc.record({
    kind: fc.constant('partition' as const),
    style: fc.constant('mbr' as const),
    partitionOffset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    diskSignature: fc.integer({ min: 0, max: 0xffffffff }).map((n) => n.toString(16).padStart(8, '0')),
  }),
);
const device: fc.Arbitrary<BcdDevice> = fc.oneof(
  leaf,
  fc.record({
    kind: fc.constant('ramdisk' as const),
    path: fc.string({
      unit: fc.constantFrom('a', 'b', '\\', '.', '-', '_', ' ', '0', '9', 'é', 'ж'),
      maxLength: 40,
    }),
    parent: leaf,
  }),
);

test('property: decode(encode(d)) = d for every device this codec models', () => {
  fc.assert(
    fc.property(device, (d) =>
      assert.deepEqual(decodeDevice(encodeDevice(d)), JSON.parse(JSON.stringify(d))),
    ),
  );
});

test('property: any bytes decode to a device or a FormatError, and decoded devices re-encode exactly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        const d = decodeDevice(bytes);
        assert.deepEqual(encodeDevice(d), bytes);
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
  );
});

test('property: mutated real-looking devices decode or fail cleanly', () => {
  const base = encodeDevice({
    kind: 'ramdisk',
    path: '\\sources\\boot.wim',
    parent: { kind: 'partition', style: 'gpt', partitionGuid: PART, diskGuid: DISK },
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      (edits) => {
        const bytes = Uint8Array.from(base);
        for (const [at, v] of edits) bytes[at] = v;
        try {
          assert.deepEqual(encodeDevice(decodeDevice(bytes)), bytes);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
  );
});
