import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../core/errors.ts';
import { placeGrubPc } from './grub-pc.ts';

test('placeGrubPc keeps the signature and table, and points boot.img and the blocklist at core.img', () => {
  const mbr = new Uint8Array(512);
  mbr.fill(0xab, 0x1b8);
  const boot = new Uint8Array(512).fill(0x11);
  const core = new Uint8Array(1500).fill(0x22);
  const placed = placeGrubPc(mbr, boot, core, 1, 2048);
  assert.deepEqual([...placed.mbr.subarray(0x1b8)], [...mbr.subarray(0x1b8)]);
  const view = new DataView(placed.mbr.buffer);
  assert.equal(view.getBigUint64(0x5c, true), 1n);
  assert.equal(placed.mbr[0x64], 0xff);
  assert.equal(placed.core.byteLength, 1536);
  const cv = new DataView(placed.core.buffer);
  assert.equal(cv.getBigUint64(0x1f4, true), 2n);
  assert.equal(cv.getUint16(0x1fc, true), 2);
});

test('placeGrubPc refuses a core image that does not fit the gap', () => {
  assert.throws(
    () => placeGrubPc(new Uint8Array(512), new Uint8Array(512), new Uint8Array(4096), 1, 8),
    FormatError,
  );
});
