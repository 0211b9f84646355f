// The partitions of a disk image (raw, or any format qemu-img reads) from its partition table, GPT
// or MBR, read at both ends of the disk; and a partition copied out into a sparse raw file through
// qemu's raw driver with offset and size (no nbd, no mount, no root). What `disk verify` and the
// capture of a disk image start from.

import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { extractRange, imageInfo, type DiskFormat, DISK_FORMATS } from '../../engines/qemu-img.ts';
import { GPT_TYPES, parseGpt } from '../../formats/gpt.ts';
import { MBR_TYPES, parseMbr } from '../../formats/mbr.ts';
import { withFileSource } from '../../io/file-source.ts';
import { requireFile } from '../../io/paths.ts';
import { SECTOR_SIZE, type Firmware } from './layout.ts';

/** Bytes read at each end of the disk for the partition tables (GPT needs 34 and 33 sectors). */
const TABLE_READ_BYTES = 1024 * 1024;

export interface VerifiedPartition {
  readonly number: number;
  readonly firstLba: number;
  readonly sectorCount: number;
  readonly type: string;
  readonly name: string | null;
  readonly uniqueGuid: string | null;
  readonly active: boolean;
}

async function readEnds(
  path: string,
  format: DiskFormat,
  size: number,
  scratch: string,
): Promise<[Uint8Array, Uint8Array]> {
  const length = Math.min(TABLE_READ_BYTES, size);
  if (format === 'raw') {
    return withFileSource(path, async (source) => [
      await source.read(0, length),
      await source.read(size - length, length),
    ]);
  }
  const head = join(scratch, 'head.bin');
  const tail = join(scratch, 'tail.bin');
  await extractRange(path, format, 0, length, head);
  await extractRange(path, format, size - length, length, tail);
  const read = (p: string): Promise<Uint8Array> => withFileSource(p, (s) => s.read(0, length));
  return [await read(head), await read(tail)];
}

export interface TableView {
  firmware: Firmware;
  diskId: string;
  partitions: VerifiedPartition[];
  system: VerifiedPartition | undefined;
  candidates: VerifiedPartition[];
  problems: string[];
  mbrBootCode: boolean;
}

export function readTables(head: Uint8Array, tail: Uint8Array, size: number): TableView {
  const mbr = parseMbr(head.subarray(0, 512));
  const problems: string[] = [];
  if (mbr.partitions.some((p) => p?.type === MBR_TYPES.GPT_PROTECTIVE)) {
    const gpt = parseGpt(head, tail, Math.floor(size / SECTOR_SIZE), SECTOR_SIZE);
    const partitions = gpt.partitions.map((p): VerifiedPartition => ({
      number: p.number,
      firstLba: p.firstLba,
      sectorCount: p.lastLba - p.firstLba + 1,
      type: p.typeGuid,
      name: p.name,
      uniqueGuid: p.uniqueGuid,
      active: false,
    }));
    const esps = partitions.filter((p) => p.type === GPT_TYPES.EFI_SYSTEM);
    if (esps.length !== 1) problems.push(`expected one EFI system partition, found ${esps.length}`);
    return {
      firmware: 'uefi',
      diskId: gpt.diskGuid,
      partitions,
      system: esps[0],
      candidates: partitions.filter((p) => p.type === GPT_TYPES.BASIC_DATA),
      problems,
      mbrBootCode: false,
    };
  }
  const partitions: VerifiedPartition[] = [];
  mbr.partitions.forEach((p, i) => {
    if (p === null) return;
    partitions.push({
      number: i + 1,
      firstLba: p.firstLba,
      sectorCount: p.sectorCount,
      type: `0x${p.type.toString(16).padStart(2, '0')}`,
      name: null,
      uniqueGuid: null,
      active: p.bootable,
    });
  });
  const active = partitions.filter((p) => p.active);
  if (active.length !== 1) problems.push(`expected one active MBR partition, found ${active.length}`);
  const mbrBootCode = mbr.bootCode.some((b) => b !== 0);
  if (!mbrBootCode) problems.push('the MBR has no boot code');
  return {
    firmware: 'bios',
    diskId: mbr.diskSignature.toString(16).padStart(8, '0'),
    partitions,
    system: active[0],
    candidates: partitions.filter((p) => p.type === '0x07'),
    problems,
    mbrBootCode,
  };
}

/** A disk image's format and size, refused unless qemu-img reads it as a disk format winsmith knows. */
export async function openDiskImage(path: string): Promise<{ format: DiskFormat; size: number }> {
  await requireFile(path);
  const info = await imageInfo(path);
  if (!(DISK_FORMATS as readonly string[]).includes(info.format)) {
    throw new AppError(
      'FORMAT_UNSUPPORTED',
      `${path} is a ${info.format} image; expected raw, qcow2, vhdx or vmdk`,
    );
  }
  return { format: info.format as DiskFormat, size: info.virtualSize };
}

export interface DiskImage {
  readonly path: string;
  readonly format: DiskFormat;
  readonly size: number;
}

/** The partition table of a disk image; `scratch` is a folder for the ends of a non-raw image. */
export async function readDiskTable(disk: DiskImage, scratch: string): Promise<TableView> {
  const [head, tail] = await readEnds(disk.path, disk.format, disk.size, scratch);
  return readTables(head, tail, disk.size);
}

/** Copies partition `p` of the disk into the sparse raw file `file`. */
export async function extractPartition(disk: DiskImage, p: VerifiedPartition, file: string): Promise<string> {
  await extractRange(disk.path, disk.format, p.firstLba * SECTOR_SIZE, p.sectorCount * SECTOR_SIZE, file);
  return file;
}
