// The deploy environment (kernel + initramfs machines boot into to be deployed), as the CLI and the
// server ask for it. This layer knows where its inputs are: the lock beside package.json, Node 24 from
// the `node` npm package winsmith depends on, and the agent's entry point in src/agent (or dist/agent).

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import { BOOTENV_FILE_NAMES, buildBootEnv, type BootEnvInfo } from '../deploy/bootenv/build.ts';
import { exists, requireFile } from '../io/paths.ts';
import { bootEnvIn, cachedBootEnv, type CachedBootEnv } from '../deploy/bootenv/cache.ts';
import { readBootEnvInputs, readBootEnvLock, type BootEnvSources } from '../deploy/bootenv/inputs.ts';
import { fetchLockedPackages, placePackages } from '../deploy/bootenv/package-cache.ts';
import { bootEnvLockSha256 } from '../deploy/bootenv/lock.ts';
import { cachedBootLoaders, type BootLoaderFiles } from '../deploy/bootenv/loaders.ts';
import { updateBootEnvLock, type LockUpdate } from '../deploy/bootenv/update-lock.ts';

export type { BootEnvInfo } from '../deploy/bootenv/build.ts';
export type { CachedBootEnv } from '../deploy/bootenv/cache.ts';
export type { LockChange, LockUpdate } from '../deploy/bootenv/update-lock.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The lock in the repository (and in the npm package): bootenv.lock.json beside package.json. */
export const DEFAULT_BOOTENV_LOCK = join(PACKAGE_ROOT, 'bootenv.lock.json');

/** Where the CLI keeps downloaded packages: $XDG_CACHE_HOME/winsmith/debs (~/.cache when unset). */
export function defaultPackageCache(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ''
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache');
  return join(base, 'winsmith', 'debs');
}

function readVersion(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function sources(lockFile: string): BootEnvSources {
  let nodePackage: string;
  try {
    nodePackage = createRequire(import.meta.url).resolve('node/package.json');
  } catch (cause) {
    throw new AppError(
      'MISSING_PROGRAM',
      'the node npm package (Node 24 for the deploy environment) is not installed',
      {
        hint: 'install the npm dependencies of winsmith (npm ci)',
        cause,
      },
    );
  }
  // src/app/bootenv.ts runs the agent's sources, dist/app/bootenv.js the compiled ones.
  const here = fileURLToPath(import.meta.url);
  return {
    lockFile,
    nodeBinary: join(dirname(nodePackage), 'bin', 'node'),
    nodeVersion: readVersion(nodePackage),
    agentEntry: join(dirname(here), '..', 'agent', `main${extname(here)}`),
    packageRoot: PACKAGE_ROOT,
    version: readVersion(join(PACKAGE_ROOT, 'package.json')),
  };
}

export interface BuildBootEnvOptions {
  readonly output: string;
  readonly cacheDir?: string;
  readonly lockFile?: string;
  readonly overwrite?: boolean;
  readonly progress?: ProgressListener;
}

/** `winsmith bootenv build`: the environment in a new directory. */
export async function buildBootEnvDirectory(options: BuildBootEnvOptions): Promise<BootEnvInfo> {
  const inputs = await readBootEnvInputs(sources(options.lockFile ?? DEFAULT_BOOTENV_LOCK));
  return buildBootEnv(inputs, {
    output: options.output,
    cacheDir: options.cacheDir ?? defaultPackageCache(),
    overwrite: options.overwrite ?? false,
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
}

/** `winsmith bootenv lock`: pins the packages apt offers now (`lockFile`: the repository's lock). */
export function writeBootEnvLock(lockFile: string = DEFAULT_BOOTENV_LOCK): Promise<LockUpdate> {
  return updateBootEnvLock(lockFile, new Date());
}

/**
 * An environment built before (`winsmith bootenv build -o DIR`): its files, checked to be there.
 * A server given one serves it instead of building its own.
 */
export async function readBootEnvDirectory(dir: string): Promise<CachedBootEnv> {
  const description = join(dir, BOOTENV_FILE_NAMES.description);
  let info: BootEnvInfo;
  try {
    info = JSON.parse(await readFile(description, 'utf8')) as BootEnvInfo;
  } catch (cause) {
    throw new AppError(
      'FILE_NOT_FOUND',
      `${dir} holds no deploy environment: ${description} cannot be read`,
      {
        hint: `build one with 'winsmith bootenv build -o ${dir}'`,
        cause,
      },
    );
  }
  const found = bootEnvIn(dir, info, false);
  for (const file of [found.kernel, found.initramfs]) await requireFile(file);
  return found;
}

/**
 * The environment for a server with data directory `dataDir`, built into DATA/bootenv on the first
 * call (minutes) and found there afterwards.
 */
export async function bootEnvFor(dataDir: string, progress?: ProgressListener): Promise<CachedBootEnv> {
  const inputs = await readBootEnvInputs(sources(DEFAULT_BOOTENV_LOCK));
  return cachedBootEnv(join(dataDir, 'bootenv'), inputs, progress);
}

/**
 * The signed loaders of an environment built before (readBootEnvDirectory), checked to be there:
 * one built by a winsmith older than them has none.
 */
export async function bootEnvLoaders(env: CachedBootEnv): Promise<BootLoaderFiles> {
  for (const [name, path] of Object.entries(env.loaders)) {
    if (!(await exists(path))) {
      throw new AppError('FILE_NOT_FOUND', `the deploy environment in ${env.dir} has no ${name}`, {
        hint: `it was built by an older winsmith: build it again with 'winsmith bootenv build -o ${env.dir} --force'`,
      });
    }
  }
  return env.loaders;
}

/**
 * The signed loaders of Secure Boot network boot for a server with data directory `dataDir`, taken
 * out of the lock's packages into DATA/bootenv/loaders-<lock digest> on the first call (seconds),
 * without building the whole environment.
 */
export async function bootLoadersFor(dataDir: string): Promise<BootLoaderFiles> {
  const lock = await readBootEnvLock(DEFAULT_BOOTENV_LOCK);
  const root = join(dataDir, 'bootenv');
  return cachedBootLoaders(
    join(root, `loaders-${bootEnvLockSha256(lock).slice(0, 16)}`),
    lock,
    join(root, 'debs'),
  );
}

/**
 * Readies a server with data directory `dataDir` to build its environment with no way out (a
 * lab's, in a network namespace): the lock's packages, downloaded into `packageCache` when missing
 * (as `winsmith bootenv build` does), are put into DATA/bootenv/debs, where its build takes them from.
 */
export async function seedBootEnvPackages(
  dataDir: string,
  packageCache: string = defaultPackageCache(),
  progress?: ProgressListener,
): Promise<void> {
  const lock = await readBootEnvLock(DEFAULT_BOOTENV_LOCK);
  const paths = await fetchLockedPackages(lock.packages, packageCache, progress);
  await placePackages(paths.values(), join(dataDir, 'bootenv', 'debs'));
}
