// Capture of a whole disk image (a VM's qcow2, a raw dump, a VHDX): its partition table read by our
// GPT and MBR code, the Windows partition found (the largest NTFS partition holding
// Windows\System32\config\SYSTEM, or the one named), copied out through qemu's raw driver into a
// sparse scratch file beside the output, and captured with wimlib's NTFS-3G mode. No nbd, no mount,
// no root; the disk image is only read.

import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { ntfsListDirectory } from '../../engines/ntfs.ts';
import type { CaptureOptions } from '../../engines/wimlib.ts';
import { withFileSource } from '../../io/file-source.ts';
import { withTempDir } from '../../io/output.ts';
import { captureImage } from '../wim-ops.ts';
import type { Firmware } from './layout.ts';
import {
  extractPartition,
  openDiskImage,
  readDiskTable,
  type DiskImage,
  type VerifiedPartition,
} from './partitions.ts';

export interface DiskCapture {
  /** The partition captured (1-based, as the partition table numbers it). */
  readonly partition: number;
  readonly firmware: Firmware;
}

async function holdsWindows(volume: string): Promise<boolean> {
  const names = await ntfsListDirectory(volume, '/Windows/System32/config');
  return names?.some((n) => n.toLowerCase() === 'system') ?? false;
}

function describe(p: VerifiedPartition): string {
  return `${p.number} (${p.type}, ${Math.round((p.sectorCount * 512) / 2 ** 20)} MiB)`;
}

/**
 * Captures the Windows partition of disk image `disk` (or its partition `options.partition`) into
 * the new WIM `out`.
 */
export async function captureDisk(
  disk: string,
  out: string,
  options: CaptureOptions & { readonly partition?: number; readonly overwrite?: boolean },
): Promise<DiskCapture> {
  const image: DiskImage = { path: disk, ...(await openDiskImage(disk)) };
  return withTempDir(
    async (scratch) => {
      const table = await readDiskTable(image, scratch);
      const all = table.partitions.map(describe).join(', ') || 'none';
      let candidates: VerifiedPartition[];
      if (options.partition !== undefined) {
        const named = table.partitions.find((p) => p.number === options.partition);
        if (named === undefined)
          throw new AppError(
            'NOT_FOUND',
            `${disk} has no partition ${options.partition}; its partitions: ${all}`,
            {
              hint: 'name one of the partitions listed',
            },
          );
        candidates = [named];
      } else {
        candidates = [...table.candidates].sort((a, b) => b.sectorCount - a.sectorCount);
      }
      for (const p of candidates) {
        const volume = await extractPartition(image, p, join(scratch, `partition-${p.number}.img`));
        if (options.partition !== undefined || (await holdsWindows(volume))) {
          await captureImage(volume, out, options, { overwrite: options.overwrite === true });
          return { partition: p.number, firmware: table.firmware };
        }
        await rm(volume, { force: true });
      }
      throw new AppError(
        'NOT_FOUND',
        `no partition of ${disk} holds Windows (Windows\\System32\\config\\SYSTEM); its partitions: ${all}`,
        { hint: 'name the partition to capture with --partition N' },
      );
    },
    basename(resolve(out)),
    dirname(resolve(out)),
  );
}

const NTFS_OEM_ID = 'NTFS    ';

/**
 * Whether a file holds a whole disk (a partition table, or any format but raw) rather than one
 * volume: a raw file whose first sector is an NTFS boot sector is a volume.
 */
export async function isDiskImageFile(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => undefined);
  if (s === undefined || !s.isFile()) return false;
  const { format } = await openDiskImage(path);
  if (format !== 'raw') return true;
  const sector = await withFileSource(path, (source) => source.read(0, Math.min(512, s.size)));
  if (sector.length < 512) return false;
  const oem = new TextDecoder('latin1').decode(sector.subarray(3, 11));
  return oem !== NTFS_OEM_ID && sector[510] === 0x55 && sector[511] === 0xaa;
}

/**
 * Captures `source` into the new WIM `out`: the Windows partition (or `options.partition`) of a
 * whole disk image, else a directory or an NTFS volume as it is. The partition captured, or null.
 */
export async function captureSource(
  source: string,
  out: string,
  options: CaptureOptions & { readonly partition?: number | undefined; readonly overwrite?: boolean },
): Promise<number | null> {
  const { partition, overwrite = false, ...capture } = options;
  if (partition !== undefined || (await isDiskImageFile(source))) {
    return (
      await captureDisk(source, out, {
        ...capture,
        ...(partition === undefined ? {} : { partition }),
        overwrite,
      })
    ).partition;
  }
  await captureImage(source, out, capture, { overwrite });
  return null;
}
