// FAT32 volumes inside a disk file or device, through dosfstools and mtools: mtools addresses a
// volume at a byte offset of its image (`-i disk.raw@@OFFSET`), so nothing is mounted or copied.

import { runProgram } from './run.ts';

export interface FatVolume {
  /** The disk file or device holding the volume. */
  readonly image: string;
  /** Byte offset of the volume in `image`. */
  readonly offset: number;
}

function drive(volume: FatVolume): string {
  return volume.offset === 0 ? volume.image : `${volume.image}@@${volume.offset}`;
}

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0' };

/** Formats FAT32 of `sizeBytes` at `offset` of `image` (mkfs.fat --offset, also the hidden sectors). */
export async function makeFat32(
  volume: FatVolume,
  options: { readonly sizeBytes: number; readonly label: string },
): Promise<void> {
  // 4 KiB clusters, as Windows formats an ESP: mkfs.fat would pick them from the size of the
  // whole disk file instead of the volume's, and too few clusters make a broken FAT32. -I: on a
  // disk device with partitions (the partition is reached by its offset) mkfs.fat refuses without.
  const args = ['-I', '-F', '32', '-S', '512', '-s', '8', '-n', options.label];
  if (volume.offset !== 0) args.push('--offset', String(volume.offset / 512));
  args.push(volume.image, String(Math.floor(options.sizeBytes / 1024)));
  await runProgram('mkfs.fat', args);
}

/** Creates directories (parents first, as given). */
export async function fatMakeDirectories(volume: FatVolume, directories: readonly string[]): Promise<void> {
  if (directories.length === 0) return;
  await runProgram('mmd', ['-i', drive(volume), ...directories.map((d) => `::${d}`)], { env: MTOOLS_ENV });
}

/** Copies local files and directories (recursively) into `destination`, a directory of the volume. */
export async function fatCopyIn(
  volume: FatVolume,
  sources: readonly string[],
  destination: string,
): Promise<void> {
  if (sources.length === 0) return;
  await runProgram('mcopy', ['-s', '-o', '-i', drive(volume), ...sources, `::${destination}`], {
    env: MTOOLS_ENV,
  });
}

/** Every path in the volume, directories ending in '/', e.g. '/EFI/Boot/bootx64.efi'. */
export async function fatListAll(volume: FatVolume): Promise<string[]> {
  const { stdout } = await runProgram('mdir', ['-/', '-b', '-i', drive(volume), '::/'], { env: MTOOLS_ENV });
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('::'))
    .map((l) => l.slice(2));
}

/** The bytes of one file of the volume. */
export async function fatReadFile(volume: FatVolume, path: string): Promise<Uint8Array> {
  const { stdout } = await runProgram('mcopy', ['-i', drive(volume), `::${path}`, '-'], { env: MTOOLS_ENV });
  return new Uint8Array(stdout);
}

/** fsck.fat -n over a volume file: rejects when the volume is not clean. */
export async function fatCheck(volumeFile: string): Promise<string> {
  const { stdout } = await runProgram('fsck.fat', ['-n', volumeFile]);
  return stdout.toString('utf8');
}
