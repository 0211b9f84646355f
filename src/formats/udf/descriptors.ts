// UDF on-disk structures, parsed from bytes: the descriptor tag and the volume, partition and file
// descriptors a read-only reader needs.
//
// Specs: ECMA-167 3rd edition (June 1997) — Part 1 §7 (charspec, dstring, extent_ad), Part 2 §9
// (Volume Recognition Sequence), Part 3 §7.2 (descriptor tag), §10.1 (Primary Volume Descriptor),
// §10.2 (Anchor Volume Descriptor Pointer), §10.3 (Volume Descriptor Pointer), §10.5 (Partition
// Descriptor), §10.6 (Logical Volume Descriptor), §10.7 (partition maps), §10.9 (Terminating
// Descriptor); Part 4 §14.1 (File Set Descriptor), §14.4 (File Identifier Descriptor), §14.5
// (Allocation Extent Descriptor), §14.6 (ICB tag), §14.9 (File Entry), §14.14 (short_ad, long_ad),
// §14.17 (Extended File Entry). OSTA UDF 2.60 §2.1.1 (OSTA compressed Unicode), §2.2.8–2.2.10
// (partition maps of type 2: virtual, sparable, metadata).
//
// Every parse function takes the bytes of one descriptor and the absolute byte offset they were read
// from (for error messages), and throws only FormatError.

import { FormatError } from '../../core/errors.ts';
import { decodeCompressedUnicode, decodeDstring } from './strings.ts';

/** Tag identifiers (ECMA-167 3/7.2.1 and 4/7.2.1). */
export const TAG_ID = {
  PRIMARY_VOLUME_DESCRIPTOR: 1,
  ANCHOR_VOLUME_DESCRIPTOR_POINTER: 2,
  VOLUME_DESCRIPTOR_POINTER: 3,
  IMPLEMENTATION_USE_VOLUME_DESCRIPTOR: 4,
  PARTITION_DESCRIPTOR: 5,
  LOGICAL_VOLUME_DESCRIPTOR: 6,
  UNALLOCATED_SPACE_DESCRIPTOR: 7,
  TERMINATING_DESCRIPTOR: 8,
  LOGICAL_VOLUME_INTEGRITY_DESCRIPTOR: 9,
  FILE_SET_DESCRIPTOR: 256,
  FILE_IDENTIFIER_DESCRIPTOR: 257,
  ALLOCATION_EXTENT_DESCRIPTOR: 258,
  INDIRECT_ENTRY: 259,
  TERMINAL_ENTRY: 260,
  FILE_ENTRY: 261,
  EXTENDED_FILE_ENTRY: 266,
} as const;

/** ICB file types (ECMA-167 4/14.6.6). */
export const FILE_TYPE = {
  UNSPECIFIED: 0,
  DIRECTORY: 4,
  FILE: 5,
  SYMLINK: 12,
  STREAM_DIRECTORY: 13,
} as const;

/** Allocation descriptor kinds, ICB tag flags bits 0–2 (ECMA-167 4/14.6.8). */
export const AD_TYPE = { SHORT: 0, LONG: 1, EXTENDED: 2, EMBEDDED: 3 } as const;

/** Extent types, the top two bits of an extent length (ECMA-167 4/14.14.1.1). */
export const EXTENT_TYPE = {
  RECORDED: 0,
  ALLOCATED_NOT_RECORDED: 1,
  NOT_ALLOCATED: 2,
  CONTINUATION: 3,
} as const;

/** File characteristics bits of a File Identifier Descriptor (ECMA-167 4/14.4.3). */
export const FID_FLAG = { HIDDEN: 1, DIRECTORY: 2, DELETED: 4, PARENT: 8, METADATA: 16 } as const;

export const TAG_SIZE = 16;

export interface DescriptorTag {
  readonly identifier: number;
  readonly version: number;
  readonly serial: number;
  readonly crcLength: number;
  /** The logical sector (or block) the descriptor says it is recorded at. */
  readonly location: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, length: number, what: string, at: number): void {
  if (bytes.byteLength < length) {
    throw new FormatError(`${what} needs ${length} bytes, only ${bytes.byteLength} are there`, {
      offset: at,
    });
  }
}

/** CRC-ITU-T, polynomial x^16 + x^12 + x^5 + 1, initial value 0 (ECMA-167 1/7.2.6 and 3/7.2.6). */
export function crcItuT(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

/** The 16-byte tag that starts every descriptor, checksum and CRC checked (ECMA-167 3/7.2). */
export function parseDescriptorTag(bytes: Uint8Array, at: number): DescriptorTag {
  need(bytes, TAG_SIZE, 'descriptor tag', at);
  const dv = view(bytes);
  let sum = 0;
  for (let i = 0; i < TAG_SIZE; i++) if (i !== 4) sum += bytes[i] ?? 0;
  const checksum = dv.getUint8(4);
  if ((sum & 0xff) !== checksum) {
    throw new FormatError(
      `descriptor tag checksum is 0x${checksum.toString(16)}, expected 0x${(sum & 0xff).toString(16)}`,
      { offset: at },
    );
  }
  const crc = dv.getUint16(8, true);
  const crcLength = dv.getUint16(10, true);
  if (TAG_SIZE + crcLength > bytes.byteLength) {
    throw new FormatError(
      `descriptor CRC covers ${crcLength} bytes, only ${bytes.byteLength - TAG_SIZE} follow the tag`,
      { offset: at },
    );
  }
  const computed = crcItuT(bytes.subarray(TAG_SIZE, TAG_SIZE + crcLength));
  if (computed !== crc) {
    throw new FormatError(
      `descriptor CRC is 0x${crc.toString(16)}, expected 0x${computed.toString(16)} over ${crcLength} bytes`,
      { offset: at },
    );
  }
  return {
    identifier: dv.getUint16(0, true),
    version: dv.getUint16(2, true),
    serial: dv.getUint16(6, true),
    crcLength,
    location: dv.getUint32(12, true),
  };
}

/** Parses the tag and checks it is the kind of descriptor expected. */
export function expectTag(bytes: Uint8Array, identifier: number, what: string, at: number): DescriptorTag {
  const tag = parseDescriptorTag(bytes, at);
  if (tag.identifier !== identifier) {
    throw new FormatError(`expected tag ${identifier} (${what}), found tag ${tag.identifier}`, {
      offset: at,
    });
  }
  return tag;
}

/** extent_ad (ECMA-167 3/7.1): a run of sectors. */
export interface ExtentAd {
  readonly length: number;
  readonly location: number;
}

/** lb_addr (ECMA-167 4/7.1): a block of a partition, by partition reference number. */
export interface LbAddr {
  readonly block: number;
  readonly partition: number;
}

/** long_ad (ECMA-167 4/14.14.2). */
export interface LongAd {
  readonly length: number;
  readonly type: number;
  readonly location: LbAddr;
}

export function parseLongAd(bytes: Uint8Array, offset: number): LongAd {
  const dv = view(bytes);
  const raw = dv.getUint32(offset, true);
  return {
    length: raw & 0x3fffffff,
    type: raw >>> 30,
    location: { block: dv.getUint32(offset + 4, true), partition: dv.getUint16(offset + 8, true) },
  };
}

export interface AnchorVolumeDescriptorPointer {
  readonly main: ExtentAd;
  readonly reserve: ExtentAd;
}

/** Anchor Volume Descriptor Pointer (ECMA-167 3/10.2). */
export function parseAnchor(bytes: Uint8Array, at: number): AnchorVolumeDescriptorPointer {
  need(bytes, 32, 'Anchor Volume Descriptor Pointer', at);
  expectTag(bytes, TAG_ID.ANCHOR_VOLUME_DESCRIPTOR_POINTER, 'Anchor Volume Descriptor Pointer', at);
  const dv = view(bytes);
  return {
    main: { length: dv.getUint32(16, true), location: dv.getUint32(20, true) },
    reserve: { length: dv.getUint32(24, true), location: dv.getUint32(28, true) },
  };
}

export interface PrimaryVolumeDescriptor {
  readonly sequenceNumber: number;
  readonly volumeIdentifier: string;
}

/** Primary Volume Descriptor (ECMA-167 3/10.1): the volume identifier at 24, dstring[32]. */
export function parsePrimaryVolumeDescriptor(bytes: Uint8Array, at: number): PrimaryVolumeDescriptor {
  need(bytes, 56, 'Primary Volume Descriptor', at);
  return {
    sequenceNumber: view(bytes).getUint32(16, true),
    volumeIdentifier: decodeDstring(bytes.subarray(24, 56), at + 24),
  };
}

/** Volume Descriptor Pointer (ECMA-167 3/10.3): where the sequence continues. */
export function parseVolumeDescriptorPointer(bytes: Uint8Array, at: number): ExtentAd {
  need(bytes, 28, 'Volume Descriptor Pointer', at);
  const dv = view(bytes);
  return { length: dv.getUint32(20, true), location: dv.getUint32(24, true) };
}

export interface PartitionDescriptor {
  readonly sequenceNumber: number;
  readonly number: number;
  readonly contents: string;
  /** First sector of the partition. */
  readonly start: number;
  /** Length in sectors. */
  readonly length: number;
}

function regidIdentifier(bytes: Uint8Array, offset: number): string {
  // regid (ECMA-167 1/7.4): flags at 0, identifier char[23] at 1, suffix at 24.
  let text = '';
  for (let i = offset + 1; i < offset + 24; i++) {
    const c = bytes[i] ?? 0;
    if (c === 0) break;
    text += String.fromCharCode(c);
  }
  return text;
}

/** Partition Descriptor (ECMA-167 3/10.5). */
export function parsePartitionDescriptor(bytes: Uint8Array, at: number): PartitionDescriptor {
  need(bytes, 196, 'Partition Descriptor', at);
  const dv = view(bytes);
  return {
    sequenceNumber: dv.getUint32(16, true),
    number: dv.getUint16(22, true),
    contents: regidIdentifier(bytes, 24),
    start: dv.getUint32(188, true),
    length: dv.getUint32(192, true),
  };
}

/** A partition map of type 1 (ECMA-167 3/10.7.2); maps of type 2 are rejected as unsupported. */
export interface PartitionMap {
  readonly volumeSequenceNumber: number;
  readonly partitionNumber: number;
}

export interface LogicalVolumeDescriptor {
  readonly sequenceNumber: number;
  readonly identifier: string;
  readonly blockSize: number;
  readonly domain: string;
  /** Where the File Set Descriptor is: the Logical Volume Contents Use field (UDF 2.60 §2.2.4.4). */
  readonly fileSetLocation: LongAd;
  readonly partitionMaps: readonly PartitionMap[];
}

/** Limit on partition maps: UDF media hold one or two; more is a corrupt count. */
export const MAX_PARTITION_MAPS = 64;

/** Logical Volume Descriptor (ECMA-167 3/10.6) with its partition maps (3/10.7). */
export function parseLogicalVolumeDescriptor(bytes: Uint8Array, at: number): LogicalVolumeDescriptor {
  need(bytes, 440, 'Logical Volume Descriptor', at);
  const dv = view(bytes);
  const mapTableLength = dv.getUint32(264, true);
  const mapCount = dv.getUint32(268, true);
  if (mapCount > MAX_PARTITION_MAPS) {
    throw new FormatError(`${mapCount} partition maps is over the limit of ${MAX_PARTITION_MAPS}`, {
      offset: at + 268,
      code: 'LIMIT_EXCEEDED',
    });
  }
  if (440 + mapTableLength > bytes.byteLength) {
    throw new FormatError(
      `partition map table of ${mapTableLength} bytes goes past the end of the descriptor`,
      { offset: at + 264 },
    );
  }
  const maps: PartitionMap[] = [];
  let pos = 440;
  const end = 440 + mapTableLength;
  for (let i = 0; i < mapCount; i++) {
    if (pos + 2 > end) {
      throw new FormatError(`partition map ${i} starts past the end of the map table`, { offset: at + pos });
    }
    const type = dv.getUint8(pos);
    const length = dv.getUint8(pos + 1);
    if (length < 2 || pos + length > end) {
      throw new FormatError(`partition map ${i} has length ${length}, which does not fit the table`, {
        offset: at + pos,
      });
    }
    if (type === 1) {
      if (length !== 6) {
        throw new FormatError(`type 1 partition map ${i} has length ${length}, expected 6`, {
          offset: at + pos,
        });
      }
      maps.push({
        volumeSequenceNumber: dv.getUint16(pos + 2, true),
        partitionNumber: dv.getUint16(pos + 4, true),
      });
    } else if (type === 2) {
      const kind = length >= 28 ? regidIdentifier(bytes, pos + 4) : 'unknown';
      throw new FormatError(
        `partition map ${i} is of type 2 (${kind}); only type 1 maps (plain partitions, as on Windows media) are supported`,
        { offset: at + pos, code: 'FORMAT_UNSUPPORTED' },
      );
    } else {
      throw new FormatError(`partition map ${i} has type ${type}, expected 1 or 2`, { offset: at + pos });
    }
    pos += length;
  }
  return {
    sequenceNumber: dv.getUint32(16, true),
    identifier: decodeDstring(bytes.subarray(84, 212), at + 84),
    blockSize: dv.getUint32(212, true),
    domain: regidIdentifier(bytes, 216),
    fileSetLocation: parseLongAd(bytes, 248),
    partitionMaps: maps,
  };
}

export interface FileSetDescriptor {
  readonly logicalVolumeIdentifier: string;
  readonly fileSetIdentifier: string;
  readonly rootDirectory: LongAd;
}

/** File Set Descriptor (ECMA-167 4/14.1). */
export function parseFileSetDescriptor(bytes: Uint8Array, at: number): FileSetDescriptor {
  need(bytes, 416, 'File Set Descriptor', at);
  expectTag(bytes, TAG_ID.FILE_SET_DESCRIPTOR, 'File Set Descriptor', at);
  return {
    logicalVolumeIdentifier: decodeDstring(bytes.subarray(112, 240), at + 112),
    fileSetIdentifier: decodeDstring(bytes.subarray(304, 336), at + 304),
    rootDirectory: parseLongAd(bytes, 400),
  };
}

/** One allocation descriptor of a file, normalised to a long_ad-like shape. */
export interface AllocationDescriptor {
  readonly length: number;
  readonly type: number;
  readonly location: LbAddr;
}

export interface FileEntry {
  readonly fileType: number;
  readonly adType: number;
  readonly size: number;
  /** Allocation descriptors as recorded in the entry (continuations not yet followed). */
  readonly descriptors: readonly AllocationDescriptor[];
  /** The file's bytes when they are embedded in the entry (adType EMBEDDED). */
  readonly embedded: Uint8Array | null;
}

function safeU64(dv: DataView, offset: number, what: string, at: number): number {
  const value = dv.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} ${value} is larger than 2^53 - 1`, { offset: at + offset });
  }
  return Number(value);
}

/**
 * Allocation descriptors packed in `bytes` (ECMA-167 4/14.14): short_ad (8 bytes, in the partition of
 * the entry) or long_ad (16 bytes). A zero length ends the list (4/12.1).
 */
export function parseAllocationDescriptors(
  bytes: Uint8Array,
  adType: number,
  partition: number,
  at: number,
): AllocationDescriptor[] {
  const dv = view(bytes);
  const out: AllocationDescriptor[] = [];
  if (adType === AD_TYPE.SHORT || adType === AD_TYPE.LONG) {
    const width = adType === AD_TYPE.SHORT ? 8 : 16;
    if (bytes.byteLength % width !== 0) {
      throw new FormatError(
        `${bytes.byteLength} bytes of allocation descriptors is not a multiple of ${width}`,
        { offset: at },
      );
    }
    for (let pos = 0; pos < bytes.byteLength; pos += width) {
      const raw = dv.getUint32(pos, true);
      if ((raw & 0x3fffffff) === 0) break;
      out.push(
        width === 8
          ? {
              length: raw & 0x3fffffff,
              type: raw >>> 30,
              location: { block: dv.getUint32(pos + 4, true), partition },
            }
          : parseLongAd(bytes, pos),
      );
    }
  } else if (adType === AD_TYPE.EXTENDED) {
    throw new FormatError('extended allocation descriptors (ext_ad) are not supported', {
      offset: at,
      code: 'FORMAT_UNSUPPORTED',
    });
  } else {
    throw new FormatError(`allocation descriptor type ${adType} is not defined`, { offset: at });
  }
  return out;
}

/**
 * A File Entry (ECMA-167 4/14.9) or an Extended File Entry (4/14.17), after its tag was checked.
 * `partition` is the partition reference the entry was read from (short_ad extents lie in it).
 */
export function parseFileEntry(bytes: Uint8Array, partition: number, at: number): FileEntry {
  const tag = parseDescriptorTag(bytes, at);
  const extended = tag.identifier === TAG_ID.EXTENDED_FILE_ENTRY;
  if (tag.identifier === TAG_ID.INDIRECT_ENTRY) {
    throw new FormatError('indirect ICB entries (strategy 4096) are not supported', {
      offset: at,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
  if (!extended && tag.identifier !== TAG_ID.FILE_ENTRY) {
    throw new FormatError(`expected tag 261 or 266 (File Entry), found tag ${tag.identifier}`, {
      offset: at,
    });
  }
  const header = extended ? 216 : 176;
  need(bytes, header, extended ? 'Extended File Entry' : 'File Entry', at);
  const dv = view(bytes);
  const strategy = dv.getUint16(16 + 4, true);
  if (strategy !== 4) {
    throw new FormatError(`ICB strategy ${strategy} is not supported; expected 4`, {
      offset: at + 20,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
  const fileType = dv.getUint8(16 + 11);
  const adType = dv.getUint16(16 + 18, true) & 7;
  const size = safeU64(dv, 56, 'information length', at);
  const eaLength = dv.getUint32(extended ? 208 : 168, true);
  const adLength = dv.getUint32(extended ? 212 : 172, true);
  const adStart = header + eaLength;
  if (adStart + adLength > bytes.byteLength) {
    throw new FormatError(
      `extended attributes (${eaLength} bytes) and allocation descriptors (${adLength} bytes) do not fit in the ${bytes.byteLength}-byte entry`,
      { offset: at + header },
    );
  }
  const area = bytes.subarray(adStart, adStart + adLength);
  if (adType === AD_TYPE.EMBEDDED) {
    if (size > adLength) {
      throw new FormatError(`embedded file data is ${adLength} bytes, the entry says the file has ${size}`, {
        offset: at + adStart,
      });
    }
    return { fileType, adType, size, descriptors: [], embedded: area.subarray(0, size) };
  }
  return {
    fileType,
    adType,
    size,
    descriptors: parseAllocationDescriptors(area, adType, partition, at + adStart),
    embedded: null,
  };
}

/** Allocation Extent Descriptor (ECMA-167 4/14.5): more allocation descriptors, where a list continues. */
export function parseAllocationExtent(
  bytes: Uint8Array,
  adType: number,
  partition: number,
  at: number,
): AllocationDescriptor[] {
  need(bytes, 24, 'Allocation Extent Descriptor', at);
  expectTag(bytes, TAG_ID.ALLOCATION_EXTENT_DESCRIPTOR, 'Allocation Extent Descriptor', at);
  const length = view(bytes).getUint32(20, true);
  if (24 + length > bytes.byteLength) {
    throw new FormatError(`allocation extent says ${length} bytes of descriptors, the block holds fewer`, {
      offset: at + 20,
    });
  }
  return parseAllocationDescriptors(bytes.subarray(24, 24 + length), adType, partition, at + 24);
}

export interface FileIdentifier {
  readonly name: string;
  readonly characteristics: number;
  readonly icb: LongAd;
}

/**
 * The File Identifier Descriptors of a directory's content (ECMA-167 4/14.4), in order. `at` is the
 * absolute offset of the first byte for messages; `limit` caps how many are read.
 */
export function parseFileIdentifiers(bytes: Uint8Array, at: number, limit: number): FileIdentifier[] {
  const out: FileIdentifier[] = [];
  let pos = 0;
  while (pos + 38 <= bytes.byteLength) {
    if (out.length >= limit) {
      throw new FormatError(`directory has more than ${limit} entries`, {
        offset: at + pos,
        code: 'LIMIT_EXCEEDED',
      });
    }
    const here = bytes.subarray(pos);
    const dv = view(here);
    const nameLength = dv.getUint8(19);
    const iuLength = dv.getUint16(36, true);
    const total = (38 + iuLength + nameLength + 3) & ~3;
    if (38 + iuLength + nameLength > here.byteLength) {
      throw new FormatError(
        `file identifier of ${38 + iuLength + nameLength} bytes goes past the directory end`,
        {
          offset: at + pos,
        },
      );
    }
    expectTag(
      here.subarray(0, Math.min(total, here.byteLength)),
      TAG_ID.FILE_IDENTIFIER_DESCRIPTOR,
      'File Identifier Descriptor',
      at + pos,
    );
    const characteristics = dv.getUint8(18);
    const nameBytes = here.subarray(38 + iuLength, 38 + iuLength + nameLength);
    const name =
      characteristics & FID_FLAG.PARENT ? '..' : decodeFileIdentifier(nameBytes, at + pos + 38 + iuLength);
    out.push({ name, characteristics, icb: parseLongAd(here, 20) });
    pos += total;
  }
  return out;
}

function decodeFileIdentifier(bytes: Uint8Array, at: number): string {
  if (bytes.byteLength === 0) throw new FormatError('file identifier is empty', { offset: at });
  return decodeCompressedUnicode(bytes, at);
}
