// The 208-byte header at the start of every WIM file (and of every part of a split WIM).
// Layout as in wimlib's include/wimlib/header.h (`struct wim_header_disk`, WIM_HDR_FLAG_*) and
// include/wimlib/resource.h (`struct wim_reshdr_disk`, WIM_RESHDR_FLAG_*); the older Microsoft
// "Windows Imaging File Format" white paper describes the same fields without solid/LZMS.
// All integers are little-endian.

import { FormatError } from '../../core/errors.ts';

export const WIM_HEADER_SIZE = 208;
export const WIM_RESHDR_SIZE = 24;

/** "MSWIM\0\0\0": a normal WIM. */
export const WIM_MAGIC = 'MSWIM\0\0\0';
/** "WLPWM\0\0\0": a pipable WIM, wimlib's own variant (wimlib: src/write.c, write_pipable_wim). */
export const PWM_MAGIC = 'WLPWM\0\0\0';

export const WIM_VERSION_DEFAULT = 0x10d00;
/** Version of WIMs holding solid resources (ESD files, wimcapture --solid). */
export const WIM_VERSION_SOLID = 0xe00;

export const WIM_HDR_FLAG = {
  RESERVED: 0x00000001,
  COMPRESSION: 0x00000002,
  READONLY: 0x00000004,
  SPANNED: 0x00000008,
  RESOURCE_ONLY: 0x00000010,
  METADATA_ONLY: 0x00000020,
  WRITE_IN_PROGRESS: 0x00000040,
  RP_FIX: 0x00000080,
  COMPRESS_RESERVED: 0x00010000,
  COMPRESS_XPRESS: 0x00020000,
  COMPRESS_LZX: 0x00040000,
  COMPRESS_LZMS: 0x00080000,
  COMPRESS_XPRESS_2: 0x00200000,
} as const;

export const WIM_RESHDR_FLAG = {
  FREE: 0x01,
  METADATA: 0x02,
  COMPRESSED: 0x04,
  SPANNED: 0x08,
  SOLID: 0x10,
} as const;

/** Chunk sizes wimlib accepts for any format: a power of two from 2^12 (WIMBoot XPRESS) to 2^30 (LZMS). */
const MIN_CHUNK_SIZE = 1 << 12;
const MAX_CHUNK_SIZE = 1 << 30;

/**
 * Images one WIM may hold here. Real install.wim files hold a handful (Server 2022: 4); the limit
 * keeps a corrupt count from making readers allocate per-image state by the billion.
 */
export const MAX_IMAGES = 10_000;

export type WimHeaderCompression = 'none' | 'XPRESS' | 'LZX' | 'LZMS';

/** `struct wim_reshdr_disk`: where a resource lies in the file and how big it is. */
export interface WimResourceHeader {
  /** Bytes the resource takes in the file (56 bits on disk). */
  readonly sizeInWim: number;
  readonly flags: number;
  readonly offsetInWim: number;
  readonly uncompressedSize: number;
}

export interface WimHeader {
  readonly pipable: boolean;
  readonly version: number;
  readonly flags: number;
  readonly chunkSize: number;
  /** 16 bytes, the same in every part of a split WIM. */
  readonly guid: Uint8Array;
  readonly partNumber: number;
  readonly totalParts: number;
  readonly imageCount: number;
  readonly blobTable: WimResourceHeader;
  readonly xmlData: WimResourceHeader;
  readonly bootMetadata: WimResourceHeader;
  /** 1-based index of the bootable image, 0 when none is. */
  readonly bootIndex: number;
  readonly integrity: WimResourceHeader;
}

function readU64(view: DataView, offset: number, what: string): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`${what} ${value} is larger than this program can handle`, {
      offset,
      code: 'LIMIT_EXCEEDED',
    });
  }
  return Number(value);
}

function parseResourceHeader(view: DataView, offset: number, what: string): WimResourceHeader {
  // +0x00 u56 size_in_wim, +0x07 u8 flags, +0x08 u64 offset_in_wim, +0x10 u64 uncompressed_size
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true) & 0x00ffffff;
  return {
    sizeInWim: high * 0x1_0000_0000 + low,
    flags: view.getUint8(offset + 7),
    offsetInWim: readU64(view, offset + 8, `${what} offset`),
    uncompressedSize: readU64(view, offset + 16, `${what} uncompressed size`),
  };
}

function serializeResourceHeader(view: DataView, offset: number, r: WimResourceHeader): void {
  if (!Number.isSafeInteger(r.sizeInWim) || r.sizeInWim < 0 || r.sizeInWim >= 2 ** 56) {
    throw new FormatError(`resource size ${r.sizeInWim} does not fit in 56 bits`);
  }
  view.setUint32(offset, r.sizeInWim % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(r.sizeInWim / 0x1_0000_0000), true);
  view.setUint8(offset + 7, r.flags);
  view.setBigUint64(offset + 8, BigInt(r.offsetInWim), true);
  view.setBigUint64(offset + 16, BigInt(r.uncompressedSize), true);
}

function magicOf(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes.subarray(0, 8));
}

function printable(magic: string): string {
  return JSON.stringify(magic).slice(1, -1);
}

/** The compression format named by the header flags (wimlib: src/wim.c, read of WIM_HDR_FLAG_COMPRESS_*). */
export function compressionOf(header: Pick<WimHeader, 'flags'>): WimHeaderCompression {
  if ((header.flags & WIM_HDR_FLAG.COMPRESSION) === 0) return 'none';
  if (header.flags & WIM_HDR_FLAG.COMPRESS_XPRESS) return 'XPRESS';
  if (header.flags & WIM_HDR_FLAG.COMPRESS_LZX) return 'LZX';
  if (header.flags & WIM_HDR_FLAG.COMPRESS_LZMS) return 'LZMS';
  throw new FormatError(
    `header flags 0x${header.flags.toString(16)} say compressed but name no format WIMs use (XPRESS, LZX, LZMS)`,
    { offset: 0x10, code: 'FORMAT_UNSUPPORTED' },
  );
}

/** Reads the header from the first 208 bytes of `bytes` (more may follow; they are ignored). */
export function parseWimHeader(bytes: Uint8Array): WimHeader {
  if (bytes.byteLength < WIM_HEADER_SIZE) {
    throw new FormatError(
      `a WIM header is ${WIM_HEADER_SIZE} bytes; the input has only ${bytes.byteLength}`,
      { offset: bytes.byteLength },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, WIM_HEADER_SIZE);
  const magic = magicOf(bytes); // +0x00 u8[8] magic
  if (magic !== WIM_MAGIC && magic !== PWM_MAGIC) {
    throw new FormatError(`expected the WIM magic "MSWIM\\0\\0\\0", found "${printable(magic)}"`, {
      offset: 0,
    });
  }
  const headerSize = view.getUint32(0x08, true); // +0x08 u32 header size, 208
  if (headerSize !== WIM_HEADER_SIZE) {
    throw new FormatError(`expected a header size of ${WIM_HEADER_SIZE}, found ${headerSize}`, {
      offset: 0x08,
    });
  }
  const version = view.getUint32(0x0c, true); // +0x0c u32 version
  if (version !== WIM_VERSION_DEFAULT && version !== WIM_VERSION_SOLID) {
    throw new FormatError(
      `WIM version 0x${version.toString(16)} is not one known (0x10d00, or 0xe00 for solid WIMs)`,
      { offset: 0x0c, code: 'FORMAT_UNSUPPORTED' },
    );
  }
  const flags = view.getUint32(0x10, true); // +0x10 u32 flags, WIM_HDR_FLAG_*
  const chunkSize = view.getUint32(0x14, true); // +0x14 u32 chunk size of non-solid resources
  const header: WimHeader = {
    pipable: magic === PWM_MAGIC,
    version,
    flags,
    chunkSize,
    guid: bytes.slice(0x18, 0x28), // +0x18 u8[16] GUID
    partNumber: view.getUint16(0x28, true), // +0x28 u16 part number, 1-based
    totalParts: view.getUint16(0x2a, true), // +0x2a u16 total parts
    imageCount: view.getUint32(0x2c, true), // +0x2c u32 image count
    blobTable: parseResourceHeader(view, 0x30, 'blob table'), // +0x30 reshdr blob table
    xmlData: parseResourceHeader(view, 0x48, 'XML data'), // +0x48 reshdr XML data
    bootMetadata: parseResourceHeader(view, 0x60, 'boot metadata'), // +0x60 reshdr boot metadata
    bootIndex: view.getUint32(0x78, true), // +0x78 u32 boot index, 0 = none
    integrity: parseResourceHeader(view, 0x7c, 'integrity table'), // +0x7c reshdr integrity table
    // +0x94 u8[60] unused
  };
  const compression = compressionOf(header);
  if (
    compression !== 'none' &&
    (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || chunkSize & (chunkSize - 1))
  ) {
    throw new FormatError(
      `chunk size ${chunkSize} is not a power of two in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`,
      { offset: 0x14 },
    );
  }
  if (header.totalParts === 0 || header.partNumber === 0 || header.partNumber > header.totalParts) {
    throw new FormatError(
      `part ${header.partNumber} of ${header.totalParts} is not a valid part number (1 to the total)`,
      { offset: 0x28 },
    );
  }
  if (header.imageCount > MAX_IMAGES) {
    throw new FormatError(`image count ${header.imageCount} is over the limit of ${MAX_IMAGES}`, {
      offset: 0x2c,
      code: 'LIMIT_EXCEEDED',
    });
  }
  return header;
}

/** The inverse of parseWimHeader: 208 bytes. */
export function serializeWimHeader(header: WimHeader): Uint8Array {
  if (header.guid.byteLength !== 16) {
    throw new FormatError(`a WIM GUID is 16 bytes, found ${header.guid.byteLength}`);
  }
  const bytes = new Uint8Array(WIM_HEADER_SIZE);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = header.pipable ? PWM_MAGIC : WIM_MAGIC;
  for (let i = 0; i < 8; i += 1) bytes[i] = magic.charCodeAt(i);
  view.setUint32(0x08, WIM_HEADER_SIZE, true);
  view.setUint32(0x0c, header.version, true);
  view.setUint32(0x10, header.flags, true);
  view.setUint32(0x14, header.chunkSize, true);
  bytes.set(header.guid, 0x18);
  view.setUint16(0x28, header.partNumber, true);
  view.setUint16(0x2a, header.totalParts, true);
  view.setUint32(0x2c, header.imageCount, true);
  serializeResourceHeader(view, 0x30, header.blobTable);
  serializeResourceHeader(view, 0x48, header.xmlData);
  serializeResourceHeader(view, 0x60, header.bootMetadata);
  view.setUint32(0x78, header.bootIndex, true);
  serializeResourceHeader(view, 0x7c, header.integrity);
  return bytes;
}

/** The GUID as wiminfo prints it: the 16 bytes in file order, as 32 lowercase hex digits. */
export function formatWimGuid(guid: Uint8Array): string {
  return [...guid].map((b) => b.toString(16).padStart(2, '0')).join('');
}
