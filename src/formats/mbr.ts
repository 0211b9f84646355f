// The Master Boot Record: UEFI 2.10 §5.2.1 "Legacy Master Boot Record (MBR)" (Table 5.1: boot code
// 0–439, unique MBR disk signature 440–443, unknown 444–445, four 16-byte partition records at 446,
// signature 0xAA55 at 510) and §5.2.1 Table 5.2 for a partition record (boot indicator, starting
// CHS, OS type, ending CHS, starting LBA, size in LBA). §5.2.3 is the protective MBR of a GPT disk.
//
// CHS fields are written as Windows writes them for an LBA-addressed disk: the geometry of 255
// heads and 63 sectors a track, and (1023, 254, 63) — bytes FE FF FF — for anything past
// cylinder 1023. Parsing reads only the LBA fields, which are what every current system uses.

import { FormatError } from '../core/errors.ts';

export const MBR_SIZE = 512;
export const MBR_BOOT_CODE_SIZE = 440;
export const MBR_SIGNATURE = 0xaa55;
const PARTITION_TABLE_OFFSET = 446;
const PARTITION_RECORD_SIZE = 16;
const SIGNATURE_OFFSET = 510;
const DISK_SIGNATURE_OFFSET = 440;

/** OS type bytes winsmith writes or recognises. */
export const MBR_TYPES = {
  EMPTY: 0x00,
  NTFS: 0x07,
  FAT32_LBA: 0x0c,
  GPT_PROTECTIVE: 0xee,
  EFI_SYSTEM: 0xef,
  WINDOWS_RECOVERY: 0x27,
} as const;

const HEADS = 255;
const SECTORS_PER_TRACK = 63;
const MAX_CYLINDER = 1023;
const MAX_U32 = 0xffffffff;

export interface MbrPartition {
  /** Boot indicator 0x80 (the "active" partition). */
  readonly bootable: boolean;
  readonly type: number;
  readonly firstLba: number;
  readonly sectorCount: number;
}

export interface Mbr {
  /** The 440 bytes of boot code (zeros when none). */
  readonly bootCode: Uint8Array;
  /** The 32-bit disk signature at offset 440, which Windows uses to tell disks apart. */
  readonly diskSignature: number;
  /** The four primary records in order; `null` is an empty slot (OS type 0). */
  readonly partitions: readonly (MbrPartition | null)[];
}

/** CHS bytes (head, sector | cylinder high bits, cylinder low) of an LBA, as Windows writes them. */
export function encodeChs(lba: number): [number, number, number] {
  const cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cylinder > MAX_CYLINDER) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

export function parseMbr(bytes: Uint8Array): Mbr {
  if (bytes.byteLength < MBR_SIZE) {
    throw new FormatError(`an MBR is 512 bytes, found ${bytes.byteLength}`, { offset: 0 });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, MBR_SIZE);
  const signature = view.getUint16(SIGNATURE_OFFSET, true);
  if (signature !== MBR_SIGNATURE) {
    throw new FormatError(
      `expected the MBR signature 0xaa55, found 0x${signature.toString(16).padStart(4, '0')}`,
      { offset: SIGNATURE_OFFSET },
    );
  }
  const partitions: (MbrPartition | null)[] = [];
  for (let i = 0; i < 4; i++) {
    const at = PARTITION_TABLE_OFFSET + i * PARTITION_RECORD_SIZE;
    const indicator = view.getUint8(at);
    const type = view.getUint8(at + 4);
    if (type === MBR_TYPES.EMPTY) {
      partitions.push(null);
      continue;
    }
    if (indicator !== 0x00 && indicator !== 0x80) {
      throw new FormatError(
        `partition record ${i + 1}: boot indicator is 0x${indicator.toString(16)}, expected 0x00 or 0x80`,
        { offset: at },
      );
    }
    partitions.push({
      bootable: indicator === 0x80,
      type,
      firstLba: view.getUint32(at + 8, true),
      sectorCount: view.getUint32(at + 12, true),
    });
  }
  return {
    bootCode: bytes.slice(0, MBR_BOOT_CODE_SIZE),
    diskSignature: view.getUint32(DISK_SIGNATURE_OFFSET, true),
    partitions,
  };
}

function checkU32(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_U32) {
    throw new FormatError(`${what} ${value} does not fit the MBR's 32-bit field`, { code: 'LIMIT_EXCEEDED' });
  }
}

export function serializeMbr(mbr: Mbr): Uint8Array {
  if (mbr.partitions.length > 4) {
    throw new FormatError(`an MBR holds 4 partition records, found ${mbr.partitions.length}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  if (mbr.bootCode.byteLength > MBR_BOOT_CODE_SIZE) {
    throw new FormatError(`MBR boot code is at most 440 bytes, found ${mbr.bootCode.byteLength}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  checkU32(mbr.diskSignature, 'disk signature');
  const out = new Uint8Array(MBR_SIZE);
  const view = new DataView(out.buffer, 0, MBR_SIZE);
  out.set(mbr.bootCode, 0);
  view.setUint32(DISK_SIGNATURE_OFFSET, mbr.diskSignature, true);
  mbr.partitions.forEach((p, i) => {
    if (p === null) return;
    if (p.type === MBR_TYPES.EMPTY || p.type > 0xff || p.type < 0) {
      throw new FormatError(`partition ${i + 1}: OS type ${p.type} is not a used 1-byte type`);
    }
    checkU32(p.firstLba, `partition ${i + 1} first LBA`);
    checkU32(p.sectorCount, `partition ${i + 1} sector count`);
    const at = PARTITION_TABLE_OFFSET + i * PARTITION_RECORD_SIZE;
    out[at] = p.bootable ? 0x80 : 0x00;
    out.set(encodeChs(p.firstLba), at + 1);
    out[at + 4] = p.type;
    out.set(encodeChs(p.firstLba + Math.max(p.sectorCount, 1) - 1), at + 5);
    view.setUint32(at + 8, p.firstLba, true);
    view.setUint32(at + 12, p.sectorCount, true);
  });
  view.setUint16(SIGNATURE_OFFSET, MBR_SIGNATURE, true);
  return out;
}

/** The protective MBR of a GPT disk (§5.2.3): one record of type 0xEE from LBA 1 to the disk's end. */
export function protectiveMbr(totalSectors: number): Mbr {
  return {
    bootCode: new Uint8Array(0),
    diskSignature: 0,
    partitions: [
      {
        bootable: false,
        type: MBR_TYPES.GPT_PROTECTIVE,
        firstLba: 1,
        sectorCount: Math.min(totalSectors - 1, MAX_U32),
      },
      null,
      null,
      null,
    ],
  };
}
