// NTFS volumes in regular files or block devices, through ntfs-3g's tools (no mount, no root).

import { runProgram } from './run.ts';

export interface MakeNtfsOptions {
  readonly label: string;
  /** The volume's first sector on its disk: written to the boot sector's hidden-sectors field,
   *  which boot code uses to find the volume (mkntfs -p). */
  readonly startSector: number;
}

/** A quick-formatted NTFS over the whole of `target` (a file of the partition's size, or a device). */
export async function makeNtfs(target: string, options: MakeNtfsOptions): Promise<void> {
  await runProgram('mkntfs', [
    '-F',
    '-Q',
    '-L',
    options.label,
    '-p',
    String(options.startSector),
    '-H',
    '255',
    '-S',
    '63',
    target,
  ]);
}

/** Writes (or overwrites) one file; the parent directory must exist in the volume. */
export async function ntfsCopyIn(volume: string, localFile: string, volumePath: string): Promise<void> {
  await runProgram('ntfscp', ['-f', volume, localFile, volumePath]);
}

/** The names in one directory of the volume (without "." and ".."), or null when it is absent. */
export async function ntfsListDirectory(volume: string, directory: string): Promise<string[] | null> {
  try {
    const { stdout } = await runProgram('ntfsls', ['-f', '-p', directory, volume]);
    return stdout
      .toString('utf8')
      .split('\n')
      .filter((name) => name !== '' && name !== '.' && name !== '..');
  } catch {
    return null;
  }
}

/** ntfsfix -n: checks the volume without changing it; resolves to its report, rejects when it is not clean. */
export async function ntfsCheck(volume: string): Promise<string> {
  const { stdout } = await runProgram('ntfsfix', ['-n', volume]);
  return stdout.toString('utf8');
}

/** The bytes of one file of the volume (ntfscat). */
export async function ntfsReadFile(volume: string, path: string): Promise<Uint8Array> {
  const { stdout } = await runProgram('ntfscat', [volume, path]);
  return new Uint8Array(stdout);
}
