// Cheap moves inside sparse files through fallocate(1) (util-linux): shifting a file's contents
// to a later offset without copying them (FALLOC_FL_INSERT_RANGE; ext4 and XFS).

import { runProgram } from './run.ts';

/**
 * Inserts `length` bytes of hole at `offset` of `path`, moving what follows. Resolves to false when
 * the file system cannot (then the caller copies instead); offset and length must be multiples of
 * the file system's block size.
 */
export async function insertHole(path: string, offset: number, length: number): Promise<boolean> {
  try {
    await runProgram('fallocate', [
      '--insert-range',
      '--offset',
      String(offset),
      '--length',
      String(length),
      path,
    ]);
    return true;
  } catch {
    return false;
  }
}
