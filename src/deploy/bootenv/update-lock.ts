// Writes the deploy environment's lock from what the machine's apt sources offer now: content.ts's
// roots and everything they depend on (as apt would install them on an empty system), each at the
// version apt picks, with the archive's SHA-256 and size. Only Debian's archives may provide them.
// When no package changed, the lock keeps its time, so writing it again changes nothing.

import { readFile, writeFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { aptResolveInstall, aptShowRecords } from '../../engines/apt.ts';
import { writeOutputFile } from '../../io/output.ts';
import { BOOTENV_ARCHITECTURE, BOOTENV_ROOTS } from './content.ts';
import { BOOTENV_LOCK_FORMAT, parseBootEnvLock, serializeBootEnvLock, type BootEnvLock } from './lock.ts';

/** Release origins (apt's "Origin") packages may come from: Debian's archive and its security archive. */
const DEBIAN_ORIGINS = /^Debian(-Security)?:/;

export interface LockChange {
  readonly name: string;
  /** The version before, or null for a package the lock did not have. */
  readonly from: string | null;
  /** The version now, or null for a package the lock no longer has. */
  readonly to: string | null;
}

export interface LockUpdate {
  readonly lock: BootEnvLock;
  /** True when there was no valid lock at the path before. */
  readonly created: boolean;
  readonly changes: readonly LockChange[];
}

/** Resolves the roots of content.ts through apt into a lock dated `sourceDateEpoch`. */
async function resolveBootEnvLock(sourceDateEpoch: number): Promise<BootEnvLock> {
  const resolved = await aptResolveInstall(BOOTENV_ROOTS, BOOTENV_ARCHITECTURE);
  for (const p of resolved) {
    if (!DEBIAN_ORIGINS.test(p.origin)) {
      throw new AppError(
        'CONFLICT',
        `${p.name} ${p.version} would come from "${p.origin}", not from Debian`,
        {
          hint: 'pin the package to a Debian archive in the apt preferences, or remove the other source',
        },
      );
    }
  }
  const names = new Set(resolved.map((p) => p.name));
  const absent = BOOTENV_ROOTS.filter((r) => !names.has(r));
  if (absent.length > 0) {
    throw new AppError('NOT_FOUND', `apt would not install ${absent.join(', ')}`, {
      hint: 'run apt-get update; the machine needs the Debian 12 (bookworm) main archive in its apt sources',
    });
  }
  const records = await aptShowRecords(resolved);
  const lock: BootEnvLock = {
    format: BOOTENV_LOCK_FORMAT,
    architecture: BOOTENV_ARCHITECTURE,
    sourceDateEpoch,
    roots: [...BOOTENV_ROOTS],
    packages: records
      .map((r) => ({
        name: r.name,
        version: r.version,
        architecture: r.architecture,
        sha256: r.sha256,
        size: r.size,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return parseBootEnvLock(serializeBootEnvLock(lock), 'the lock apt resolved');
}

/** What changed between two locks, by package name. */
export function lockChanges(before: BootEnvLock | null, after: BootEnvLock): LockChange[] {
  const old = new Map((before?.packages ?? []).map((p) => [p.name, p.version]));
  const now = new Map(after.packages.map((p) => [p.name, p.version]));
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  return names
    .map((name) => ({ name, from: old.get(name) ?? null, to: now.get(name) ?? null }))
    .filter((c) => c.from !== c.to);
}

/** The lock at `path`, or null when there is none or it is not valid. */
async function readPrevious(path: string): Promise<BootEnvLock | null> {
  try {
    return parseBootEnvLock(await readFile(path, 'utf8'), path);
  } catch {
    return null;
  }
}

/** Resolves the lock again and writes it to `path` (replacing it), dated `now` when anything changed. */
export async function updateBootEnvLock(path: string, now: Date): Promise<LockUpdate> {
  const before = await readPrevious(path);
  const resolved = await resolveBootEnvLock(Math.floor(now.getTime() / 1000));
  const changes = lockChanges(before, resolved);
  const unchanged =
    before !== null && changes.length === 0 && before.roots.join(',') === resolved.roots.join(',');
  const lock = unchanged ? { ...resolved, sourceDateEpoch: before.sourceDateEpoch } : resolved;
  await writeOutputFile(path, (tmp) => writeFile(tmp, serializeBootEnvLock(lock)), { overwrite: true });
  return { lock, created: before === null, changes };
}
