// Checks on paths the user names, with the error a user can act on.

import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { AppError } from '../core/errors.ts';

/** What `path` is, or null when nothing is there; any other failure is an IO_ERROR. */
export async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('IO_ERROR', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

export async function requireFile(path: string): Promise<Stats> {
  const s = await statOrNull(path);
  if (s === null) throw new AppError('FILE_NOT_FOUND', `${path} does not exist`, { hint: 'check the path' });
  if (s.isDirectory()) {
    throw new AppError('INVALID_ARGUMENT', `${path} is a directory; expected a file`);
  }
  return s;
}

export async function requireDirectory(path: string): Promise<Stats> {
  const s = await statOrNull(path);
  if (s === null) throw new AppError('FILE_NOT_FOUND', `${path} does not exist`, { hint: 'check the path' });
  if (!s.isDirectory()) throw new AppError('INVALID_ARGUMENT', `${path} is not a directory`);
  return s;
}

export async function exists(path: string): Promise<boolean> {
  return (await statOrNull(path)) !== null;
}
