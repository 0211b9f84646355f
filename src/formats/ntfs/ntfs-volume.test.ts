import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from '../../core/byte-source.ts';
import { FormatError } from '../../core/errors.ts';
import {
  applyFixups,
  isHibernated,
  parseNtfsBootSector,
  readNtfsVolumeState,
  VOLUME_FLAGS,
  volumeFlagsOf,
  volumeKindOf,
} from './ntfs-volume.ts';

const RECORD = 1024;
const CLUSTER = 4096;
const MFT_LCN = 4;

/** A boot sector as mkntfs writes one: 512-byte sectors, 8 per cluster, 1 KiB records. */
function bootSector(oem = 'NTFS    ', totalSectors = 2048): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode(oem), 3);
  v.setUint16(0x0b, 512, true);
  v.setUint8(0x0d, CLUSTER / 512);
  v.setBigUint64(0x28, BigInt(totalSectors), true);
  v.setBigUint64(0x30, BigInt(MFT_LCN), true);
  v.setInt8(0x40, -10);
  v.setUint16(0x1fe, 0xaa55, true);
  return b;
}

/** $Volume's FILE record with $VOLUME_INFORMATION's `flags`, fixups in place (update sequence 0x0007). */
function volumeRecord(flags: number): Uint8Array {
  const r = new Uint8Array(RECORD);
  const v = new DataView(r.buffer);
  r.set(new TextEncoder().encode('FILE'), 0);
  v.setUint16(0x04, 0x30, true);
  v.setUint16(0x06, RECORD / 512 + 1, true);
  v.setUint16(0x14, 0x38, true);
  // $VOLUME_INFORMATION: resident, 12-byte value at +0x18.
  v.setUint32(0x38, 0x70, true);
  v.setUint32(0x3c, 0x28, true);
  v.setUint8(0x40, 0);
  v.setUint32(0x48, 12, true);
  v.setUint16(0x4c, 0x18, true);
  v.setUint16(0x38 + 0x18 + 10, flags, true);
  v.setUint32(0x60, 0xffffffff, true);
  // Fixups: each stride's last two bytes saved in the update sequence array, replaced by the number.
  v.setUint16(0x30, 7, true);
  for (let i = 1; i <= RECORD / 512; i++) {
    v.setUint16(0x30 + 2 * i, v.getUint16(i * 512 - 2, true), true);
    v.setUint16(i * 512 - 2, 7, true);
  }
  return r;
}

function volume(flags: number, oem?: string): Uint8Array {
  const bytes = new Uint8Array(2048 * 512);
  bytes.set(bootSector(oem), 0);
  bytes.set(volumeRecord(flags), MFT_LCN * CLUSTER + 3 * RECORD);
  return bytes;
}

test('the boot sector says NTFS, BitLocker or neither', () => {
  assert.equal(volumeKindOf(bootSector()), 'ntfs');
  assert.equal(volumeKindOf(bootSector('-FVE-FS-')), 'bitlocker');
  assert.equal(volumeKindOf(bootSector('MSDOS5.0')), 'other');
  assert.equal(volumeKindOf(new Uint8Array(100)), 'other');
  const bpb = parseNtfsBootSector(bootSector());
  assert.deepEqual(bpb, {
    bytesPerSector: 512,
    clusterBytes: CLUSTER,
    totalSectors: 2048,
    mftOffset: MFT_LCN * CLUSTER,
    mftRecordBytes: RECORD,
  });
});

test("$Volume's flags are read through the record's fixups; a torn record is refused", () => {
  assert.equal(volumeFlagsOf(applyFixups(volumeRecord(VOLUME_FLAGS.IS_DIRTY))), VOLUME_FLAGS.IS_DIRTY);
  assert.equal(volumeFlagsOf(applyFixups(volumeRecord(0))), 0);
  const torn = volumeRecord(0);
  torn[511] = 0x99;
  assert.throws(() => applyFixups(torn), FormatError);
});

test('a volume is read as clean, dirty or BitLocker', async () => {
  assert.deepEqual(await readNtfsVolumeState(bytesSource(volume(0))), { kind: 'ntfs', dirty: false });
  assert.deepEqual(await readNtfsVolumeState(bytesSource(volume(VOLUME_FLAGS.IS_DIRTY))), {
    kind: 'ntfs',
    dirty: true,
  });
  assert.deepEqual(await readNtfsVolumeState(bytesSource(volume(0, '-FVE-FS-'))), {
    kind: 'bitlocker',
    dirty: null,
  });
});

test('hiberfil.sys: "hibr" in any case is a hibernation; "wake" or zeros are not', () => {
  const head = (text: string): Uint8Array => new TextEncoder().encode(text);
  assert.equal(isHibernated(head('hibr')), true);
  assert.equal(isHibernated(head('HIBR')), true);
  assert.equal(isHibernated(head('wake')), false);
  assert.equal(isHibernated(new Uint8Array(4)), false);
});

test('any bytes in the boot sector or the record give a state or a FormatError', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 512 }),
      fc.oneof(
        fc.nat(511),
        fc.integer({ min: MFT_LCN * CLUSTER + 3 * RECORD, max: MFT_LCN * CLUSTER + 4 * RECORD - 1 }),
      ),
      async (patch, at) => {
        const bytes = volume(0);
        bytes.set(patch.subarray(0, bytes.length - at), at);
        try {
          await readNtfsVolumeState(bytesSource(bytes));
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
    { numRuns: 500 },
  );
});
