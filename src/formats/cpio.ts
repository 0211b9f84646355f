// The cpio "newc" archive, the format of a Linux initramfs: the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst ("initramfs buffer format") and
// cpio(5) of libarchive, "New ASCII Format". Each member is a 110-byte header of ASCII, then its
// NUL-terminated name, padded with NULs to a multiple of 4 bytes (header and name together), then its
// data, padded to a multiple of 4. The header, every field 8 hexadecimal digits but the magic:
//   0 c_magic "070701" · 6 c_ino · 14 c_mode · 22 c_uid · 30 c_gid · 38 c_nlink · 46 c_mtime ·
//   54 c_filesize · 62 c_devmajor · 70 c_devminor · 78 c_rdevmajor · 86 c_rdevminor ·
//   94 c_namesize (with the NUL) · 102 c_check (0 in "newc"; a sum of the data bytes in "070702").
// A member named "TRAILER!!!" ends the archive; writers may pad after it with NULs to a block size
// (GNU cpio: 512 bytes), and the kernel reads several archives one after another.
//
// The data of a symbolic link is its target. Hard links (c_nlink > 1 on a file sharing c_ino) are
// not written here; the reader reports c_nlink and c_ino as they are.

import { checkRange, type ByteSource } from '../core/byte-source.ts';
import { FormatError } from '../core/errors.ts';

export const CPIO_NEWC_MAGIC = '070701';
/** The "newc" with a checksum of the data, which winsmith reads nowhere. */
export const CPIO_CRC_MAGIC = '070702';
export const CPIO_HEADER_SIZE = 110;
export const CPIO_TRAILER_NAME = 'TRAILER!!!';

/** File types of c_mode (the S_IF* bits of <sys/stat.h>). */
export const CPIO_TYPES = {
  S_IFMT: 0o170000,
  S_IFDIR: 0o040000,
  S_IFREG: 0o100000,
  S_IFLNK: 0o120000,
  S_IFCHR: 0o020000,
  S_IFBLK: 0o060000,
  S_IFIFO: 0o010000,
  S_IFSOCK: 0o140000,
} as const;

/** Safety limit: a name longer than this is refused (PATH_MAX, as the kernel's unpacker refuses it). */
export const MAX_NAME_SIZE = 4096;
const MAX_FIELD = 0xffffffff;
const FIELDS = [
  'ino',
  'mode',
  'uid',
  'gid',
  'nlink',
  'mtime',
  'fileSize',
  'devMajor',
  'devMinor',
  'rdevMajor',
  'rdevMinor',
] as const;

/** One member's header; `fileSize` bytes of data follow it. */
export interface CpioHeader {
  readonly name: string;
  readonly ino: number;
  /** File type and permission bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  /** Seconds since 1970. */
  readonly mtime: number;
  readonly fileSize: number;
  readonly devMajor: number;
  readonly devMinor: number;
  /** The device a character or block special file stands for. */
  readonly rdevMajor: number;
  readonly rdevMinor: number;
}

/** A member as read: its header, and where its data is in the archive. */
export interface CpioMember extends CpioHeader {
  readonly dataOffset: number;
}

/** NUL bytes that bring `length` to a multiple of 4. */
export function cpioPadding(length: number): number {
  return (4 - (length % 4)) % 4;
}

function hex8(value: number, field: string): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_FIELD) {
    throw new FormatError(`cpio ${field} ${value} is not an integer in [0, 0xffffffff]`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  return value.toString(16).padStart(8, '0');
}

/** The header of a member and its padded name: what goes before its data. */
export function serializeCpioHeader(header: CpioHeader): Uint8Array {
  const name = new TextEncoder().encode(header.name);
  if (name.includes(0)) throw new FormatError(`cpio name ${JSON.stringify(header.name)} holds a NUL`);
  const nameSize = name.byteLength + 1;
  if (nameSize > MAX_NAME_SIZE) {
    throw new FormatError(`cpio name of ${nameSize} bytes is longer than ${MAX_NAME_SIZE}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  const fields = FIELDS.map((f) => hex8(header[f], f)).join('');
  const text = `${CPIO_NEWC_MAGIC}${fields}${hex8(nameSize, 'namesize')}${hex8(0, 'check')}`;
  const total = CPIO_HEADER_SIZE + nameSize;
  const out = new Uint8Array(total + cpioPadding(total));
  out.set(new TextEncoder().encode(text), 0);
  out.set(name, CPIO_HEADER_SIZE);
  return out;
}

/** The member that ends an archive. */
export function serializeCpioTrailer(): Uint8Array {
  return serializeCpioHeader({
    name: CPIO_TRAILER_NAME,
    ino: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    fileSize: 0,
    devMajor: 0,
    devMinor: 0,
    rdevMajor: 0,
    rdevMinor: 0,
  });
}

function parseField(text: string, index: number, offset: number): number {
  const digits = text.slice(6 + index * 8, 14 + index * 8);
  if (!/^[0-9A-Fa-f]{8}$/.test(digits)) {
    throw new FormatError(`cpio header field ${JSON.stringify(digits)} is not 8 hexadecimal digits`, {
      offset: offset + 6 + index * 8,
    });
  }
  return Number.parseInt(digits, 16);
}

/** The header at `offset`, and where its data starts (after the padded name). */
async function readHeader(
  source: ByteSource,
  offset: number,
): Promise<{ header: CpioHeader; dataOffset: number }> {
  checkRange(source.size, offset, CPIO_HEADER_SIZE, 'cpio header');
  const text = new TextDecoder('latin1').decode(await source.read(offset, CPIO_HEADER_SIZE));
  const magic = text.slice(0, 6);
  if (magic === CPIO_CRC_MAGIC) {
    throw new FormatError('cpio "070702" (newc with checksums) is not supported; expected "070701"', {
      code: 'FORMAT_UNSUPPORTED',
      offset,
    });
  }
  if (magic !== CPIO_NEWC_MAGIC) {
    throw new FormatError(`cpio magic ${JSON.stringify(magic)} is not "070701" (newc)`, { offset });
  }
  const field = (name: (typeof FIELDS)[number]): number => parseField(text, FIELDS.indexOf(name), offset);
  const nameSize = parseField(text, FIELDS.length, offset);
  if (nameSize < 1 || nameSize > MAX_NAME_SIZE) {
    throw new FormatError(`cpio name size ${nameSize} is not in [1, ${MAX_NAME_SIZE}]`, {
      code: nameSize > MAX_NAME_SIZE ? 'LIMIT_EXCEEDED' : 'FORMAT_INVALID',
      offset: offset + 94,
    });
  }
  const nameOffset = offset + CPIO_HEADER_SIZE;
  checkRange(source.size, nameOffset, nameSize, 'cpio name');
  const nameBytes = await source.read(nameOffset, nameSize);
  if (nameBytes[nameSize - 1] !== 0 || nameBytes.subarray(0, nameSize - 1).includes(0)) {
    throw new FormatError(`cpio name of ${nameSize} bytes does not end at its first NUL`, {
      offset: nameOffset,
    });
  }
  const header: CpioHeader = {
    name: new TextDecoder('utf-8').decode(nameBytes.subarray(0, nameSize - 1)),
    ino: field('ino'),
    mode: field('mode'),
    uid: field('uid'),
    gid: field('gid'),
    nlink: field('nlink'),
    mtime: field('mtime'),
    fileSize: field('fileSize'),
    devMajor: field('devMajor'),
    devMinor: field('devMinor'),
    rdevMajor: field('rdevMajor'),
    rdevMinor: field('rdevMinor'),
  };
  const end = nameOffset + nameSize;
  return { header, dataOffset: end + cpioPadding(end) };
}

/**
 * The members of the newc archive at the start of `source`, up to its trailer (which is not
 * listed): headers and where each one's data is; the data itself is read by the caller.
 */
export async function readCpioMembers(source: ByteSource): Promise<CpioMember[]> {
  const members: CpioMember[] = [];
  let offset = 0;
  for (;;) {
    const { header, dataOffset } = await readHeader(source, offset);
    if (header.name === CPIO_TRAILER_NAME) return members;
    checkRange(source.size, dataOffset, header.fileSize, `cpio data of ${header.name}`);
    members.push({ ...header, dataOffset });
    const end = dataOffset + header.fileSize;
    offset = end + cpioPadding(end);
  }
}
