// An NBD export on a Unix socket made a read-only regular file that programs seek in: nbdfuse
// (Debian `libnbd-bin`, on FUSE from `fuse3`) connects to the socket and puts the export on a
// FUSE-mounted file; each read of the file becomes NBD reads (nbdfuse(1) of libnbd 1.14). The
// kernel's read-ahead for the mount is raised, so that a reader going forward has the next bytes
// asked for while it works on these. wimlib applies a normal, non-pipable WIM from such a file
// with no local copy.

import { access, constants, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';
import { runProgram, startProgram } from './run.ts';

export interface NbdFileOptions {
  /** The Unix socket an NBD server listens on. */
  readonly unixSocket: string;
  /** An existing empty regular file: the mount point, which becomes the resource. */
  readonly mountFile: string;
  /** The resource's size: the mount is ready when the file shows it. */
  readonly size: number;
  /** How long the mount may take to appear (default 15 s). */
  readonly readyTimeoutMs?: number;
}

export interface MountedNbdFile {
  readonly path: string;
  /** Unmounts the file and waits for nbdfuse to end. */
  unmount(): Promise<void>;
}

const POLL_MS = 20;
const EXIT_WAIT_MS = 5000;

/** FUSE works here: /dev/fuse exists and can be opened for reading and writing. */
export async function fuseAvailable(): Promise<boolean> {
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}

/** The kernel's read-ahead on the mount, in KiB (its default is 128). */
const READ_AHEAD_KB = 4096;

/**
 * Raises the read-ahead of the FUSE mount that holds `path` (its backing device's, in sysfs). A
 * kernel that does not let it be changed leaves the default: slower, not wrong.
 */
async function raiseReadAhead(path: string): Promise<void> {
  const dev = (await stat(path)).dev;
  const major = (dev >>> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  await writeFile(`/sys/class/bdi/${major}:${minor}/read_ahead_kb`, String(READ_AHEAD_KB)).catch(
    () => undefined,
  );
}

/** Mounts the NBD export on `options.unixSocket` read-only on `options.mountFile`. */
export async function mountNbdFile(options: NbdFileOptions): Promise<MountedNbdFile> {
  if (!(await fuseAvailable())) {
    throw new AppError('IO_ERROR', 'FUSE is not available: /dev/fuse is missing or cannot be opened', {
      hint: 'load the fuse kernel module (modprobe fuse) and give the process /dev/fuse',
    });
  }
  const stop = new AbortController();
  // Under setpriv with a parent-death signal: if this process ends without unmounting (killed,
  // crashed), nbdfuse is sent SIGTERM, and unmounts.
  const started = startProgram(
    'setpriv',
    ['--pdeathsig', 'TERM', '--', 'nbdfuse', '-r', options.mountFile, '--unix', options.unixSocket],
    { signal: stop.signal },
  );
  started.stdin.end();
  // Settles only if nbdfuse ends: before the mount is ready that is a failure.
  const ended: Promise<Error> = started.done.then(
    () => new AppError('PROGRAM_FAILED', `nbdfuse ended before ${options.mountFile} was mounted`),
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while ((await sizeOf(options.mountFile)) !== options.size) {
    if (Date.now() > deadline) {
      stop.abort();
      await ended;
      throw new AppError(
        'PROGRAM_FAILED',
        `nbdfuse did not show ${options.size} bytes on ${options.mountFile} within ${Math.round(timeoutMs / 1000)} s`,
        { hint: 'check that an NBD server answers on the socket: nbdinfo nbd+unix:///?socket=…' },
      );
    }
    const failed = await Promise.race([ended, sleep(POLL_MS, null)]);
    if (failed !== null) throw failed;
  }
  await raiseReadAhead(options.mountFile);
  let unmounted: Promise<void> | null = null;
  return {
    path: options.mountFile,
    unmount() {
      unmounted ??= (async () => {
        try {
          await runProgram('fusermount3', ['-u', options.mountFile]);
        } catch {
          // Busy or already gone: end nbdfuse, and detach what is left lazily.
          stop.abort();
          await runProgram('fusermount3', ['-u', '-z', options.mountFile]).catch(() => undefined);
        }
        const timer = setTimeout(() => stop.abort(), EXIT_WAIT_MS);
        await ended;
        clearTimeout(timer);
      })();
      return unmounted;
    },
  };
}
