// Outputs appear whole or not at all: work happens in a temporary file or directory beside the
// destination, which is renamed into place on success and removed on failure.

import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { exists, requireDirectory } from './paths.ts';

export interface OutputOptions {
  /** Replace an existing output instead of refusing. */
  readonly overwrite?: boolean;
}

async function prepare(dest: string, options: OutputOptions): Promise<string> {
  const full = resolve(dest);
  await requireDirectory(dirname(full));
  if (!options.overwrite && (await exists(full))) {
    throw new AppError('ALREADY_EXISTS', `${dest} already exists`, {
      hint: 'choose another output path, or remove the existing one first',
    });
  }
  return full;
}

/** `fn` writes the file at the temporary path it is given; it becomes `dest` only if `fn` succeeds. */
export async function writeOutputFile<T>(
  dest: string,
  fn: (tmpPath: string) => Promise<T>,
  options: OutputOptions = {},
): Promise<T> {
  const full = await prepare(dest, options);
  const work = await mkdtemp(join(dirname(full), `.${basename(full)}.`));
  const tmpPath = join(work, basename(full));
  try {
    const result = await fn(tmpPath);
    await rename(tmpPath, full);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Same as writeOutputFile for a directory: `fn` fills the temporary directory it is given. */
export async function writeOutputDirectory<T>(
  dest: string,
  fn: (tmpDir: string) => Promise<T>,
  options: OutputOptions = {},
): Promise<T> {
  const full = await prepare(dest, options);
  const work = await mkdtemp(join(dirname(full), `.${basename(full)}.`));
  const tmpDir = join(work, 'out');
  try {
    await mkdir(tmpDir);
    const result = await fn(tmpDir);
    if (options.overwrite) await rm(full, { recursive: true, force: true });
    await rename(tmpDir, full);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A scratch directory (in `parent`, the system's temporary directory unless given), removed when `fn`
 * ends, whatever happens.
 */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
  prefix = 'winsmith-',
  parent = tmpdir(),
): Promise<T> {
  const dir = await mkdtemp(join(parent, prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
