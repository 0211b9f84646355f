// The disk being written, with the one difference between a real disk and a disk image file kept
// here: how an NTFS partition is reached. Everything else — partition table, FAT32 at an offset,
// GRUB in the gap — is written by offset on the whole disk (a BlockTarget), the same on both.
//   block device: after the table is written the kernel reads it again (BLKRRPART), and a
//                 partition is its own device, /dev/sda3, /dev/nvme0n1p3, /dev/vda3, /dev/mmcblk0p3
//                 (a disk whose name ends in a digit gets a "p"), checked to be the planned size;
//   image file:   a partition is a sparse file of the partition's size in the agent's scratch
//                 directory, copied into the disk file at its offset when done (holes stay holes),
//                 as `winsmith disk` builds its volumes.

import { open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, errorText } from '../core/errors.ts';
import { rereadPartitions } from '../engines/block-devices.ts';
import { SECTOR_SIZE, type PlacedPartition } from '../image/disk/layout.ts';
import { copyFileInto, openBlockTarget, type BlockTarget } from '../io/block-target.ts';

/** An NTFS partition as a path that mkntfs, wimlib and ntfs-3g's tools take. */
export interface NtfsVolume {
  readonly path: string;
  /** Puts the volume's content on the disk for good. */
  close(): Promise<void>;
}

export interface DiskTarget {
  readonly path: string;
  readonly block: BlockTarget;
  /** After the partition table is written: makes its partitions reachable. */
  tableWritten(): Promise<void>;
  ntfsVolume(partition: PlacedPartition): Promise<NtfsVolume>;
  /** Flushes what was written through `block` and closes it. */
  close(): Promise<void>;
}

async function flushAndClose(block: BlockTarget): Promise<void> {
  try {
    await block.flush();
  } finally {
    await block.close();
  }
}

/** How long a partition device may take to appear after the table is read again. */
const PARTITION_WAIT_MS = 10_000;

/** The device of partition `number` of disk `device`. */
export function partitionDevice(device: string, number: number): string {
  return /\d$/.test(device) ? `${device}p${number}` : `${device}${number}`;
}

async function sysfsNumber(path: string): Promise<number | null> {
  try {
    const value = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(value) ? value : null;
  } catch {
    return null;
  }
}

async function waitForPartition(device: string, partition: PlacedPartition, sys: string): Promise<void> {
  const name = basename(device);
  const deadline = Date.now() + PARTITION_WAIT_MS;
  let seen = 'no such device';
  for (;;) {
    const info = await stat(device).catch(() => null);
    const sectors = await sysfsNumber(join(sys, 'class', 'block', name, 'size'));
    if (info?.isBlockDevice() === true && sectors !== null) {
      if (sectors * SECTOR_SIZE === partition.size) return;
      seen = `${sectors * SECTOR_SIZE} bytes`;
    }
    if (Date.now() > deadline) {
      throw new AppError(
        'IO_ERROR',
        `partition ${partition.number} did not appear as ${device} of ${partition.size} bytes (found: ${seen})`,
        {
          hint: 'check that the kernel reads the new partition table: is a partition of the disk still in use?',
        },
      );
    }
    await sleep(100);
  }
}

async function openDevice(path: string, size: number, sys: string): Promise<DiskTarget> {
  const name = basename(path);
  const logical = await sysfsNumber(join(sys, 'class', 'block', name, 'queue', 'logical_block_size'));
  if (logical !== null && logical !== SECTOR_SIZE) {
    throw new AppError(
      'FORMAT_UNSUPPORTED',
      `${path} has ${logical}-byte logical sectors; winsmith lays out disks of ${SECTOR_SIZE}-byte sectors`,
      { hint: 'deploy to another disk, or switch the disk to 512-byte sectors (nvme format --lbaf)' },
    );
  }
  const block = await openBlockTarget(path, size);
  return {
    path,
    block,
    async tableWritten() {
      await block.flush();
      await rereadPartitions(path);
    },
    async ntfsVolume(partition) {
      const device = partitionDevice(path, partition.number);
      await waitForPartition(device, partition, sys);
      return {
        path: device,
        async close() {
          const handle = await open(device, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
        },
      };
    },
    close: () => flushAndClose(block),
  };
}

function openImageFile(block: BlockTarget, scratch: string): DiskTarget {
  return {
    path: block.path,
    block,
    tableWritten: () => Promise.resolve(),
    async ntfsVolume(partition) {
      const file = join(scratch, `partition-${partition.number}.ntfs`);
      await writeFile(file, new Uint8Array(0));
      await truncate(file, partition.size);
      return {
        path: file,
        async close() {
          await copyFileInto(file, block, partition.offset);
          await rm(file);
        },
      };
    },
    close: () => flushAndClose(block),
  };
}

/**
 * Opens the disk `path` of `size` bytes: a block device, or a disk image file (whose partitions are
 * built in `scratch`). `sys` is where sysfs is mounted.
 */
export async function openDiskTarget(
  path: string,
  size: number,
  scratch: string,
  sys = '/sys',
): Promise<DiskTarget> {
  const info = await stat(path).catch((cause: unknown) => {
    throw new AppError('IO_ERROR', `cannot open the disk ${path}: ${errorText(cause)}`, { cause });
  });
  if (info.isBlockDevice()) return openDevice(path, size, sys);
  if (info.isFile()) return openImageFile(await openBlockTarget(path, size), scratch);
  throw new AppError('INVALID_ARGUMENT', `${path} is neither a block device nor a disk image file`);
}
