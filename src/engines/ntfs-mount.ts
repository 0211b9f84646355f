// An NTFS volume — a partition device, or a file that holds one — mounted read-write through FUSE
// by lowntfs-3g (Debian `ntfs-3g`, on FUSE: the `fuse` kernel module and /dev/fuse; as root), for
// the work ntfs-3g's tools cannot do (they make no folders) and wimlib cannot do in NTFS-3G mode
// (an apply cannot merge into a volume that has files). Options (ntfs-3g(8)):
//   ignore_case   names are looked up without regard to case, as Windows does: a path written
//                 'windows\setup' reaches the volume's 'Windows\Setup' (lowntfs-3g only);
//   windows_names no name is made that Windows could not open (CON, a trailing dot, '\', ':');
//   permissions,inherit  a new file or folder gets the permissions its folder gives its children,
//                 as one Windows makes would (without them ntfs-3g gives it to Everyone); root is
//                 let do anything all the same;
//   no_detach     lowntfs-3g stays this process's child, under setpriv with a parent-death signal:
//                 if this process ends without unmounting, lowntfs-3g is sent SIGTERM and unmounts.
// The volume is written for good when lowntfs-3g has exited after the unmount.

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';
import { fuseAvailable } from './nbd.ts';
import { runProgram, startProgram } from './run.ts';

export interface MountedNtfs {
  readonly path: string;
  /** Unmounts the volume and waits for lowntfs-3g to end, its changes written. */
  unmount(): Promise<void>;
}

const POLL_MS = 20;
const READY_TIMEOUT_MS = 15_000;
/** How long lowntfs-3g may take to write the volume and end after the unmount. */
const EXIT_WAIT_MS = 60_000;

/** Whether something other than the directory's own file system is mounted on `path`. */
async function mounted(path: string): Promise<boolean> {
  const [here, parent] = await Promise.all([stat(path), stat(dirname(path))]);
  return here.dev !== parent.dev;
}

/** Mounts the NTFS volume `volume` read-write on the empty directory `mountPoint`. */
export async function mountNtfs(volume: string, mountPoint: string): Promise<MountedNtfs> {
  if (!(await fuseAvailable())) {
    throw new AppError('IO_ERROR', 'FUSE is not available: /dev/fuse is missing or cannot be opened', {
      hint: 'load the fuse kernel module (modprobe fuse) and run as root',
    });
  }
  const stop = new AbortController();
  const options = 'ignore_case,windows_names,permissions,inherit,no_detach';
  const started = startProgram(
    'setpriv',
    ['--pdeathsig', 'TERM', '--', 'lowntfs-3g', '-o', options, volume, mountPoint],
    { signal: stop.signal },
  );
  started.stdin.end();
  // Settles when lowntfs-3g ends: before the mount is there, that is a failure.
  const ended: Promise<Error> = started.done.then(
    () => new AppError('PROGRAM_FAILED', `lowntfs-3g ended before ${volume} was mounted`),
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await mounted(mountPoint))) {
    const failed = await Promise.race([ended, sleep(POLL_MS, null)]);
    if (failed !== null) {
      throw new AppError('PROGRAM_FAILED', `lowntfs-3g could not mount ${volume}: ${failed.message}`, {
        hint: 'lowntfs-3g is in the Debian package ntfs-3g; a volume Windows left hibernated or dirty is refused',
        cause: failed,
      });
    }
    if (Date.now() > deadline) {
      stop.abort();
      await ended;
      throw new AppError(
        'PROGRAM_FAILED',
        `lowntfs-3g did not mount ${volume} within ${READY_TIMEOUT_MS / 1000} s`,
      );
    }
  }
  let unmounted: Promise<void> | null = null;
  return {
    path: mountPoint,
    unmount() {
      unmounted ??= (async () => {
        try {
          await runProgram('fusermount3', ['-u', mountPoint]);
        } catch {
          // Busy: end lowntfs-3g (it unmounts on SIGTERM), and detach what is left lazily.
          stop.abort();
          await runProgram('fusermount3', ['-u', '-z', mountPoint]).catch(() => undefined);
        }
        const timer = setTimeout(() => stop.abort(), EXIT_WAIT_MS);
        await ended;
        clearTimeout(timer);
      })();
      return unmounted;
    },
  };
}
