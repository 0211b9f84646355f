// The GUID Partition Table: UEFI 2.10 §5.3 "GUID Partition Table (GPT) Disk Layout".
// §5.3.1: primary header at LBA 1, its entry array from LBA 2; backup entry array before the backup
// header in the last LBA. §5.3.2 Table 5.5 (header, little-endian):
//   0 Signature "EFI PART" · 8 Revision 0x00010000 · 12 HeaderSize 92 · 16 HeaderCRC32 (computed with
//   this field zero) · 20 Reserved · 24 MyLBA · 32 AlternateLBA · 40 FirstUsableLBA · 48 LastUsableLBA ·
//   56 DiskGUID · 72 PartitionEntryLBA · 80 NumberOfPartitionEntries · 84 SizeOfPartitionEntry ·
//   88 PartitionEntryArrayCRC32 · 92… reserved, zero to the end of the block.
// §5.3.3 Table 5.6 (entry): 0 PartitionTypeGUID · 16 UniquePartitionGUID · 32 StartingLBA ·
//   40 EndingLBA (inclusive) · 48 Attributes · 56 PartitionName (36 UTF-16LE code units).
// §5.2.3: LBA 0 holds a protective MBR (see mbr.ts).
// Type GUIDs and attributes are the ones Windows' diskpart sets (Microsoft, "UEFI/GPT-based hard
// drive partitions" and "PARTITION_INFORMATION_GPT").

import { FormatError } from '../core/errors.ts';
import { crc32 } from './crc32.ts';
import { decodeGuid, encodeGuid, NIL_GUID, normalizeGuid } from './guid.ts';
import { MBR_TYPES, parseMbr, protectiveMbr, serializeMbr } from './mbr.ts';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
/** What Windows, sgdisk and parted write, and the minimum §5.3.2 allows (16 KiB of entries). */
export const GPT_DEFAULT_ENTRY_COUNT = 128;
const NAME_UNITS = 36;

/** Safety limit: entry arrays bigger than this are refused (real tables are 16 KiB; this is 64×). */
export const MAX_ENTRY_ARRAY_BYTES = 1024 * 1024;
/** Safety limit: entries bigger than this are refused (§5.3.2 allows 128 × 2^n; nobody uses more than 128). */
export const MAX_ENTRY_SIZE = 4096;

export const GPT_TYPES = {
  EFI_SYSTEM: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  MICROSOFT_RESERVED: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  BASIC_DATA: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  WINDOWS_RECOVERY: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
  BIOS_BOOT: '21686148-6449-6e6f-744e-656564454649',
} as const;

/** Attribute bits: §5.3.3 Table 5.7 (bits 0–2), and Microsoft's basic-data bits 60–63. */
export const GPT_ATTRIBUTES = {
  REQUIRED_PARTITION: 1n,
  NO_BLOCK_IO_PROTOCOL: 2n,
  LEGACY_BIOS_BOOTABLE: 4n,
  READ_ONLY: 1n << 60n,
  SHADOW_COPY: 1n << 61n,
  HIDDEN: 1n << 62n,
  NO_DRIVE_LETTER: 1n << 63n,
} as const;

export interface GptPartition {
  /** 1-based slot in the entry array (sgdisk's partition number). */
  readonly number: number;
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  readonly firstLba: number;
  /** Inclusive. */
  readonly lastLba: number;
  readonly attributes: bigint;
  readonly name: string;
}

export interface GptHeader {
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc32: number;
}

export interface GptDisk {
  readonly sectorSize: number;
  readonly totalSectors: number;
  readonly diskGuid: string;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly entryCount: number;
  /** Used entries only (type GUID not nil), in slot order. */
  readonly partitions: readonly GptPartition[];
}

function readU64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} ${v} is past the largest supported value`, {
      offset: at,
      code: 'LIMIT_EXCEEDED',
    });
  }
  return Number(v);
}

function entryArraySectors(entryCount: number, entrySize: number, sectorSize: number): number {
  return Math.ceil((entryCount * entrySize) / sectorSize);
}

/** The sectors the primary table takes at the start of the disk (protective MBR, header, entries). */
export function gptHeadSectors(sectorSize: number, entryCount = GPT_DEFAULT_ENTRY_COUNT): number {
  return 2 + entryArraySectors(entryCount, GPT_ENTRY_SIZE, sectorSize);
}

/** The sectors the backup table takes at the end of the disk (entries, header). */
export function gptTailSectors(sectorSize: number, entryCount = GPT_DEFAULT_ENTRY_COUNT): number {
  return 1 + entryArraySectors(entryCount, GPT_ENTRY_SIZE, sectorSize);
}

/** Parses the header in `block` (one logical block), checking signature, size and CRC. */
export function parseGptHeader(block: Uint8Array, expectedLba: number): GptHeader {
  if (block.byteLength < GPT_HEADER_SIZE) {
    throw new FormatError(`a GPT header needs ${GPT_HEADER_SIZE} bytes, found ${block.byteLength}`, {
      offset: 0,
    });
  }
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const signature = String.fromCharCode(...block.subarray(0, 8));
  if (signature !== GPT_SIGNATURE) {
    throw new FormatError(`expected the GPT signature "EFI PART", found ${JSON.stringify(signature)}`, {
      offset: 0,
    });
  }
  const revision = view.getUint32(8, true);
  if (revision >>> 16 !== 1) {
    throw new FormatError(`GPT revision 0x${revision.toString(16)} is not 1.x`, {
      offset: 8,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
  const headerSize = view.getUint32(12, true);
  if (headerSize < GPT_HEADER_SIZE || headerSize > block.byteLength) {
    throw new FormatError(`GPT header size ${headerSize} is not in [92, ${block.byteLength}]`, {
      offset: 12,
    });
  }
  const stored = view.getUint32(16, true);
  const copy = block.slice(0, headerSize);
  copy.fill(0, 16, 20);
  const computed = crc32(copy);
  if (stored !== computed) {
    throw new FormatError(
      `GPT header CRC32 is 0x${stored.toString(16)}, the header's bytes give 0x${computed.toString(16)}`,
      { offset: 16 },
    );
  }
  const myLba = readU64(view, 24, 'MyLBA');
  if (myLba !== expectedLba) {
    throw new FormatError(`GPT header says it is at LBA ${myLba}, it was read from LBA ${expectedLba}`, {
      offset: 24,
    });
  }
  const entrySize = view.getUint32(84, true);
  if (entrySize < GPT_ENTRY_SIZE || entrySize % GPT_ENTRY_SIZE !== 0 || (entrySize & (entrySize - 1)) !== 0) {
    throw new FormatError(`GPT entry size ${entrySize} is not 128 × 2^n`, { offset: 84 });
  }
  if (entrySize > MAX_ENTRY_SIZE) {
    throw new FormatError(`GPT entry size ${entrySize} is over the limit of ${MAX_ENTRY_SIZE}`, {
      offset: 84,
      code: 'LIMIT_EXCEEDED',
    });
  }
  const entryCount = view.getUint32(80, true);
  if (entryCount * entrySize > MAX_ENTRY_ARRAY_BYTES) {
    throw new FormatError(
      `GPT entry array of ${entryCount} × ${entrySize} bytes is over the limit of ${MAX_ENTRY_ARRAY_BYTES}`,
      { offset: 80, code: 'LIMIT_EXCEEDED' },
    );
  }
  const firstUsableLba = readU64(view, 40, 'FirstUsableLBA');
  const lastUsableLba = readU64(view, 48, 'LastUsableLBA');
  if (lastUsableLba < firstUsableLba) {
    throw new FormatError(`GPT LastUsableLBA ${lastUsableLba} is before FirstUsableLBA ${firstUsableLba}`, {
      offset: 48,
    });
  }
  return {
    myLba,
    alternateLba: readU64(view, 32, 'AlternateLBA'),
    firstUsableLba,
    lastUsableLba,
    diskGuid: decodeGuid(block, 56),
    entriesLba: readU64(view, 72, 'PartitionEntryLBA'),
    entryCount,
    entrySize,
    entriesCrc32: view.getUint32(88, true),
  };
}

/** Parses the entry array `bytes` (exactly the array the header describes), checking its CRC. */
export function parseGptEntries(bytes: Uint8Array, header: GptHeader): GptPartition[] {
  const length = header.entryCount * header.entrySize;
  if (bytes.byteLength < length) {
    throw new FormatError(`the GPT entry array needs ${length} bytes, found ${bytes.byteLength}`, {
      offset: 0,
    });
  }
  const array = bytes.subarray(0, length);
  const computed = crc32(array);
  if (computed !== header.entriesCrc32) {
    throw new FormatError(
      `GPT entry array CRC32 is 0x${header.entriesCrc32.toString(16)} in the header, the entries give 0x${computed.toString(16)}`,
      { offset: 0 },
    );
  }
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const partitions: GptPartition[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const at = i * header.entrySize;
    const typeGuid = decodeGuid(array, at);
    if (typeGuid === NIL_GUID) continue;
    const firstLba = readU64(view, at + 32, `entry ${i + 1} StartingLBA`);
    const lastLba = readU64(view, at + 40, `entry ${i + 1} EndingLBA`);
    if (lastLba < firstLba) {
      throw new FormatError(`GPT entry ${i + 1} ends at LBA ${lastLba}, before its start ${firstLba}`, {
        offset: at + 40,
      });
    }
    const units: number[] = [];
    for (let u = 0; u < NAME_UNITS; u++) {
      const unit = view.getUint16(at + 56 + u * 2, true);
      if (unit === 0) break;
      units.push(unit);
    }
    partitions.push({
      number: i + 1,
      typeGuid,
      uniqueGuid: decodeGuid(array, at + 16),
      firstLba,
      lastLba,
      attributes: view.getBigUint64(at + 48, true),
      name: String.fromCharCode(...units),
    });
  }
  return partitions;
}

/**
 * Parses a GPT disk from the bytes at its start (`head`: protective MBR, primary header and entry
 * array) and at its end (`tail`: backup entry array and header, ending at the disk's last byte).
 * Both copies are checked, and must agree.
 */
export function parseGpt(
  head: Uint8Array,
  tail: Uint8Array,
  totalSectors: number,
  sectorSize = 512,
): GptDisk {
  if (head.byteLength < 2 * sectorSize) {
    throw new FormatError(`a GPT disk's first two blocks are needed, found ${head.byteLength} bytes`, {
      offset: 0,
    });
  }
  const mbr = parseMbr(head.subarray(0, 512));
  if (!mbr.partitions.some((p) => p?.type === MBR_TYPES.GPT_PROTECTIVE)) {
    throw new FormatError('the MBR has no protective partition of type 0xEE: not a GPT disk', {
      offset: 446,
    });
  }
  const primary = parseGptHeader(head.subarray(sectorSize, 2 * sectorSize), 1);
  const lastLba = totalSectors - 1;
  if (primary.alternateLba !== lastLba) {
    throw new FormatError(
      `the primary GPT header puts its backup at LBA ${primary.alternateLba}, the disk's last LBA is ${lastLba}`,
      { offset: sectorSize + 32 },
    );
  }
  if (primary.lastUsableLba >= lastLba || primary.firstUsableLba < 2) {
    throw new FormatError(
      `GPT usable LBAs ${primary.firstUsableLba}–${primary.lastUsableLba} do not fit in a disk of ${totalSectors} sectors`,
      { offset: sectorSize + 40 },
    );
  }
  const arrayBytes = primary.entryCount * primary.entrySize;
  const headStart = primary.entriesLba * sectorSize;
  if (headStart + arrayBytes > head.byteLength) {
    throw new FormatError(
      `the primary GPT entry array (LBA ${primary.entriesLba}, ${arrayBytes} bytes) is past the ${head.byteLength} bytes read`,
      { offset: sectorSize + 72 },
    );
  }
  const partitions = parseGptEntries(head.subarray(headStart, headStart + arrayBytes), primary);
  const tailFirstLba = totalSectors - tail.byteLength / sectorSize;
  if (!Number.isInteger(tailFirstLba) || tail.byteLength < sectorSize) {
    throw new FormatError(
      `the disk's tail must be whole ${sectorSize}-byte blocks, found ${tail.byteLength} bytes`,
    );
  }
  const backup = parseGptHeader(tail.subarray(tail.byteLength - sectorSize), lastLba);
  const backupStart = (backup.entriesLba - tailFirstLba) * sectorSize;
  if (backupStart < 0 || backupStart + arrayBytes > tail.byteLength - sectorSize) {
    throw new FormatError(`the backup GPT entry array (LBA ${backup.entriesLba}) is outside the bytes read`);
  }
  const backupPartitions = parseGptEntries(tail.subarray(backupStart, backupStart + arrayBytes), backup);
  if (
    backup.alternateLba !== 1 ||
    backup.diskGuid !== primary.diskGuid ||
    backup.entriesCrc32 !== primary.entriesCrc32 ||
    backup.firstUsableLba !== primary.firstUsableLba ||
    backup.lastUsableLba !== primary.lastUsableLba ||
    backupPartitions.length !== partitions.length
  ) {
    throw new FormatError('the backup GPT header or entries differ from the primary ones');
  }
  for (const p of partitions) {
    if (p.firstLba < primary.firstUsableLba || p.lastLba > primary.lastUsableLba) {
      throw new FormatError(
        `GPT partition ${p.number} (LBA ${p.firstLba}–${p.lastLba}) is outside the usable LBAs ${primary.firstUsableLba}–${primary.lastUsableLba}`,
      );
    }
  }
  return {
    sectorSize,
    totalSectors,
    diskGuid: primary.diskGuid,
    firstUsableLba: primary.firstUsableLba,
    lastUsableLba: primary.lastUsableLba,
    entryCount: primary.entryCount,
    partitions,
  };
}

function serializeEntries(disk: GptDisk): Uint8Array {
  const array = new Uint8Array(disk.entryCount * GPT_ENTRY_SIZE);
  const view = new DataView(array.buffer, 0, array.byteLength);
  const used = new Set<number>();
  for (const p of disk.partitions) {
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > disk.entryCount || used.has(p.number)) {
      throw new FormatError(`GPT partition number ${p.number} is not a free slot in 1–${disk.entryCount}`);
    }
    used.add(p.number);
    if (p.firstLba < disk.firstUsableLba || p.lastLba > disk.lastUsableLba || p.lastLba < p.firstLba) {
      throw new FormatError(
        `GPT partition ${p.number} (LBA ${p.firstLba}–${p.lastLba}) is outside the usable LBAs ${disk.firstUsableLba}–${disk.lastUsableLba}`,
      );
    }
    if (normalizeGuid(p.typeGuid) === NIL_GUID) {
      throw new FormatError(`GPT partition ${p.number} has the nil type GUID, which marks an empty slot`);
    }
    if (p.name.length > NAME_UNITS) {
      throw new FormatError(`GPT partition name "${p.name}" is longer than 36 UTF-16 code units`, {
        code: 'LIMIT_EXCEEDED',
      });
    }
    if (p.attributes < 0n || p.attributes >= 1n << 64n) {
      throw new FormatError(`GPT partition ${p.number} attributes ${p.attributes} do not fit 64 bits`);
    }
    const at = (p.number - 1) * GPT_ENTRY_SIZE;
    array.set(encodeGuid(p.typeGuid), at);
    array.set(encodeGuid(p.uniqueGuid), at + 16);
    view.setBigUint64(at + 32, BigInt(p.firstLba), true);
    view.setBigUint64(at + 40, BigInt(p.lastLba), true);
    view.setBigUint64(at + 48, p.attributes, true);
    for (let u = 0; u < p.name.length; u++) view.setUint16(at + 56 + u * 2, p.name.charCodeAt(u), true);
  }
  return array;
}

function serializeHeader(
  disk: GptDisk,
  myLba: number,
  alternateLba: number,
  entriesLba: number,
  entriesCrc: number,
): Uint8Array {
  const block = new Uint8Array(disk.sectorSize);
  const view = new DataView(block.buffer, 0, block.byteLength);
  for (let i = 0; i < 8; i++) block[i] = GPT_SIGNATURE.charCodeAt(i);
  view.setUint32(8, GPT_REVISION, true);
  view.setUint32(12, GPT_HEADER_SIZE, true);
  view.setBigUint64(24, BigInt(myLba), true);
  view.setBigUint64(32, BigInt(alternateLba), true);
  view.setBigUint64(40, BigInt(disk.firstUsableLba), true);
  view.setBigUint64(48, BigInt(disk.lastUsableLba), true);
  block.set(encodeGuid(disk.diskGuid), 56);
  view.setBigUint64(72, BigInt(entriesLba), true);
  view.setUint32(80, disk.entryCount, true);
  view.setUint32(84, GPT_ENTRY_SIZE, true);
  view.setUint32(88, entriesCrc, true);
  view.setUint32(16, crc32(block.subarray(0, GPT_HEADER_SIZE)), true);
  return block;
}

export interface SerializedGpt {
  /** Write at byte 0: protective MBR, primary header, primary entries. */
  readonly head: Uint8Array;
  /** Write at byte `tailOffset`: backup entries, backup header (ending at the disk's end). */
  readonly tail: Uint8Array;
  readonly tailOffset: number;
}

/** The usable LBA range of a disk with the default table sizes. */
export function gptUsableRange(
  totalSectors: number,
  sectorSize = 512,
  entryCount = GPT_DEFAULT_ENTRY_COUNT,
): { firstUsableLba: number; lastUsableLba: number } {
  return {
    firstUsableLba: gptHeadSectors(sectorSize, entryCount),
    lastUsableLba: totalSectors - 1 - gptTailSectors(sectorSize, entryCount),
  };
}

export function serializeGpt(disk: GptDisk): SerializedGpt {
  const { sectorSize, totalSectors, entryCount } = disk;
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new FormatError(`sector size ${sectorSize} is not 512 or 4096`, { code: 'FORMAT_UNSUPPORTED' });
  }
  if (!Number.isSafeInteger(totalSectors) || totalSectors <= 0) {
    throw new FormatError(`disk size ${totalSectors} sectors is not a positive safe integer`);
  }
  if (
    !Number.isInteger(entryCount) ||
    entryCount < 1 ||
    entryCount * GPT_ENTRY_SIZE > MAX_ENTRY_ARRAY_BYTES
  ) {
    throw new FormatError(
      `GPT entry count ${entryCount} is not in 1–${MAX_ENTRY_ARRAY_BYTES / GPT_ENTRY_SIZE}`,
      {
        code: 'LIMIT_EXCEEDED',
      },
    );
  }
  const arraySectors = entryArraySectors(entryCount, GPT_ENTRY_SIZE, sectorSize);
  const lastLba = totalSectors - 1;
  if (disk.firstUsableLba < 2 + arraySectors || disk.lastUsableLba > lastLba - 1 - arraySectors) {
    throw new FormatError(
      `GPT usable LBAs ${disk.firstUsableLba}–${disk.lastUsableLba} overlap the tables of a ${totalSectors}-sector disk`,
    );
  }
  const entries = serializeEntries(disk);
  const entriesCrc = crc32(entries);
  const head = new Uint8Array((2 + arraySectors) * sectorSize);
  head.set(serializeMbr(protectiveMbr(totalSectors)), 0);
  head.set(serializeHeader(disk, 1, lastLba, 2, entriesCrc), sectorSize);
  head.set(entries, 2 * sectorSize);
  const backupEntriesLba = lastLba - arraySectors;
  const tail = new Uint8Array((1 + arraySectors) * sectorSize);
  tail.set(entries, 0);
  tail.set(serializeHeader(disk, lastLba, 1, backupEntriesLba, entriesCrc), arraySectors * sectorSize);
  return { head, tail, tailOffset: backupEntriesLba * sectorSize };
}
