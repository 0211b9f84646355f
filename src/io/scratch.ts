// Scratch: the temporary folders a command works in, beside its output (`.OUT.winsmith-PID-XXXXXX`)
// or in the system's temporary directory (`winsmith-PID-XXXXXX`). Each name carries the process id
// of its owner, so that:
//   - this process removes all of its own at once when a signal stops it (removeOwnScratchNow);
//   - a later run, making scratch in the same folder, removes what a process that no longer runs
//     left there (kill -9, a crash, a power cut), and never what a live process still works in.
// A process id in use again by another program keeps the old scratch until that one ends: a missed
// clean-up, never a removed file in use.

import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** `mkdtemp` adds six characters of these to a prefix. */
const SCRATCH_NAME = /^(?:\..+\.winsmith|winsmith(?:-[a-z]+)*)-(?<pid>[1-9][0-9]*)-[A-Za-z0-9]{6}$/;

const own = new Set<string>();

/** Whether `name` is scratch as this module names it, and if so, the process id of its owner. */
export function scratchOwner(name: string): number | null {
  const pid = SCRATCH_NAME.exec(name)?.groups?.pid;
  return pid === undefined ? null : Number(pid);
}

/**
 * Whether process `pid` runs on this machine (/proc, as on every Linux): it exists and is not a
 * zombie (ended, waiting for its parent to read its exit status).
 */
export function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // `PID (COMMAND) STATE ...`: the command may hold spaces and parentheses, the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Removes the scratch in `dir` whose owner no longer runs; what cannot be read or removed is left. */
export async function removeStaleScratch(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const pid = scratchOwner(name);
    return pid !== null && !processRuns(pid);
  });
  const removed: string[] = [];
  for (const name of stale) {
    try {
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    } catch {
      // Another run removes it at the same time, or it is not ours to remove: left as it is.
    }
  }
  return removed;
}

/**
 * A new scratch folder in `parent`: `.LABEL.winsmith-PID-XXXXXX` when `hidden`, else
 * `LABEL-PID-XXXXXX` with LABEL `winsmith` or `winsmith-WORD`. Stale scratch there goes first.
 */
export async function makeScratchDir(parent: string, label: string, hidden: boolean): Promise<string> {
  await removeStaleScratch(parent);
  const prefix = hidden ? `.${label}.winsmith-${process.pid}-` : `${label}-${process.pid}-`;
  const dir = await mkdtemp(join(parent, prefix));
  own.add(dir);
  return dir;
}

/** Removes a scratch folder of this process, whatever is in it. */
export async function removeScratchDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  own.delete(dir);
}

/** Removes every scratch folder of this process now (a signal is ending it; nothing can wait). */
export function removeOwnScratchNow(): void {
  for (const dir of own) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Left for the next run in that folder, which sees its owner gone.
    }
    own.delete(dir);
  }
}
