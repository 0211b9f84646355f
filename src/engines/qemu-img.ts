// Disk image formats through qemu-img (qemu-utils): empty disks, conversion from a sparse raw file,
// image info, and reading byte ranges of any format without nbd, through qemu's `raw` driver with
// offset/size.

import { runProgram } from './run.ts';
import type { ProgressListener } from '../core/progress.ts';

export type DiskFormat = 'raw' | 'qcow2' | 'vhdx' | 'vmdk';

export const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow2', 'vhdx', 'vmdk'];

function formatOptions(format: DiskFormat): string[] {
  if (format === 'vhdx') return ['-o', 'subformat=dynamic'];
  if (format === 'vmdk') return ['-o', 'subformat=monolithicSparse'];
  return [];
}

/** Converts a (sparse) raw disk to `format`; zero ranges stay unallocated in the output. */
export async function convertFromRaw(
  raw: string,
  output: string,
  format: DiskFormat,
  onProgress?: ProgressListener,
): Promise<void> {
  await runProgram(
    'qemu-img',
    ['convert', '-p', '-f', 'raw', '-O', format, ...formatOptions(format), raw, output],
    {
      onLine: (line) => {
        const m = /\(([\d.]+)\/100%\)/.exec(line);
        if (m !== null && onProgress) {
          onProgress({ phase: `Converting to ${format}`, done: Number(m[1]), total: 100, unit: 'items' });
        }
      },
    },
  );
}

/** Copies a disk image (a qcow2 with its backing layers read through) into one file of `format`. */
export async function convertDisk(input: string, output: string, format: DiskFormat): Promise<void> {
  await runProgram('qemu-img', ['convert', '-O', format, ...formatOptions(format), input, output]);
}

/** Creates an empty disk of `bytes` (sparse when raw; a qcow2 holds only its metadata). */
export async function createDisk(path: string, format: DiskFormat, bytes: number): Promise<void> {
  await runProgram('qemu-img', ['create', '-q', '-f', format, ...formatOptions(format), path, String(bytes)]);
}

/**
 * A qcow2 layer on top of `backing` (a qcow2): reads fall through to it, writes stay in the layer,
 * and `backing` is never written again while the layer is in use.
 */
export async function createOverlay(path: string, backing: string): Promise<void> {
  await runProgram('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', backing, path]);
}

export interface ImageInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
}

export async function imageInfo(path: string): Promise<ImageInfo> {
  const { stdout } = await runProgram('qemu-img', ['info', '--output=json', path]);
  const info = JSON.parse(stdout.toString('utf8')) as {
    format: string;
    'virtual-size': number;
    'actual-size': number;
  };
  return { format: info.format, virtualSize: info['virtual-size'], actualSize: info['actual-size'] };
}

/** Copies `size` bytes at `offset` of the disk image (any format) to a sparse raw file. */
export async function extractRange(
  image: string,
  format: DiskFormat,
  offset: number,
  size: number,
  output: string,
): Promise<void> {
  const spec = {
    driver: 'raw',
    offset,
    size,
    file: { driver: format, file: { driver: 'file', filename: image } },
  };
  const source = format === 'raw' ? { ...spec, file: { driver: 'file', filename: image } } : spec;
  await runProgram('qemu-img', ['convert', '-O', 'raw', `json:${JSON.stringify(source)}`, output]);
}
