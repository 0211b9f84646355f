// Small cpio "newc" archives for tests, written whole with winsmith's cpio codec: each member's
// header, data and padding, then the trailer.

import { cpioPadding, serializeCpioHeader, serializeCpioTrailer } from '../../src/formats/cpio.ts';

export interface TestMember {
  readonly name: string;
  /** File type and permission bits (CPIO_TYPES.S_IFREG | 0o644, ...). */
  readonly mode: number;
  /** A file's bytes (or text) or a link's target ('' for a directory). */
  readonly data: string | Uint8Array;
}

/** The archive of `members`, inode numbers counted from `firstIno`, all with `mtime`. */
export function cpioArchive(members: readonly TestMember[], mtime = 0, firstIno = 1): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [i, m] of members.entries()) {
    const data = typeof m.data === 'string' ? new TextEncoder().encode(m.data) : m.data;
    const header = serializeCpioHeader({
      name: m.name,
      ino: firstIno + i,
      mode: m.mode,
      uid: 0,
      gid: 0,
      nlink: 1,
      mtime,
      fileSize: data.byteLength,
      devMajor: 0,
      devMinor: 0,
      rdevMajor: 0,
      rdevMinor: 0,
    });
    parts.push(header, data, new Uint8Array(cpioPadding(data.byteLength)));
  }
  parts.push(serializeCpioTrailer());
  return new Uint8Array(Buffer.concat(parts));
}
