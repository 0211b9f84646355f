// Writes the initramfs: the entries as one cpio "newc" archive (src/formats/cpio.ts), compressed with
// zstd, which Debian's kernels unpack (CONFIG_RD_ZSTD). Everything that could differ between two
// builds is fixed: entries in path order, inode numbers counted from 1, owner root, one mtime (the
// lock's), modes from the kind of entry (0755 or 0644, links 0777), and zstd's level and parameters
// (Node's own zstd, single-threaded: the same bytes from the same input).

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createZstdCompress } from 'node:zlib';
import { AppError } from '../../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { CPIO_TYPES, cpioPadding, serializeCpioHeader, serializeCpioTrailer } from '../../formats/cpio.ts';
import type { EnvEntry } from './plan.ts';

/** zstd level: 9 packs the environment about as well as 15 in a tenth of the time. */
export const ZSTD_LEVEL = 9;

export interface InitramfsInfo {
  /** Bytes of the compressed file. */
  readonly size: number;
  readonly sha256: string;
  readonly compression: 'zstd';
  /** Bytes of the cpio archive before compression. */
  readonly unpackedSize: number;
  readonly cpioSha256: string;
  readonly members: number;
}

interface Member {
  readonly mode: number;
  readonly nlink: number;
  readonly rdev: readonly [number, number];
  readonly size: number;
  /** The data: bytes, or a file read as it is written. */
  readonly data: Uint8Array | { readonly file: string };
}

async function memberOf(entry: EnvEntry): Promise<Member> {
  const none = new Uint8Array();
  const perm = (executable: boolean): number => (executable ? 0o755 : 0o644);
  switch (entry.kind) {
    case 'directory':
      return { mode: CPIO_TYPES.S_IFDIR | 0o755, nlink: 2, rdev: [0, 0], size: 0, data: none };
    case 'file':
      return {
        mode: CPIO_TYPES.S_IFREG | perm(entry.executable),
        nlink: 1,
        rdev: [0, 0],
        size: (await stat(entry.source)).size,
        data: { file: entry.source },
      };
    case 'data':
      return {
        mode: CPIO_TYPES.S_IFREG | perm(entry.executable),
        nlink: 1,
        rdev: [0, 0],
        size: entry.data.byteLength,
        data: entry.data,
      };
    case 'symlink': {
      const target = new TextEncoder().encode(entry.target);
      return {
        mode: CPIO_TYPES.S_IFLNK | 0o777,
        nlink: 1,
        rdev: [0, 0],
        size: target.byteLength,
        data: target,
      };
    }
    case 'char-device':
      return {
        mode: CPIO_TYPES.S_IFCHR | 0o600,
        nlink: 1,
        rdev: [entry.major, entry.minor],
        size: 0,
        data: none,
      };
  }
}

/** The archive's bytes, in order, with its SHA-256 and size counted as they go. */
async function* archive(
  entries: readonly EnvEntry[],
  mtime: number,
  hash: Hash,
  count: { bytes: number },
  progress: ProgressListener,
): AsyncGenerator<Uint8Array> {
  const emit = (bytes: Uint8Array): Uint8Array => {
    hash.update(bytes);
    count.bytes += bytes.byteLength;
    return bytes;
  };
  for (const [i, entry] of entries.entries()) {
    const m = await memberOf(entry);
    yield emit(
      serializeCpioHeader({
        name: entry.path.replace(/^\/+/, ''),
        ino: i + 1,
        mode: m.mode,
        uid: 0,
        gid: 0,
        nlink: m.nlink,
        mtime,
        fileSize: m.size,
        devMajor: 0,
        devMinor: 0,
        rdevMajor: m.rdev[0],
        rdevMinor: m.rdev[1],
      }),
    );
    if (m.data instanceof Uint8Array) {
      if (m.data.byteLength > 0) yield emit(m.data);
    } else {
      let read = 0;
      for await (const chunk of createReadStream(m.data.file)) {
        const bytes = chunk as Buffer;
        read += bytes.byteLength;
        if (read > m.size) break;
        yield emit(bytes);
      }
      if (read !== m.size) {
        throw new AppError(
          'IO_ERROR',
          `${m.data.file} changed while it was read: ${read} bytes, expected ${m.size}`,
        );
      }
    }
    const pad = cpioPadding(m.size);
    if (pad > 0) yield emit(new Uint8Array(pad));
    progress({ phase: 'Writing the initramfs', done: i + 1, total: entries.length, unit: 'items' });
  }
  yield emit(serializeCpioTrailer());
}

/** Writes `entries` as a zstd-compressed cpio archive at `output`. */
export async function writeInitramfs(
  entries: readonly EnvEntry[],
  output: string,
  mtime: number,
  progress: ProgressListener = ignoreProgress,
): Promise<InitramfsInfo> {
  const cpioHash = createHash('sha256');
  const cpio = { bytes: 0 };
  const fileHash = createHash('sha256');
  let size = 0;
  const tally = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      fileHash.update(chunk);
      size += chunk.byteLength;
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.from(archive(entries, mtime, cpioHash, cpio, progress)),
    createZstdCompress({
      params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [constants.ZSTD_c_checksumFlag]: 1 },
    }),
    tally,
    createWriteStream(output),
  );
  return {
    size,
    sha256: fileHash.digest('hex'),
    compression: 'zstd',
    unpackedSize: cpio.bytes,
    cpioSha256: cpioHash.digest('hex'),
    members: entries.length,
  };
}
