// Disk layouts: which partitions a disk gets, in which order and of which size, and their placement
// on a disk of a given size (1 MiB alignment, as Windows' diskpart does). The defaults follow
// Microsoft's recommended layouts ("UEFI/GPT-based hard drive partitions", "BIOS/MBR-based hard
// drive partitions"); a YAML file can give another one.

import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { AppError, errorText } from '../../core/errors.ts';
import { GPT_ATTRIBUTES, GPT_TYPES, gptTailSectors } from '../../formats/gpt.ts';
import { isGuid, normalizeGuid } from '../../formats/guid.ts';
import { MBR_TYPES } from '../../formats/mbr.ts';
import { requireFile } from '../../io/paths.ts';
import { alignUp, formatSize, MiB, parseSize } from './size.ts';

export type Firmware = 'uefi' | 'bios';
export type PartitionRole = 'esp' | 'msr' | 'system' | 'windows' | 'recovery';

export const SECTOR_SIZE = 512;
export const ALIGNMENT = MiB;
export const MIN_ESP_BYTES = 260 * MiB;

export interface PartitionSpec {
  readonly role: PartitionRole;
  /** Bytes, or 'rest' for what the others leave. */
  readonly size: number | 'rest';
  /** The GPT partition's unique GUID (random when absent). */
  readonly guid?: string;
  readonly label?: string;
}

export interface DiskLayout {
  readonly firmware: Firmware;
  readonly partitions: readonly PartitionSpec[];
  readonly diskGuid?: string;
  readonly diskSignature?: number;
}

export interface PlacedPartition {
  readonly role: PartitionRole;
  /** 1-based partition number (GPT slot, or MBR record). */
  readonly number: number;
  readonly firstLba: number;
  readonly sectorCount: number;
  readonly offset: number;
  readonly size: number;
  readonly filesystem: 'fat32' | 'ntfs' | 'none';
  readonly label: string;
  /** GPT only. */
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  readonly attributes: bigint;
  readonly name: string;
  /** MBR only. */
  readonly mbrType: number;
  readonly active: boolean;
}

export interface DiskPlan {
  readonly firmware: Firmware;
  readonly size: number;
  readonly totalSectors: number;
  readonly diskGuid: string;
  readonly diskSignature: number;
  readonly partitions: readonly PlacedPartition[];
}

export const DEFAULT_LAYOUTS: Readonly<Record<Firmware, DiskLayout>> = {
  uefi: {
    firmware: 'uefi',
    partitions: [
      { role: 'esp', size: MIN_ESP_BYTES },
      { role: 'msr', size: 16 * MiB },
      { role: 'windows', size: 'rest' },
    ],
  },
  bios: {
    firmware: 'bios',
    partitions: [
      { role: 'system', size: 100 * MiB },
      { role: 'windows', size: 'rest' },
    ],
  },
};

const ROLE_DETAILS: Readonly<
  Record<
    PartitionRole,
    {
      typeGuid: string;
      attributes: bigint;
      name: string;
      mbrType: number;
      fs: 'fat32' | 'ntfs' | 'none';
      label: string;
    }
  >
> = {
  esp: {
    typeGuid: GPT_TYPES.EFI_SYSTEM,
    attributes: 0n,
    name: 'EFI system partition',
    mbrType: MBR_TYPES.EFI_SYSTEM,
    fs: 'fat32',
    label: 'SYSTEM',
  },
  msr: {
    typeGuid: GPT_TYPES.MICROSOFT_RESERVED,
    attributes: 0n,
    name: 'Microsoft reserved partition',
    mbrType: 0,
    fs: 'none',
    label: '',
  },
  system: {
    typeGuid: GPT_TYPES.BASIC_DATA,
    attributes: 0n,
    name: 'Basic data partition',
    mbrType: MBR_TYPES.NTFS,
    fs: 'ntfs',
    label: 'System Reserved',
  },
  windows: {
    typeGuid: GPT_TYPES.BASIC_DATA,
    attributes: 0n,
    name: 'Basic data partition',
    mbrType: MBR_TYPES.NTFS,
    fs: 'ntfs',
    label: 'Windows',
  },
  recovery: {
    typeGuid: GPT_TYPES.WINDOWS_RECOVERY,
    attributes: GPT_ATTRIBUTES.REQUIRED_PARTITION | GPT_ATTRIBUTES.NO_DRIVE_LETTER,
    name: 'Basic data partition',
    mbrType: MBR_TYPES.WINDOWS_RECOVERY,
    fs: 'ntfs',
    label: 'Recovery',
  },
};

const ALLOWED_ROLES: Readonly<Record<Firmware, readonly PartitionRole[]>> = {
  uefi: ['esp', 'msr', 'windows', 'recovery'],
  bios: ['system', 'windows', 'recovery'],
};

/** Checks the rules a bootable Windows disk needs; `where` names the source in messages. */
export function checkLayout(layout: DiskLayout, where: string): void {
  const bad = (message: string): AppError =>
    new AppError('INVALID_ARGUMENT', `${where}: ${message}`, { hint: 'see docs/disk.md, "Layouts"' });
  const count = (role: PartitionRole): number => layout.partitions.filter((p) => p.role === role).length;
  for (const p of layout.partitions) {
    if (!ALLOWED_ROLES[layout.firmware].includes(p.role)) {
      throw bad(
        `a ${layout.firmware} disk cannot have a "${p.role}" partition (allowed: ${ALLOWED_ROLES[layout.firmware].join(', ')})`,
      );
    }
  }
  const required: PartitionRole = layout.firmware === 'uefi' ? 'esp' : 'system';
  for (const role of [required, 'windows'] as const) {
    if (count(role) !== 1) throw bad(`expected exactly one "${role}" partition, found ${count(role)}`);
  }
  for (const role of ['msr', 'recovery'] as const) {
    if (count(role) > 1) throw bad(`expected at most one "${role}" partition, found ${count(role)}`);
  }
  if (layout.partitions.filter((p) => p.size === 'rest').length > 1)
    throw bad('only one partition can have size "rest"');
  if (layout.firmware === 'bios' && layout.partitions.length > 4) {
    throw bad(`an MBR disk holds 4 primary partitions, the layout has ${layout.partitions.length}`);
  }
  const esp = layout.partitions.find((p) => p.role === 'esp');
  if (esp !== undefined && esp.size !== 'rest' && esp.size < MIN_ESP_BYTES) {
    throw bad(
      `the EFI system partition must be at least 260 MiB (FAT32 on 4 KiB clusters), found ${formatSize(esp.size)}`,
    );
  }
}

/** Bytes the fixed partitions, the alignment and the tables take, plus what the Windows partition needs. */
export function minimumDiskSize(layout: DiskLayout, windowsBytes: number): number {
  let total = ALIGNMENT;
  for (const p of layout.partitions) {
    const size = p.size === 'rest' ? (p.role === 'windows' ? windowsBytes : MiB) : p.size;
    total += alignUp(size, ALIGNMENT);
  }
  return total + ALIGNMENT;
}

export interface PlanIdentity {
  readonly diskGuid: string;
  readonly diskSignature: number;
  readonly partitionGuids: readonly string[];
}

/** Places `layout` on a disk of `size` bytes. Throws when it does not fit. */
export function planDisk(layout: DiskLayout, size: number, identity: PlanIdentity): DiskPlan {
  const totalSectors = Math.floor(size / SECTOR_SIZE);
  const tailSectors = layout.firmware === 'uefi' ? gptTailSectors(SECTOR_SIZE) : 0;
  const endLba =
    Math.floor((totalSectors - tailSectors) / (ALIGNMENT / SECTOR_SIZE)) * (ALIGNMENT / SECTOR_SIZE);
  const alignSectors = ALIGNMENT / SECTOR_SIZE;
  const fixed = layout.partitions.reduce(
    (sum, p) => sum + (p.size === 'rest' ? 0 : alignUp(p.size, ALIGNMENT) / SECTOR_SIZE),
    0,
  );
  const restSectors = endLba - alignSectors - fixed;
  if (restSectors < (layout.partitions.some((p) => p.size === 'rest') ? alignSectors : 0)) {
    throw new AppError('INVALID_ARGUMENT', `the partitions need more than the disk's ${formatSize(size)}`, {
      hint: 'give a bigger --size, or smaller partitions in the layout',
    });
  }
  let lba = alignSectors;
  const partitions = layout.partitions.map((p, i): PlacedPartition => {
    const details = ROLE_DETAILS[p.role];
    const sectorCount = p.size === 'rest' ? restSectors : alignUp(p.size, ALIGNMENT) / SECTOR_SIZE;
    const placed: PlacedPartition = {
      role: p.role,
      number: i + 1,
      firstLba: lba,
      sectorCount,
      offset: lba * SECTOR_SIZE,
      size: sectorCount * SECTOR_SIZE,
      filesystem: details.fs,
      label: p.label ?? details.label,
      typeGuid: details.typeGuid,
      uniqueGuid: normalizeGuid(p.guid ?? identity.partitionGuids[i] ?? ''),
      attributes: details.attributes,
      name: details.name,
      mbrType: details.mbrType,
      active: layout.firmware === 'bios' && p.role === 'system',
    };
    lba += sectorCount;
    return placed;
  });
  return {
    firmware: layout.firmware,
    size: totalSectors * SECTOR_SIZE,
    totalSectors,
    diskGuid: normalizeGuid(layout.diskGuid ?? identity.diskGuid),
    diskSignature: layout.diskSignature ?? identity.diskSignature,
    partitions,
  };
}

const LAYOUT_KEYS = ['firmware', 'diskGuid', 'diskSignature', 'partitions'] as const;
const PARTITION_KEYS = ['role', 'size', 'guid', 'label'] as const;

/** Where a node of a YAML document is, as FILE:LINE:COL, for messages. */
export type YamlLocator = (node: YamlNode | null | undefined) => string;

/** Reads a layout file: YAML with the keys of DiskLayout; any other key is an error naming file:line:col. */
export async function readLayoutFile(path: string, firmware: Firmware): Promise<DiskLayout> {
  await requireFile(path);
  const text = await readFile(path, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at: YamlLocator = (node) => {
    const offset = node?.range?.[0] ?? 0;
    const pos = lines.linePos(offset);
    return `${path}:${pos.line}:${pos.col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const pos = lines.linePos(firstError.pos[0]);
    throw new AppError(
      'INVALID_ARGUMENT',
      `${path}:${pos.line}:${pos.col}: not valid YAML: ${firstError.message.split('\n')[0] ?? ''}`,
    );
  }
  return readLayout(doc.contents, { firmware, by: `--firmware ${firmware}` }, at, path);
}

/**
 * A layout from its YAML node (a mapping with the keys of DiskLayout), for the firmware `wanted`
 * (which `by` names in messages), or the one it says when `wanted` is null; errors name the
 * node's place through `at`.
 */
export function readLayout(
  root: YamlNode | null,
  wanted: { readonly firmware: Firmware; readonly by: string } | null,
  at: YamlLocator,
  where: string,
): DiskLayout {
  const firmware = wanted?.firmware ?? null;
  const fail = (node: YamlNode | null | undefined, message: string): AppError =>
    new AppError('INVALID_ARGUMENT', `${at(node)}: ${message}`, { hint: 'see docs/disk.md, "Layouts"' });
  if (!isMap(root)) throw fail(root, 'expected a mapping with "partitions"');
  let layoutFirmware = firmware;
  let diskGuid: string | undefined;
  let diskSignature: number | undefined;
  let partitions: PartitionSpec[] | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyNode = pair.key as YamlNode;
    const value = pair.value as YamlNode | null;
    const scalar = (): string => {
      if (!isScalar(value)) throw fail(value ?? keyNode, `"${key}" expects a single value`);
      return String(value.value);
    };
    switch (key) {
      case 'firmware': {
        const f = scalar();
        if (f !== 'uefi' && f !== 'bios') throw fail(value, `firmware "${f}" is not uefi or bios`);
        if (wanted !== null && f !== wanted.firmware)
          throw fail(value, `the layout is for ${f}, ${wanted.by} asks for ${wanted.firmware}`);
        layoutFirmware = f;
        break;
      }
      case 'diskGuid': {
        const g = scalar();
        if (!isGuid(g)) throw fail(value, `diskGuid "${g}" is not a GUID`);
        diskGuid = normalizeGuid(g);
        break;
      }
      case 'diskSignature': {
        const s = Number(scalar());
        if (!Number.isInteger(s) || s <= 0 || s > 0xffffffff)
          throw fail(value, 'diskSignature must be a 32-bit number other than 0');
        diskSignature = s;
        break;
      }
      case 'partitions': {
        if (!isSeq(value)) throw fail(value ?? keyNode, '"partitions" expects a list');
        partitions = value.items.map((item) => readPartition(item as YamlNode, fail));
        break;
      }
      default:
        throw fail(keyNode, `unknown key "${key}" (known: ${LAYOUT_KEYS.join(', ')})`);
    }
  }
  if (partitions === undefined) throw fail(root, 'the layout has no "partitions" list');
  if (layoutFirmware === null) throw fail(root, 'the layout says no firmware: add firmware: uefi or bios');
  const layout: DiskLayout = {
    firmware: layoutFirmware,
    partitions,
    ...(diskGuid === undefined ? {} : { diskGuid }),
    ...(diskSignature === undefined ? {} : { diskSignature }),
  };
  checkLayout(layout, where);
  return layout;
}

function readPartition(
  node: YamlNode,
  fail: (node: YamlNode | null | undefined, message: string) => AppError,
): PartitionSpec {
  if (!isMap(node)) throw fail(node, 'a partition is a mapping with "role" and "size"');
  let role: PartitionRole | undefined;
  let size: number | 'rest' = 'rest';
  let guid: string | undefined;
  let label: string | undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyNode = pair.key as YamlNode;
    const value = pair.value as YamlNode | null;
    if (!isScalar(value)) throw fail(value ?? keyNode, `"${key}" expects a single value`);
    const text = String(value.value);
    switch (key) {
      case 'role':
        if (!(['esp', 'msr', 'system', 'windows', 'recovery'] as const).includes(text as PartitionRole)) {
          throw fail(value, `role "${text}" is not one of esp, msr, system, windows, recovery`);
        }
        role = text as PartitionRole;
        break;
      case 'size':
        try {
          size = text === 'rest' ? 'rest' : parseSize(text, 'partition size');
        } catch (e) {
          throw fail(value, errorText(e));
        }
        break;
      case 'guid':
        if (!isGuid(text)) throw fail(value, `guid "${text}" is not a GUID`);
        guid = normalizeGuid(text);
        break;
      case 'label':
        if (text.length > 32) throw fail(value, `label "${text}" is longer than 32 characters`);
        label = text;
        break;
      default:
        throw fail(keyNode, `unknown key "${key}" (known: ${PARTITION_KEYS.join(', ')})`);
    }
  }
  if (role === undefined) throw fail(node, 'the partition has no "role"');
  return { role, size, ...(guid === undefined ? {} : { guid }), ...(label === undefined ? {} : { label }) };
}
