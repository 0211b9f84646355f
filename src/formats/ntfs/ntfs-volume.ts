// What a capture must know of an NTFS volume before it reads it, from the volume's own bytes:
// the boot sector (is it NTFS, or BitLocker?), and the $Volume record's flags (is it dirty?).
// Layouts: the NTFS boot sector (BIOS parameter block) and the MFT's FILE records with their update
// sequence array, as documented in the Linux-NTFS project's "NTFS Documentation" (Richard Russon,
// Yuval Fledel), sections "Boot sector", "FILE record" (fixups), "$Volume" and
// "$VOLUME_INFORMATION (0x70)"; BitLocker's volume header replaces the OEM id with "-FVE-FS-"
// (Microsoft, "BitLocker Drive Encryption volume header", as read by libbde's documentation).
// Reads go through a ByteSource over the volume: nothing here does I/O.

import type { ByteSource } from '../../core/byte-source.ts';
import { FormatError } from '../../core/errors.ts';

export const NTFS_OEM_ID = 'NTFS    ';
/** A BitLocker-encrypted volume's boot sector carries this OEM id instead of NTFS's. */
export const BITLOCKER_OEM_ID = '-FVE-FS-';
/** $VOLUME_INFORMATION flags (NTFS Documentation, "$VOLUME_INFORMATION"). */
export const VOLUME_FLAGS = { IS_DIRTY: 0x0001 } as const;
/** The MFT record of $Volume. */
export const VOLUME_MFT_RECORD = 3;
/** The attribute type of $VOLUME_INFORMATION, and the one that ends a record's attributes. */
const AT_VOLUME_INFORMATION = 0x70;
const AT_END = 0xffffffff;
/** Fixups are laid every 512 bytes, whatever the sector size (NTFS Documentation, "Fixup"). */
const FIXUP_STRIDE = 512;
/** A FILE record is at most this large here (1 KiB on every volume Windows makes; 4 KiB on 4Kn disks). */
const MAX_RECORD_BYTES = 64 * 1024;

export type VolumeKind = 'ntfs' | 'bitlocker' | 'other';

export interface NtfsBootSector {
  readonly bytesPerSector: number;
  readonly clusterBytes: number;
  readonly totalSectors: number;
  /** Byte offset of the MFT in the volume. */
  readonly mftOffset: number;
  readonly mftRecordBytes: number;
}

function latin1(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/** What the volume's first sector says it is: NTFS, BitLocker (`-FVE-FS-`) or something else. */
export function volumeKindOf(bootSector: Uint8Array): VolumeKind {
  if (bootSector.byteLength < 512) return 'other';
  const oem = latin1(bootSector, 3, 8); // +0x03 u8[8] OEM id
  if (oem === BITLOCKER_OEM_ID) return 'bitlocker';
  return oem === NTFS_OEM_ID ? 'ntfs' : 'other';
}

function safeU64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} ${v} is past the largest supported value`, { offset: at });
  }
  return Number(v);
}

/** The BIOS parameter block of an NTFS boot sector. */
export function parseNtfsBootSector(bytes: Uint8Array): NtfsBootSector {
  if (volumeKindOf(bytes) !== 'ntfs') {
    throw new FormatError(
      `expected the OEM id "NTFS    " at offset 3, found ${JSON.stringify(latin1(bytes, 3, 8))}`,
      {
        offset: 3,
      },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bytesPerSector = view.getUint16(0x0b, true); // +0x0B u16 bytes per sector
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) {
    throw new FormatError(`bytes per sector ${bytesPerSector} is not 512, 1024, 2048 or 4096`, {
      offset: 0x0b,
    });
  }
  const spc = view.getUint8(0x0d); // +0x0D u8 sectors per cluster; above 0x80: 2^(256 - value)
  const sectorsPerCluster = spc > 0x80 ? 2 ** (256 - spc) : spc;
  if (sectorsPerCluster === 0 || sectorsPerCluster > 4096) {
    throw new FormatError(`sectors per cluster ${spc} is not valid`, { offset: 0x0d });
  }
  const clusterBytes = sectorsPerCluster * bytesPerSector;
  const totalSectors = safeU64(view, 0x28, 'the sector count'); // +0x28 u64 total sectors
  const mftLcn = safeU64(view, 0x30, 'the MFT cluster'); // +0x30 u64 MFT LCN
  const perRecord = view.getInt8(0x40); // +0x40 i8 clusters per record; negative: 2^-value bytes
  const mftRecordBytes = perRecord < 0 ? 2 ** -perRecord : perRecord * clusterBytes;
  if (
    mftRecordBytes < FIXUP_STRIDE ||
    mftRecordBytes > MAX_RECORD_BYTES ||
    mftRecordBytes % FIXUP_STRIDE !== 0
  ) {
    throw new FormatError(`an MFT record of ${mftRecordBytes} bytes is not a multiple of 512 up to 64 KiB`, {
      offset: 0x40,
    });
  }
  const mftOffset = mftLcn * clusterBytes;
  if (!Number.isSafeInteger(mftOffset) || mftOffset >= totalSectors * bytesPerSector) {
    throw new FormatError(`the MFT at cluster ${mftLcn} lies past the volume's end`, { offset: 0x30 });
  }
  return { bytesPerSector, clusterBytes, totalSectors, mftOffset, mftRecordBytes };
}

/** A FILE record with its fixups undone (a copy); FormatError when a fixup does not match. */
export function applyFixups(record: Uint8Array): Uint8Array {
  const out = record.slice();
  if (latin1(out, 0, 4) !== 'FILE') {
    throw new FormatError(`expected a FILE record, found ${JSON.stringify(latin1(out, 0, 4))}`, {
      offset: 0,
    });
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const usaOffset = view.getUint16(0x04, true); // +0x04 u16 update sequence offset
  const usaCount = view.getUint16(0x06, true); // +0x06 u16 update sequence entries (1 + strides)
  if (usaCount !== out.byteLength / FIXUP_STRIDE + 1 || usaOffset + 2 * usaCount > FIXUP_STRIDE - 2) {
    throw new FormatError(
      `the update sequence (${usaCount} entries at ${usaOffset}) does not fit a ${out.byteLength}-byte record`,
      { offset: 0x04 },
    );
  }
  const usn = view.getUint16(usaOffset, true);
  for (let i = 1; i < usaCount; i++) {
    const at = i * FIXUP_STRIDE - 2;
    if (view.getUint16(at, true) !== usn) {
      throw new FormatError(
        `the record's stride ${i} does not end with its update sequence number (a torn write)`,
        {
          offset: at,
        },
      );
    }
    view.setUint16(at, view.getUint16(usaOffset + 2 * i, true), true);
  }
  return out;
}

/** The flags of $VOLUME_INFORMATION in the $Volume record (fixups undone). */
export function volumeFlagsOf(record: Uint8Array): number {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  let at = view.getUint16(0x14, true); // +0x14 u16 offset of the first attribute
  while (at + 8 <= record.byteLength) {
    const type = view.getUint32(at, true); // attribute +0x00 u32 type
    if (type === AT_END) break;
    const length = view.getUint32(at + 4, true); // attribute +0x04 u32 length
    if (length < 16 || at + length > record.byteLength) {
      throw new FormatError(`an attribute of length ${length} does not fit the record`, { offset: at + 4 });
    }
    if (type === AT_VOLUME_INFORMATION) {
      if (view.getUint8(at + 8) !== 0) {
        throw new FormatError('$VOLUME_INFORMATION is non-resident', { offset: at + 8 });
      }
      const valueLength = view.getUint32(at + 0x10, true); // resident +0x10 u32 value length
      const valueOffset = view.getUint16(at + 0x14, true); // resident +0x14 u16 value offset
      if (valueLength < 12 || valueOffset + valueLength > length) {
        throw new FormatError(`$VOLUME_INFORMATION of ${valueLength} bytes is too short`, {
          offset: at + 0x10,
        });
      }
      return view.getUint16(at + valueOffset + 10, true); // value +0x0A u16 flags
    }
    at += length;
  }
  throw new FormatError('the $Volume record has no $VOLUME_INFORMATION attribute', { offset: 0x14 });
}

export interface NtfsVolumeState {
  readonly kind: VolumeKind;
  /** Null unless NTFS. */
  readonly dirty: boolean | null;
}

/** What the volume is, and for NTFS whether it is marked dirty, read from `volume`'s bytes. */
export async function readNtfsVolumeState(volume: ByteSource): Promise<NtfsVolumeState> {
  if (volume.size < 512) return { kind: 'other', dirty: null };
  const boot = await volume.read(0, 512);
  const kind = volumeKindOf(boot);
  if (kind !== 'ntfs') return { kind, dirty: null };
  const bpb = parseNtfsBootSector(boot);
  const at = bpb.mftOffset + VOLUME_MFT_RECORD * bpb.mftRecordBytes;
  const record = applyFixups(await volume.read(at, bpb.mftRecordBytes));
  return { kind, dirty: (volumeFlagsOf(record) & VOLUME_FLAGS.IS_DIRTY) !== 0 };
}

/**
 * Whether the start of hiberfil.sys says Windows is hibernated (or shut down by Fast Startup,
 * which is a hibernation of the kernel's session): the signature "hibr", in either case, as
 * ntfs-3g checks before it refuses to write such a volume. A resumed or cleared file starts with
 * "wake" or zeros.
 */
export function isHibernated(hiberfilHead: Uint8Array): boolean {
  return latin1(hiberfilHead, 0, 4).toLowerCase() === 'hibr';
}
