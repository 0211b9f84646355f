// The deploy environment a server boots machines into, built on first need and kept: under a
// directory the server names (DATA/bootenv), in a folder named by the digest of its inputs
// (DATA/bootenv/<first 16 hex digits>/), with the .deb files in DATA/bootenv/debs. A new lock, Node
// or agent names another folder; builds asked for at once in one process are one build, and one
// finished by another process first is read instead.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { ProgressListener } from '../../core/progress.ts';
import { exists } from '../../io/paths.ts';
import { BOOTENV_FILE_NAMES, buildBootEnv, type BootEnvInfo } from './build.ts';
import type { BootEnvInputs } from './inputs.ts';
import { bootLoadersIn, type BootLoaderFiles } from './loaders.ts';

export interface CachedBootEnv {
  readonly dir: string;
  readonly kernel: string;
  readonly initramfs: string;
  /** shimx64.efi and grubx64.efi, beside the kernel. */
  readonly loaders: BootLoaderFiles;
  readonly info: BootEnvInfo;
  /** True when this call built it. */
  readonly built: boolean;
}

const pending = new Map<string, Promise<CachedBootEnv>>();

/** The environment `info` describes, in `dir`: its files' paths. */
export function bootEnvIn(dir: string, info: BootEnvInfo, built: boolean): CachedBootEnv {
  return {
    dir,
    kernel: join(dir, BOOTENV_FILE_NAMES.kernel),
    initramfs: join(dir, BOOTENV_FILE_NAMES.initramfs),
    loaders: bootLoadersIn(dir),
    info,
    built,
  };
}

async function readBuilt(dir: string, inputs: BootEnvInputs): Promise<CachedBootEnv | null> {
  const description = join(dir, BOOTENV_FILE_NAMES.description);
  if (!(await exists(description))) return null;
  let info: BootEnvInfo | null = null;
  try {
    info = JSON.parse(await readFile(description, 'utf8')) as BootEnvInfo;
  } catch {
    // Not JSON: told below, as a description of other inputs is.
  }
  if (info?.inputsSha256 !== inputs.sha256) {
    throw new AppError(
      'CONFLICT',
      `${description} describes the deploy environment ${info?.inputsSha256 ?? '(unreadable)'}; expected ${inputs.sha256}`,
      { hint: `remove ${dir}: it will be built again` },
    );
  }
  return bootEnvIn(dir, info, false);
}

async function readOrBuild(
  root: string,
  inputs: BootEnvInputs,
  progress?: ProgressListener,
): Promise<CachedBootEnv> {
  const dir = join(root, inputs.sha256.slice(0, 16));
  const ready = await readBuilt(dir, inputs);
  if (ready !== null) return ready;
  await mkdir(root, { recursive: true });
  try {
    const info = await buildBootEnv(inputs, {
      output: dir,
      cacheDir: join(root, 'debs'),
      ...(progress === undefined ? {} : { progress }),
    });
    return bootEnvIn(dir, info, true);
  } catch (e) {
    if (e instanceof AppError && e.code === 'ALREADY_EXISTS') {
      const other = await readBuilt(dir, inputs);
      if (other !== null) return other;
    }
    throw e;
  }
}

/** The environment of `inputs` under `root`, built there first if it is not yet. */
export function cachedBootEnv(
  root: string,
  inputs: BootEnvInputs,
  progress?: ProgressListener,
): Promise<CachedBootEnv> {
  const key = join(root, inputs.sha256);
  let result = pending.get(key);
  if (result === undefined) {
    result = readOrBuild(root, inputs, progress).finally(() => pending.delete(key));
    pending.set(key, result);
  }
  return result;
}
