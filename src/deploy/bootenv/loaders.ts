// The signed loaders of network boot under Secure Boot (content.ts BOOTENV_LOADERS), taken out of
// their locked packages: a deploy environment's build copies them beside its kernel, and a server
// that has none built yet takes them out on their own (two small packages: seconds, where the
// whole environment takes minutes), so that a Secure Boot machine is never sent to a file that is
// not there.

import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { ProgressListener } from '../../core/progress.ts';
import { dpkgExtract } from '../../engines/dpkg.ts';
import { exists } from '../../io/paths.ts';
import { withTempDir, writeOutputDirectory } from '../../io/output.ts';
import { BOOT_LOADER_NAMES, BOOTENV_LOADERS, type BootLoaderName } from './content.ts';
import type { BootEnvLock } from './lock.ts';
import { fetchLockedPackages } from './package-cache.ts';

export type BootLoaderFiles = Readonly<Record<BootLoaderName, string>>;

/** The loaders' paths in `dir`, under the names they are served by. */
export function bootLoadersIn(dir: string): BootLoaderFiles {
  return Object.fromEntries(BOOT_LOADER_NAMES.map((n) => [n, join(dir, n)])) as Record<
    BootLoaderName,
    string
  >;
}

/** Copies each loader from its unpacked package (`unpacked`: package name → directory) into `dir`. */
export async function copyBootLoaders(unpacked: ReadonlyMap<string, string>, dir: string): Promise<void> {
  for (const name of BOOT_LOADER_NAMES) {
    const { package: pkg, path } = BOOTENV_LOADERS[name];
    const root = unpacked.get(pkg);
    const from = root === undefined ? null : join(root, path);
    if (from === null || !(await exists(from))) {
      throw new AppError('FORMAT_INVALID', `${pkg} has no ${path}`, {
        hint: 'the lock pins a package that is not what winsmith expects: write it again with `winsmith bootenv lock`',
      });
    }
    await copyFile(from, join(dir, name));
  }
}

/**
 * The loaders of `lock` in `dir` (under `root`), taken out of their packages (fetched into
 * `cacheDir` when missing) when the folder is not there yet.
 */
export async function cachedBootLoaders(
  dir: string,
  lock: BootEnvLock,
  cacheDir: string,
  progress?: ProgressListener,
): Promise<BootLoaderFiles> {
  const files = bootLoadersIn(dir);
  if (await exists(dir)) return files;
  const wanted = new Set<string>(Object.values(BOOTENV_LOADERS).map((l) => l.package));
  const packages = lock.packages.filter((p) => wanted.has(p.name));
  const debs = await fetchLockedPackages(packages, cacheDir, progress);
  await mkdir(join(dir, '..'), { recursive: true });
  try {
    await writeOutputDirectory(dir, (out) =>
      withTempDir(async (scratch) => {
        const unpacked = new Map<string, string>();
        for (const p of packages) {
          const into = join(scratch, p.name);
          await mkdir(into);
          await dpkgExtract(debs.get(p.name) ?? '', into);
          unpacked.set(p.name, into);
        }
        await copyBootLoaders(unpacked, out);
      }),
    );
  } catch (e) {
    // Taken out at once by another process: theirs is as good.
    if (!(e instanceof AppError && e.code === 'ALREADY_EXISTS')) throw e;
  }
  return files;
}
