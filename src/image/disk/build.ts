// `winsmith disk`: a stored Windows image made into a disk that boots — what Windows does with
// diskpart, dism /Apply-Image and bcdboot — from Linux, with no mount, no loop device and no root.
//
// The pieces (partition table, system partition, Windows volume, boot files) work on a BlockTarget
// and on volume paths, so the deploy agent can lay out a real disk with them; buildDiskImage() puts
// them together for a disk image file:
//   1. the Windows partition is made as its own sparse file (mkntfs with the right hidden sectors,
//      then wimlib's NTFS-3G apply), which then becomes the disk file: a hole is inserted before it
//      (fallocate --insert-range, no data moved), or, where the file system cannot, it is copied in
//      skipping zero blocks;
//   2. the GPT (or MBR) is written by our codec; the ESP is formatted in place (mkfs.fat --offset)
//      and filled through mtools at its offset; a BIOS disk's System Reserved volume is made apart and
//      copied in, GRUB goes into the MBR and the gap;
//   3. the raw disk is converted by qemu-img for qcow2, vhdx and vmdk.

import { randomUUID, getRandomValues } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { makeFat32 } from '../../engines/fat.ts';
import { makeGrubCoreImage, readGrubBootImage } from '../../engines/grub.ts';
import { makeNtfs, ntfsCopyIn } from '../../engines/ntfs.ts';
import { convertFromRaw, type DiskFormat } from '../../engines/qemu-img.ts';
import { insertHole } from '../../engines/sparse.ts';
import { wimApply, wimCapture, wimExtract, wimHasPath } from '../../engines/wimlib.ts';
import { createBootStore } from '../../formats/bcd/index.ts';
import { gptUsableRange, serializeGpt } from '../../formats/gpt.ts';
import { serializeMbr } from '../../formats/mbr.ts';
import { placeGrubPc } from '../../formats/grub-pc.ts';
import { copyFileInto, openBlockTarget, type BlockTarget } from '../../io/block-target.ts';
import { writeOutputFile, withTempDir } from '../../io/output.ts';
import { requireFile } from '../../io/paths.ts';
import { openWimImage } from '../wim-ref.ts';
import { buildBiosBootTree, checkBootFiles, extractBootFiles, installUefiBootFiles } from './boot-files.ts';
import {
  checkLayout,
  DEFAULT_LAYOUTS,
  minimumDiskSize,
  planDisk,
  SECTOR_SIZE,
  type DiskLayout,
  type DiskPlan,
  type Firmware,
  type PlacedPartition,
  type PlanIdentity,
} from './layout.ts';
import { formatSize, GiB } from './size.ts';
import { windowsPartitionNeeds } from './windows-size.ts';

export const DEFAULT_DISK_SIZE = 40 * GiB;
/** Where Windows Setup looks for an answer file first on the installed system (its "implicit" search). */
export const UNATTEND_PATH = '/Windows/Panther/unattend.xml';

/** Fails clearly when image `index` of `wim` (named `what` in the message) has no Windows\Panther for the unattend file. */
export async function requireUnattendDirectory(wim: string, index: number, what: string): Promise<void> {
  if (!(await wimHasPath(wim, index, '/Windows/Panther'))) {
    throw new AppError(
      'NOT_FOUND',
      `image ${index} of ${what} has no Windows\\Panther directory for the unattend file`,
      {
        hint: 'add the directory to the image (winsmith image update), or write no unattend file',
      },
    );
  }
}

export interface BuildDiskOptions {
  /** FILE.wim[:INDEX]. */
  readonly source: string;
  readonly output: string;
  readonly format: DiskFormat;
  readonly firmware: Firmware;
  /** Bytes; DEFAULT_DISK_SIZE (or what the image needs, if more) when absent. */
  readonly size?: number;
  readonly layout?: DiskLayout;
  readonly unattend?: string;
  readonly overwrite?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface BuildDiskResult {
  readonly output: string;
  readonly format: DiskFormat;
  readonly image: { readonly path: string; readonly index: number; readonly name: string | null };
  readonly plan: DiskPlan;
  /** Bytes the output takes on disk (it is sparse). */
  readonly allocatedBytes: number;
}

/** A random disk GUID, MBR signature (never 0) and `count` partition GUIDs: what diskpart gives a new disk. */
export function randomIdentity(count: number): PlanIdentity {
  const signature = new Uint32Array(1);
  do getRandomValues(signature);
  while (signature[0] === 0);
  return {
    diskGuid: randomUUID(),
    diskSignature: signature[0] ?? 1,
    partitionGuids: Array.from({ length: count }, () => randomUUID()),
  };
}

/** The partition of `plan` with `role` (one each of esp or system, and windows, always). */
export function partitionOf(plan: DiskPlan, role: PlacedPartition['role']): PlacedPartition {
  const found = plan.partitions.find((p) => p.role === role);
  if (found === undefined) throw new AppError('INTERNAL', `the disk plan has no ${role} partition`);
  return found;
}

/** Writes the partition table of `plan` (GPT with protective MBR, or MBR) to `target`. */
export async function writePartitionTable(target: BlockTarget, plan: DiskPlan): Promise<void> {
  if (plan.firmware === 'uefi') {
    const gpt = serializeGpt({
      sectorSize: SECTOR_SIZE,
      totalSectors: plan.totalSectors,
      diskGuid: plan.diskGuid,
      entryCount: 128,
      ...gptUsableRange(plan.totalSectors, SECTOR_SIZE),
      partitions: plan.partitions.map((p) => ({
        number: p.number,
        typeGuid: p.typeGuid,
        uniqueGuid: p.uniqueGuid,
        firstLba: p.firstLba,
        lastLba: p.firstLba + p.sectorCount - 1,
        attributes: p.attributes,
        name: p.name,
      })),
    });
    await target.write(0, gpt.head);
    await target.write(gpt.tailOffset, gpt.tail);
    return;
  }
  const mbr = serializeMbr({
    bootCode: new Uint8Array(0),
    diskSignature: plan.diskSignature,
    partitions: [0, 1, 2, 3].map((i) => {
      const p = plan.partitions[i];
      return p === undefined
        ? null
        : { bootable: p.active, type: p.mbrType, firstLba: p.firstLba, sectorCount: p.sectorCount };
    }),
  });
  await target.write(0, mbr);
}

/** The BCD store bcdboot would write for `plan`, from the image's BCD-Template when it has one. */
export function bootStoreFor(plan: DiskPlan, template: Uint8Array | undefined): Uint8Array {
  const windows = partitionOf(plan, 'windows');
  const system = partitionOf(plan, plan.firmware === 'uefi' ? 'esp' : 'system');
  const { store } = createBootStore({
    firmware: plan.firmware,
    disk:
      plan.firmware === 'uefi'
        ? {
            style: 'gpt',
            diskGuid: plan.diskGuid,
            systemPartitionGuid: system.uniqueGuid,
            windowsPartitionGuid: windows.uniqueGuid,
          }
        : {
            style: 'mbr',
            diskSignature: plan.diskSignature.toString(16).padStart(8, '0'),
            systemPartitionOffset: system.offset,
            windowsPartitionOffset: windows.offset,
          },
    ...(template === undefined ? {} : { template }),
    random: (n) => getRandomValues(new Uint8Array(n)),
  });
  return store.serialize();
}

/** Makes an NTFS volume at `volume` (a partition-sized file or a partition device) and applies the image to it. */
export async function applyWindowsVolume(
  volume: string,
  partition: PlacedPartition,
  wim: string,
  index: number,
  onProgress: ProgressListener,
): Promise<void> {
  await makeNtfs(volume, { label: partition.label, startSector: partition.firstLba });
  try {
    await wimApply(wim, index, volume, { onProgress });
  } catch (cause) {
    const text = cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : '';
    if (/No space left|ENOSPC|insufficient space/i.test(text)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `the image does not fit the ${formatSize(partition.size)} Windows partition`,
        {
          hint: 'give the disk more room: a bigger --size, or a bigger disk',
          cause,
        },
      );
    }
    throw cause;
  }
}

/** BIOS: GRUB in the MBR and the gap, chain-loading \bootmgr from the System Reserved partition. */
export async function installGrubPc(target: BlockTarget, plan: DiskPlan, scratch: string): Promise<void> {
  const system = partitionOf(plan, 'system');
  const config = join(scratch, 'embed.cfg');
  await writeFile(config, `set root=(hd0,msdos${system.number})\nntldr /bootmgr\nboot\n`);
  const core = await makeGrubCoreImage(
    join(scratch, 'core.img'),
    config,
    `(hd0,msdos${system.number})/boot/grub`,
    ['biosdisk', 'part_msdos', 'ntfs', 'ntldr'],
  );
  const first = Math.min(...plan.partitions.map((p) => p.firstLba));
  const placed = placeGrubPc(await target.read(0, 512), await readGrubBootImage(), core, 1, first);
  await target.write(0, placed.mbr);
  await target.write(SECTOR_SIZE, placed.core);
}

/**
 * Formats `volume` (a partition-sized file or the partition device) as the NTFS of `partition`, with
 * `content` applied when given (the System Reserved tree, or nothing for a recovery partition).
 */
export async function formatNtfsVolume(
  volume: string,
  partition: PlacedPartition,
  content?: { wim: string; index: number },
): Promise<void> {
  await makeNtfs(volume, { label: partition.label, startSector: partition.firstLba });
  if (content !== undefined) await wimApply(content.wim, content.index, volume);
}

async function makeNtfsPartitionFile(
  path: string,
  partition: PlacedPartition,
  content?: { wim: string; index: number },
): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, new Uint8Array(0));
  await truncate(path, partition.size);
  await formatNtfsVolume(path, partition, content);
}

/** BIOS: the System Reserved partition's content (bootmgr, \Boot\…, the store) as a WIM in `scratch`. */
export async function systemReservedWim(bootDir: string, bcd: Uint8Array, scratch: string): Promise<string> {
  const tree = join(scratch, 'system-tree');
  await buildBiosBootTree(bootDir, bcd, tree);
  const systemWim = join(scratch, 'system.wim');
  await wimCapture(tree, systemWim, { name: 'System Reserved', compression: 'none' });
  return systemWim;
}

/**
 * The smallest disk `layout` fits on when Windows needs `windowsNeeds` bytes; throws when the
 * layout's own Windows partition is smaller than that.
 */
export function diskNeeds(layout: DiskLayout, windowsNeeds: number): number {
  const windowsSpec = layout.partitions.find((p) => p.role === 'windows');
  if (windowsSpec !== undefined && windowsSpec.size !== 'rest' && windowsSpec.size < windowsNeeds) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the layout's Windows partition of ${formatSize(windowsSpec.size)} is smaller than the ${formatSize(windowsNeeds)} the image needs`,
      { hint: 'make the Windows partition bigger, or give it size "rest"' },
    );
  }
  return minimumDiskSize(layout, windowsNeeds);
}

interface Prepared {
  readonly wim: string;
  readonly index: number;
  readonly name: string | null;
  readonly plan: DiskPlan;
}

/** Everything that can be checked before writing: image, index, boot files, unattend, size. */
async function prepare(options: BuildDiskOptions): Promise<Prepared> {
  const { path: wim, index, info } = await openWimImage(options.source);
  const edition = info.images[index - 1];
  if (edition === undefined) throw new AppError('INTERNAL', `image ${index} vanished from ${wim}`);
  await checkBootFiles(wim, index, options.firmware);
  if (options.unattend !== undefined) {
    await requireFile(options.unattend);
    await requireUnattendDirectory(wim, index, wim);
  }
  const layout = options.layout ?? DEFAULT_LAYOUTS[options.firmware];
  checkLayout(layout, '--layout');
  const windowsNeeds = windowsPartitionNeeds(edition, (await stat(wim)).size * 3);
  const minimum = diskNeeds(layout, windowsNeeds);
  const size = options.size ?? Math.max(DEFAULT_DISK_SIZE, minimum);
  if (size < minimum) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--size ${formatSize(size)} is smaller than the ${formatSize(minimum)} this disk needs (${formatSize(windowsNeeds)} for the image's ${formatSize(edition.totalBytes ?? 0)} of files on NTFS, plus the other partitions)`,
      { hint: `give --size ${Math.ceil(minimum / (1024 * 1024))}M or more` },
    );
  }
  const plan = planDisk(layout, size, randomIdentity(layout.partitions.length));
  return { wim, index, name: edition.name, plan };
}

/** Lays out the whole disk into the raw file `raw`, which must not exist yet. */
async function buildRaw(
  prepared: Prepared,
  options: BuildDiskOptions,
  raw: string,
  scratch: string,
): Promise<void> {
  const progress = options.onProgress ?? ignoreProgress;
  const { plan, wim, index } = prepared;
  const step = (phase: string, done: number, total: number): void =>
    progress({ phase, done, total, unit: 'items' });
  const windows = partitionOf(plan, 'windows');

  step('Extracting boot files', 0, 1);
  const bootScratch = join(scratch, 'image');
  await mkdir(bootScratch);
  const bootDir = await extractBootFiles(wim, index, bootScratch);
  const template = await readBcdTemplate(wim, index, bootScratch);
  const bcd = bootStoreFor(plan, template);

  await writeFile(raw, new Uint8Array(0));
  await truncate(raw, windows.size);
  await applyWindowsVolume(raw, windows, wim, index, progress);
  if (options.unattend !== undefined) await ntfsCopyIn(raw, options.unattend, UNATTEND_PATH);

  step('Assembling the disk', 0, 1);
  if (!(await insertHole(raw, 0, windows.offset))) {
    // Beside the disk file, so the rename stays on one file system.
    const volume = `${raw}.ntfs`;
    await rename(raw, volume);
    const target = await openBlockTarget(raw, plan.size);
    try {
      await copyFileInto(volume, target, windows.offset, progress);
    } finally {
      await target.close();
    }
    await rm(volume);
  }
  const target = await openBlockTarget(raw, plan.size);
  try {
    await writePartitionTable(target, plan);
    for (const p of plan.partitions) {
      if (p.role === 'recovery') {
        const volume = join(scratch, 'recovery.ntfs');
        await makeNtfsPartitionFile(volume, p);
        await copyFileInto(volume, target, p.offset);
        await rm(volume);
      }
    }
    step('Installing boot files', 0, 1);
    if (plan.firmware === 'uefi') {
      const esp = partitionOf(plan, 'esp');
      const volume = { image: raw, offset: esp.offset };
      await makeFat32(volume, { sizeBytes: esp.size, label: esp.label });
      await installUefiBootFiles(volume, bootDir, bcd, scratch);
    } else {
      const system = partitionOf(plan, 'system');
      const systemWim = await systemReservedWim(bootDir, bcd, scratch);
      const volume = join(scratch, 'system.ntfs');
      await makeNtfsPartitionFile(volume, system, { wim: systemWim, index: 1 });
      await copyFileInto(volume, target, system.offset);
      await rm(volume);
      await installGrubPc(target, plan, scratch);
    }
    await target.flush();
  } finally {
    await target.close();
  }
  step('Installing boot files', 1, 1);
}

/** The image's Windows\System32\config\BCD-Template (extracted into `scratch`), or undefined without one. */
export async function readBcdTemplate(
  wim: string,
  index: number,
  scratch: string,
): Promise<Uint8Array | undefined> {
  try {
    await wimExtract(wim, index, ['/Windows/System32/config/BCD-Template'], scratch, { noAcls: true });
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  return new Uint8Array(await readFile(join(scratch, 'BCD-Template')));
}

/** Builds a bootable disk image file from a WIM image; the output appears whole or not at all. */
export async function buildDiskImage(options: BuildDiskOptions): Promise<BuildDiskResult> {
  const prepared = await prepare(options);
  const progress = options.onProgress ?? ignoreProgress;
  return writeOutputFile(
    options.output,
    async (tmpPath) =>
      withTempDir(async (scratch) => {
        const raw = options.format === 'raw' ? tmpPath : `${tmpPath}.raw`;
        await buildRaw(prepared, options, raw, scratch);
        if (options.format !== 'raw') {
          await convertFromRaw(raw, tmpPath, options.format, progress);
          await rm(raw);
        }
        const allocated = (await stat(tmpPath)).blocks * 512;
        return {
          output: options.output,
          format: options.format,
          image: { path: prepared.wim, index: prepared.index, name: prepared.name },
          plan: prepared.plan,
          allocatedBytes: allocated,
        };
      }, 'winsmith-disk'),
    options.overwrite === true ? { overwrite: true } : {},
  );
}
