// Scratch: the temporary folders a command works in, beside its output (`.OUT.winsmith-PID-XXXXXX`)
// or in the system's temporary directory (`winsmith-PID-XXXXXX`). Each name carries the process id
// of its owner, so that:
//   - this process removes all of its own at once when a signal stops it (removeOwnScratchNow);
//   - a later run, making scratch in the same folder, removes what a process that no longer runs
//     left there (kill -9, a crash, a power cut), and never what a live process still works in.
// A process id in use again by another program keeps the old scratch until that one ends: a missed
// clean-up, never a removed file in use.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** `mkdtemp` adds six characters of these to a prefix. */
const SCRATCH_NAME = /^(?:\..+\.winsmith|winsmith(?:-[a-z]+)*)-(?<pid>[1-9][0-9]*)-[A-Za-z0-9]{6}$/;

const own = new Set<string>();
/** The folders this process made scratch in: a signal looks there for scratch still being made. */
const parents = new Set<string>();

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
 * `LABEL-PID-XXXXXX` with LABEL `winsmith` or `winsmith-WORD`. Stale scratch there goes first, the
 * first time this process makes scratch in `parent` (not on every one: the system's temporary
 * directory may hold many names to read, and a server makes scratch there again and again).
 */
export async function makeScratchDir(parent: string, label: string, hidden: boolean): Promise<string> {
  if (!parents.has(parent)) await removeStaleScratch(parent);
  parents.add(parent);
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

/**
 * Removes every scratch folder of this process now (a signal is ending it; nothing can wait): those
 * it knows, and any of its name in the folders it made scratch in (one whose making was under way).
 */
export function removeOwnScratchNow(): void {
  const all = new Set(own);
  for (const parent of parents) {
    try {
      for (const name of readdirSync(parent)) {
        if (scratchOwner(name) === process.pid) all.add(join(parent, name));
      }
    } catch {
      // The folder is gone or unreadable: nothing of ours to find there.
    }
  }
  for (const dir of all) {
    try {
      // A program just sent SIGKILL may still add a file for a moment: a few tries.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Left for the next run in that folder, which sees its owner gone.
    }
  }
  own.clear();
}
