// An HTTP resource that answers Range requests, made a read-only regular file that programs seek
// in: nbdkit's curl plugin (Debian `nbdkit`) serves the URL as an NBD export, and nbdfuse (Debian
// `libnbd-bin`, on FUSE from `fuse3`) puts that export on a FUSE-mounted file. Each read of the
// file becomes one ranged GET (nbdkit(1), nbdkit-curl-plugin(1), nbdfuse(1) of nbdkit 1.32 and
// libnbd 1.14). wimlib applies a normal, non-pipable WIM from such a file with no local copy.

import { access, constants, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';
import { runProgram, startProgram } from './run.ts';

export interface HttpFileOptions {
  /** The resource, e.g. http://localhost/image. */
  readonly url: string;
  /** Connect to this Unix socket instead of the URL's host (curl's unix-socket-path). */
  readonly unixSocket?: string;
  /** An existing empty regular file: the mount point, which becomes the resource. */
  readonly mountFile: string;
  /** The resource's size: the mount is ready when the file shows it. */
  readonly size: number;
  /** How long the mount may take to appear (default 15 s). */
  readonly readyTimeoutMs?: number;
}

export interface MountedHttpFile {
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

/** Mounts `options.url` read-only on `options.mountFile`. */
export async function mountHttpFile(options: HttpFileOptions): Promise<MountedHttpFile> {
  if (!(await fuseAvailable())) {
    throw new AppError('IO_ERROR', 'FUSE is not available: /dev/fuse is missing or cannot be opened', {
      hint: 'load the fuse kernel module (modprobe fuse) and give the process /dev/fuse',
    });
  }
  // nbdfuse starts nbdkit itself: a missing nbdkit is named here, with its package.
  await runProgram('nbdkit', ['--version']);
  const stop = new AbortController();
  const curl = ['curl', `url=${options.url}`];
  if (options.unixSocket !== undefined) curl.push(`unix-socket-path=${options.unixSocket}`);
  const started = startProgram(
    'nbdfuse',
    ['-r', options.mountFile, '--command', 'nbdkit', '-r', '-s', ...curl],
    {
      signal: stop.signal,
    },
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
        { hint: 'check that nbdkit reaches the URL: nbdkit -s curl url=… from a shell' },
      );
    }
    const failed = await Promise.race([ended, sleep(POLL_MS, null)]);
    if (failed !== null) throw failed;
  }
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
