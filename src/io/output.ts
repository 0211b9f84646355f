// Outputs appear whole or not at all: work happens in a scratch folder beside the destination
// (src/io/scratch.ts), whose result is renamed into place on success; the folder is removed on
// success, on failure, and when a signal stops the command.

import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { exists, requireDirectory } from './paths.ts';
import { makeScratchDir, removeScratchDir } from './scratch.ts';

export interface OutputOptions {
  /** Replace an existing output instead of refusing. */
  readonly overwrite?: boolean;
}

/**
 * The full path of `dest` once checked: its folder exists, and nothing is there unless
 * `options.overwrite`.
 */
export async function checkOutputPath(dest: string, options: OutputOptions): Promise<string> {
  const full = resolve(dest);
  await requireDirectory(dirname(full));
  if (!options.overwrite && (await exists(full))) {
    throw new AppError('ALREADY_EXISTS', `${dest} already exists`, {
      hint: 'pass --force to replace it, or choose another output path',
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
  const full = await checkOutputPath(dest, options);
  const work = await makeScratchDir(dirname(full), basename(full), true);
  const tmpPath = join(work, basename(full));
  try {
    const result = await fn(tmpPath);
    await rename(tmpPath, full);
    return result;
  } finally {
    await removeScratchDir(work);
  }
}

/** Same as writeOutputFile for a directory: `fn` fills the temporary directory it is given. */
export async function writeOutputDirectory<T>(
  dest: string,
  fn: (tmpDir: string) => Promise<T>,
  options: OutputOptions = {},
): Promise<T> {
  const full = await checkOutputPath(dest, options);
  const work = await makeScratchDir(dirname(full), basename(full), true);
  const tmpDir = join(work, 'out');
  try {
    await mkdir(tmpDir);
    const result = await fn(tmpDir);
    if (options.overwrite) await rm(full, { recursive: true, force: true });
    await rename(tmpDir, full);
    return result;
  } finally {
    await removeScratchDir(work);
  }
}

/**
 * A scratch directory, removed when `fn` ends, whatever happens: `LABEL-PID-XXXXXX` in the system's
 * temporary directory (LABEL is `winsmith` or `winsmith-WORD`), or `.LABEL.winsmith-PID-XXXXXX` in
 * `beside` when given.
 */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
  label = 'winsmith',
  beside?: string,
): Promise<T> {
  const dir = await makeScratchDir(beside ?? tmpdir(), label, beside !== undefined);
  try {
    return await fn(dir);
  } finally {
    await removeScratchDir(dir);
  }
}
