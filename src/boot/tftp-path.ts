// Where a TFTP filename leads inside the served root — and never outside it. A client may send
// `..` segments, an absolute path (PXE loaders often ask for `/grub/grub.cfg`: read as relative to
// the root), Windows separators (`\`), percent-encoding or a name whose symlinks lead out; the
// answer is a TFTP error (RFC 1350 Appendix codes 1 and 2) for all of those that escape.

import { realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { TFTP_ERRORS } from '../formats/tftp/tftp.ts';
import { openRegularFile } from '../io/regular-file.ts';

export class TftpRefusal extends Error {
  readonly tftpCode: number;
  constructor(tftpCode: number, message: string) {
    super(message);
    this.name = 'TftpRefusal';
    this.tftpCode = tftpCode;
  }
}

/** The longest filename accepted: PXE and iPXE names are short; a long one is an attempt at something. */
export const TFTP_MAX_FILENAME = 1024;

function hasTraversal(name: string): boolean {
  return name.split('/').some((segment) => segment === '..');
}

function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function percentDecoded(name: string): string {
  return name.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The path segments of `filename` under the root, or a refusal. Pure: no file system access. */
export function tftpPathSegments(filename: string): string[] {
  if (filename.length > TFTP_MAX_FILENAME) {
    throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, `filename longer than ${TFTP_MAX_FILENAME} bytes`);
  }
  if (hasControlCharacter(filename)) {
    throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, 'control character in filename');
  }
  const name = filename.replaceAll('\\', '/');
  const decoded = percentDecoded(name).replaceAll('\\', '/');
  if (hasTraversal(name) || hasTraversal(decoded)) {
    throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, 'path outside the TFTP root');
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw new TftpRefusal(TFTP_ERRORS.FILE_NOT_FOUND, 'no file named');
  return segments;
}

function prefixOf(rootReal: string): string {
  return rootReal.endsWith(sep) ? rootReal : rootReal + sep;
}

/**
 * Files the server makes up rather than reads (GRUB's per-machine configs): given the name's path
 * segments joined by `/` and the client's address, their bytes, or null for a file of the root.
 */
export type TftpMadeFiles = (path: string, client: string) => Promise<Uint8Array | null>;

/** Bytes served as a file: a FileHandle's read and close, over memory. */
export function bytesSource(bytes: Uint8Array): Pick<FileHandle, 'read' | 'close'> {
  const read = (buffer: Uint8Array, offset: number, length: number, position: number) => {
    const chunk = bytes.subarray(position, position + length);
    buffer.set(chunk, offset);
    return Promise.resolve({ bytesRead: chunk.length, buffer });
  };
  return { read: read as FileHandle['read'], close: () => Promise.resolve() };
}

/**
 * Opens `filename` for reading under `rootReal` (the root's realpath). The name is resolved with
 * realpath and must stay under the root; the final open refuses a symlink (O_NOFOLLOW), so a
 * link swapped in after the check is not followed either; only regular files are served, and
 * nothing else is waited on (a FIFO, a socket, a device).
 */
export async function openTftpFile(
  rootReal: string,
  filename: string,
): Promise<{ handle: FileHandle; size: number; path: string }> {
  const segments = tftpPathSegments(filename);
  let real: string;
  try {
    real = await realpath(join(rootReal, ...segments));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new TftpRefusal(TFTP_ERRORS.FILE_NOT_FOUND, 'file not found');
    throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, 'access violation');
  }
  if (!real.startsWith(prefixOf(rootReal))) {
    throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, 'path outside the TFTP root');
  }
  // Non-blocking, never following a symlink swapped in since, a regular file only (src/io/regular-file.ts):
  // a FIFO, a socket or a device in the root is refused at once instead of holding a thread.
  const opened = await openRegularFile(real);
  if (opened.ok) return { handle: opened.handle, size: opened.size, path: real };
  switch (opened.refusal) {
    case 'not-found':
      throw new TftpRefusal(TFTP_ERRORS.FILE_NOT_FOUND, 'file not found');
    case 'not-regular':
      throw new TftpRefusal(TFTP_ERRORS.FILE_NOT_FOUND, 'not a regular file');
    case 'denied':
      throw new TftpRefusal(TFTP_ERRORS.ACCESS_VIOLATION, 'access violation');
  }
}
