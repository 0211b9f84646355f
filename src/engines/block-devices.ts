// Whole disks of the machine the deploy agent writes: the kernel told to read a new partition
// table (util-linux blockdev, the BLKRRPART ioctl), and every written block sent to the disks
// before the machine restarts (sync(1) of coreutils, the sync(2) system call).

import { runProgram } from './run.ts';

/** Makes the kernel read the partition table of `device` again (its partition devices follow it). */
export async function rereadPartitions(device: string): Promise<void> {
  await runProgram('blockdev', ['--rereadpt', device]);
}

/** Writes back every dirty buffer of every file system and block device. */
export async function syncAll(): Promise<void> {
  await runProgram('sync', []);
}
