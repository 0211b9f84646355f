// NTFS volumes in regular files or block devices, through ntfs-3g's tools (no mount, no root).

import { runProgram, startProgram } from './run.ts';

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

/**
 * The first `length` bytes of one file of the volume (fewer when the file is shorter), without
 * reading the rest: ntfscat is stopped once they came. Null when the file is absent.
 */
export async function ntfsReadHead(volume: string, path: string, length: number): Promise<Uint8Array | null> {
  const stop = new AbortController();
  const started = startProgram('ntfscat', [volume, path], { pipeStdout: true, signal: stop.signal });
  started.stdin.end();
  const pieces: Buffer[] = [];
  let have = 0;
  for await (const piece of started.stdout as AsyncIterable<Buffer>) {
    pieces.push(piece);
    have += piece.length;
    if (have >= length) break;
  }
  if (have >= length) stop.abort();
  const ended = await started.done.then(
    () => true,
    () => false,
  );
  if (!ended && have < length) return null;
  return new Uint8Array(Buffer.concat(pieces).subarray(0, length));
}
