// The disk work of a deployment, made of `winsmith disk`'s pieces (src/image/disk/build.ts) on a
// DiskTarget: the partition table and the empty file systems; after the apply, the unattend in
// \Windows\Panther, and the boot files with a BCD store for this disk's GUIDs (UEFI: on the ESP;
// BIOS: the System Reserved partition, and GRUB in the MBR and the gap chain-loading bootmgr).

import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFat32 } from '../engines/fat.ts';
import { ntfsCopyIn } from '../engines/ntfs.ts';
import {
  formatNtfsVolume,
  installGrubPc,
  partitionOf,
  systemReservedWim,
  UNATTEND_PATH,
  writePartitionTable,
} from '../image/disk/build.ts';
import { installUefiBootFiles } from '../image/disk/boot-files.ts';
import { ALIGNMENT, type DiskPlan } from '../image/disk/layout.ts';
import type { DiskTarget } from './disk-target.ts';

/**
 * Clears what a disk held at its ends (an old partition table, the backup GPT, boot code), writes
 * the new table, and formats the partitions that stay empty: the ESP (FAT32) and a recovery
 * partition (NTFS). The Windows partition is formatted by the apply.
 */
export async function partitionDisk(target: DiskTarget, plan: DiskPlan): Promise<void> {
  const zeros = new Uint8Array(ALIGNMENT);
  await target.block.write(0, zeros);
  await target.block.write(target.block.size - ALIGNMENT, zeros);
  await writePartitionTable(target.block, plan);
  await target.tableWritten();
  for (const p of plan.partitions) {
    if (p.role === 'esp') {
      await makeFat32({ image: target.path, offset: p.offset }, { sizeBytes: p.size, label: p.label });
    } else if (p.role === 'recovery') {
      const volume = await target.ntfsVolume(p);
      await formatNtfsVolume(volume.path, p);
      await volume.close();
    }
  }
}

/** Writes `unattend` to \Windows\Panther\unattend.xml of the applied volume; no copy stays in `scratch`. */
export async function writeUnattend(volume: string, unattend: Uint8Array, scratch: string): Promise<void> {
  const file = join(scratch, 'unattend.xml');
  await writeFile(file, unattend, { mode: 0o600 });
  try {
    await ntfsCopyIn(volume, file, UNATTEND_PATH);
  } finally {
    await rm(file, { force: true });
  }
}

/** What bcdboot does: the boot files of the image's Windows\Boot (in `bootDir`) and the store `bcd`. */
export async function installBootFiles(
  target: DiskTarget,
  plan: DiskPlan,
  bootDir: string,
  bcd: Uint8Array,
  scratch: string,
): Promise<void> {
  if (plan.firmware === 'uefi') {
    const esp = partitionOf(plan, 'esp');
    await installUefiBootFiles({ image: target.path, offset: esp.offset }, bootDir, bcd, scratch);
    return;
  }
  const system = partitionOf(plan, 'system');
  const content = { wim: await systemReservedWim(bootDir, bcd, scratch), index: 1 };
  const volume = await target.ntfsVolume(system);
  await formatNtfsVolume(volume.path, system, content);
  await volume.close();
  await installGrubPc(target.block, plan, scratch);
}
