// The .deb files of a lock, kept in a cache directory between builds: each is checked against the
// lock's SHA-256 every time it is used, and only the missing (or damaged) ones are downloaded, by
// apt, into a scratch directory inside the cache, then checked, then moved into place. They can be
// put into another cache too (a server's DATA/bootenv/debs), for a build that cannot download.

import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { aptDebFileName, aptDownload } from '../../engines/apt.ts';
import { sha256OfFile } from '../../io/file-sha256.ts';
import { exists } from '../../io/paths.ts';
import { withTempDir } from '../../io/output.ts';
import type { LockedPackage } from './lock.ts';

/**
 * The path of each package's .deb in `cacheDir` (name → path), after downloading the missing ones;
 * every file's SHA-256 is the lock's.
 */
export async function fetchLockedPackages(
  packages: readonly LockedPackage[],
  cacheDir: string,
  progress: ProgressListener = ignoreProgress,
): Promise<Map<string, string>> {
  await mkdir(cacheDir, { recursive: true });
  const paths = new Map<string, string>();
  const missing: LockedPackage[] = [];
  for (const [i, p] of packages.entries()) {
    const path = join(cacheDir, aptDebFileName(p));
    paths.set(p.name, path);
    if (!(await exists(path)) || (await sha256OfFile(path)) !== p.sha256) missing.push(p);
    progress({ phase: 'Checking cached packages', done: i + 1, total: packages.length, unit: 'items' });
  }
  if (missing.length === 0) return paths;
  progress({ phase: 'Downloading packages', done: 0, total: missing.length, unit: 'items' });
  await withTempDir(
    async (dir) => {
      await aptDownload(dir, missing);
      for (const [i, p] of missing.entries()) {
        const file = join(dir, aptDebFileName(p));
        if (!(await exists(file))) {
          throw new AppError(
            'NOT_FOUND',
            `apt-get download gave no ${aptDebFileName(p)} for ${p.name} ${p.version}`,
          );
        }
        const sha256 = await sha256OfFile(file);
        if (sha256 !== p.sha256) {
          throw new AppError(
            'FORMAT_INVALID',
            `${p.name} ${p.version} was downloaded with SHA-256 ${sha256}; the lock says ${p.sha256}`,
            {
              hint: 'the archive serves other bytes under this version: check the apt sources, then update the lock',
            },
          );
        }
        const dest = paths.get(p.name) ?? join(cacheDir, aptDebFileName(p));
        await rm(dest, { force: true });
        await rename(file, dest);
        progress({ phase: 'Downloading packages', done: i + 1, total: missing.length, unit: 'items' });
      }
    },
    '.download-',
    cacheDir,
  );
  return paths;
}

/**
 * Puts the files `paths` into cache directory `dir`, hard-linked (copied across file systems), in
 * place of any file of the same name: the build that reads `dir` then checks them as its own.
 */
export async function placePackages(paths: Iterable<string>, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const path of paths) {
    const dest = join(dir, basename(path));
    await rm(dest, { force: true });
    try {
      await link(path, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      await copyFile(path, dest);
    }
  }
}
