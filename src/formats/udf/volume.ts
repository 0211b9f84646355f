// A read-only UDF file system reader over a ByteSource: finds the volume, resolves paths, lists
// directories and exposes a file's content as a ByteSource spanning its extents. Written for Windows
// installation media (UDF 1.02 from Microsoft's CDIMAGE, with an ISO 9660 bridge), and reading any
// UDF 1.02–2.60 volume that uses plain (type 1) partition maps.
//
// Specs: ECMA-167 3rd edition — Part 2 §9.1 (Volume Recognition Sequence: BEA01, NSR02/NSR03, TEA01
// from byte 32768), Part 3 §8.4 (volume descriptor sequence, prevailing descriptors by sequence number),
// §10.2 (anchor at sector 256, or the last sector), Part 4 §8.3 (file set), §8.6 (directories as
// File Identifier Descriptors), §8.8 / §12 (allocation descriptors, extent continuation).
// OSTA UDF 2.60 §2.2.3 (anchor locations), §2.3.10 (Windows-style case-insensitive names are our
// choice, not the spec's: Windows media mix upper and lower case).

import { checkRange, type ByteSource } from '../../core/byte-source.ts';
import { FormatError } from '../../core/errors.ts';
import {
  AD_TYPE,
  EXTENT_TYPE,
  FID_FLAG,
  FILE_TYPE,
  TAG_ID,
  parseAllocationExtent,
  parseAnchor,
  parseDescriptorTag,
  parseFileEntry,
  parseFileIdentifiers,
  parseFileSetDescriptor,
  parseLogicalVolumeDescriptor,
  parsePartitionDescriptor,
  parsePrimaryVolumeDescriptor,
  parseVolumeDescriptorPointer,
  type AllocationDescriptor,
  type FileEntry,
  type LbAddr,
  type LogicalVolumeDescriptor,
  type PartitionDescriptor,
  type PrimaryVolumeDescriptor,
} from './descriptors.ts';

/** Optical media sectors; the anchor and recognition sequence positions count in them. */
export const SECTOR_SIZE = 2048;
export const VRS_FIRST_SECTOR = 16;
export const ANCHOR_SECTOR = 256;

/** Recognition sequence length cap: ISO 9660 and UDF together use a handful of sectors. */
export const MAX_VRS_SECTORS = 64;
/** Volume descriptor sequence cap, pointers followed included: real ones hold under 10 descriptors. */
export const MAX_VDS_DESCRIPTORS = 256;
/** Entries in one directory: Windows media directories hold a few hundred at most. */
export const MAX_DIRECTORY_ENTRIES = 100_000;
/** Bytes of one directory's identifier list: MAX_DIRECTORY_ENTRIES entries of a long name fit. */
export const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
/** Directory nesting: Windows paths are short (MAX_PATH 260); deeper is corrupt or hostile. */
export const MAX_PATH_DEPTH = 64;
/** Extents of one file: a 6 GiB install.wim needs 6 (each at most 1 GiB - 1). */
export const MAX_EXTENTS_PER_FILE = 100_000;
/** Entries walked in a whole-tree listing: a Windows Server ISO has about 1 000 files. */
export const MAX_TREE_ENTRIES = 1_000_000;

export interface UdfEntry {
  /** Name as recorded. */
  readonly name: string;
  /** Path from the root, '/'-separated, without a leading '/'; '' for the root. */
  readonly path: string;
  readonly isDirectory: boolean;
  /** Content length in bytes; for a directory, the length of its list of identifiers. */
  readonly size: number;
  readonly icb: LbAddr;
}

/** A run of a file's content: `offset` in the source, or null when not recorded (reads as zeros). */
export interface UdfExtent {
  readonly offset: number | null;
  readonly length: number;
}

/** Where the blocks of a logical volume are: enough to turn an lb_addr into a byte offset. */
export interface UdfLayout {
  readonly source: ByteSource;
  readonly blockSize: number;
  /** First sector of each partition, by partition reference number (index of the map). */
  readonly partitionStarts: readonly number[];
  readonly partitionLengths: readonly number[];
}

export interface UdfVolume extends UdfLayout {
  /** The Logical Volume Identifier: the label Windows shows (e.g. SSS_X64FREE_EN-US_DV9). */
  readonly label: string;
  readonly volumeIdentifier: string;
  readonly fileSetIdentifier: string;
  readonly domain: string;
  readonly root: UdfEntry;
}

async function readAt(source: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  checkRange(source.size, offset, length, what);
  return source.read(offset, length);
}

function identifierOf(sector: Uint8Array): string {
  return String.fromCharCode(...sector.subarray(1, 6));
}

/** ECMA-167 2/9.1: is there an NSR02/NSR03 descriptor inside BEA01 … TEA01? */
async function hasUdfRecognition(source: ByteSource): Promise<boolean> {
  let inExtended = false;
  for (let i = 0; i < MAX_VRS_SECTORS; i++) {
    const offset = (VRS_FIRST_SECTOR + i) * SECTOR_SIZE;
    if (offset + SECTOR_SIZE > source.size) return false;
    const sector = await source.read(offset, 7);
    const id = identifierOf(sector);
    if (id === 'BEA01') inExtended = true;
    else if (id === 'TEA01') inExtended = false;
    else if ((id === 'NSR02' || id === 'NSR03') && inExtended) return true;
    else if (!['CD001', 'CDW02', 'BOOT2'].includes(id)) return false;
  }
  return false;
}

async function readAnchor(source: ByteSource): Promise<ReturnType<typeof parseAnchor>> {
  const lastSector = Math.floor(source.size / SECTOR_SIZE) - 1;
  const candidates = [ANCHOR_SECTOR, lastSector, lastSector - ANCHOR_SECTOR];
  let firstError: unknown = null;
  for (const sector of candidates) {
    if (sector < ANCHOR_SECTOR || (sector + 1) * SECTOR_SIZE > source.size) continue;
    const offset = sector * SECTOR_SIZE;
    try {
      return parseAnchor(await source.read(offset, 512), offset);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      firstError ??= e;
    }
  }
  if (firstError instanceof FormatError) throw firstError;
  throw new FormatError(`no Anchor Volume Descriptor Pointer: the image has only ${source.size} bytes`, {
    offset: ANCHOR_SECTOR * SECTOR_SIZE,
  });
}

interface VolumeDescriptors {
  primary: PrimaryVolumeDescriptor | null;
  logical: LogicalVolumeDescriptor | null;
  partitions: Map<number, PartitionDescriptor>;
}

/** Reads a volume descriptor sequence (ECMA-167 3/8.4), keeping the prevailing descriptors. */
async function readSequence(source: ByteSource, start: number, length: number): Promise<VolumeDescriptors> {
  const found: VolumeDescriptors = { primary: null, logical: null, partitions: new Map() };
  let sector = start;
  let end = start + Math.floor(length / SECTOR_SIZE);
  const visited = new Set<number>();
  for (let count = 0; sector < end; count++) {
    if (count >= MAX_VDS_DESCRIPTORS) {
      throw new FormatError(`volume descriptor sequence is longer than ${MAX_VDS_DESCRIPTORS} descriptors`, {
        offset: sector * SECTOR_SIZE,
        code: 'LIMIT_EXCEEDED',
      });
    }
    if (visited.has(sector)) {
      throw new FormatError('volume descriptor sequence loops back on itself', {
        offset: sector * SECTOR_SIZE,
      });
    }
    visited.add(sector);
    const offset = sector * SECTOR_SIZE;
    const bytes = await readAt(source, offset, SECTOR_SIZE, 'volume descriptor');
    const tag = parseDescriptorTag(bytes, offset);
    if (tag.identifier === TAG_ID.TERMINATING_DESCRIPTOR || tag.identifier === 0) break;
    if (tag.identifier === TAG_ID.PRIMARY_VOLUME_DESCRIPTOR) {
      const pvd = parsePrimaryVolumeDescriptor(bytes, offset);
      if (found.primary === null || pvd.sequenceNumber > found.primary.sequenceNumber) found.primary = pvd;
    } else if (tag.identifier === TAG_ID.LOGICAL_VOLUME_DESCRIPTOR) {
      const lvd = parseLogicalVolumeDescriptor(bytes, offset);
      if (found.logical === null || lvd.sequenceNumber > found.logical.sequenceNumber) found.logical = lvd;
    } else if (tag.identifier === TAG_ID.PARTITION_DESCRIPTOR) {
      const pd = parsePartitionDescriptor(bytes, offset);
      const previous = found.partitions.get(pd.number);
      if (previous === undefined || pd.sequenceNumber > previous.sequenceNumber)
        found.partitions.set(pd.number, pd);
    } else if (tag.identifier === TAG_ID.VOLUME_DESCRIPTOR_POINTER) {
      const next = parseVolumeDescriptorPointer(bytes, offset);
      sector = next.location;
      end = next.location + Math.floor(next.length / SECTOR_SIZE);
      continue;
    }
    sector += 1;
  }
  return found;
}

async function readDescriptors(source: ByteSource): Promise<VolumeDescriptors> {
  const anchor = await readAnchor(source);
  try {
    return await readSequence(source, anchor.main.location, anchor.main.length);
  } catch (e) {
    if (!(e instanceof FormatError) || e.code !== 'FORMAT_INVALID' || anchor.reserve.length === 0) throw e;
    return readSequence(source, anchor.reserve.location, anchor.reserve.length);
  }
}

/** Absolute byte offset of a logical block. */
export function blockOffset(volume: UdfLayout, address: LbAddr): number {
  const start = volume.partitionStarts[address.partition];
  const length = volume.partitionLengths[address.partition];
  if (start === undefined || length === undefined) {
    throw new FormatError(
      `block ${address.block} refers to partition ${address.partition}; the volume has ${volume.partitionStarts.length}`,
    );
  }
  if (address.block >= length) {
    throw new FormatError(
      `block ${address.block} is past the end of partition ${address.partition} (${length} blocks)`,
    );
  }
  return (start + address.block) * volume.blockSize;
}

async function readBlock(
  volume: UdfLayout,
  address: LbAddr,
  what: string,
): Promise<{ bytes: Uint8Array; offset: number }> {
  const offset = blockOffset(volume, address);
  return { bytes: await readAt(volume.source, offset, volume.blockSize, what), offset };
}

async function readFileEntry(volume: UdfLayout, icb: LbAddr): Promise<FileEntry> {
  const { bytes, offset } = await readBlock(volume, icb, 'file entry');
  return parseFileEntry(bytes, icb.partition, offset);
}

/**
 * Opens a UDF volume. Throws FormatError: FORMAT_INVALID when there is no UDF (an ISO 9660-only image)
 * or it is corrupt, FORMAT_UNSUPPORTED for features outside plain partitions.
 */
export async function openUdfVolume(source: ByteSource): Promise<UdfVolume> {
  if (!(await hasUdfRecognition(source))) {
    throw new FormatError(
      'no UDF file system: the volume recognition sequence at sector 16 has no NSR02/NSR03 descriptor',
      {
        offset: VRS_FIRST_SECTOR * SECTOR_SIZE,
        hint: 'Windows installation media are UDF; an image with only ISO 9660 is not Windows media',
      },
    );
  }
  const { primary, logical, partitions } = await readDescriptors(source);
  if (logical === null)
    throw new FormatError('the volume descriptor sequence has no Logical Volume Descriptor');
  if (logical.blockSize !== SECTOR_SIZE) {
    throw new FormatError(
      `logical block size ${logical.blockSize} is not supported; expected ${SECTOR_SIZE}`,
      {
        code: 'FORMAT_UNSUPPORTED',
      },
    );
  }
  const starts: number[] = [];
  const lengths: number[] = [];
  for (const map of logical.partitionMaps) {
    const pd = partitions.get(map.partitionNumber);
    if (pd === undefined) {
      throw new FormatError(
        `partition map names partition ${map.partitionNumber}, which has no Partition Descriptor`,
      );
    }
    starts.push(pd.start);
    lengths.push(pd.length);
  }
  const layout: UdfLayout = {
    source,
    blockSize: logical.blockSize,
    partitionStarts: starts,
    partitionLengths: lengths,
  };
  const fsdBlock = await readBlock(layout, logical.fileSetLocation.location, 'file set descriptor');
  const fsd = parseFileSetDescriptor(fsdBlock.bytes, fsdBlock.offset);
  const rootIcb = fsd.rootDirectory.location;
  const rootEntry = await readFileEntry(layout, rootIcb);
  if (rootEntry.fileType !== FILE_TYPE.DIRECTORY) {
    throw new FormatError(`root ICB has file type ${rootEntry.fileType}, expected a directory (4)`);
  }
  return {
    ...layout,
    label: logical.identifier,
    volumeIdentifier: primary?.volumeIdentifier ?? '',
    fileSetIdentifier: fsd.fileSetIdentifier,
    domain: logical.domain,
    root: { name: '', path: '', isDirectory: true, size: rootEntry.size, icb: rootIcb },
  };
}

/** The allocation descriptors of an entry with continuation extents followed (ECMA-167 4/12). */
async function allocationDescriptors(volume: UdfLayout, entry: FileEntry): Promise<AllocationDescriptor[]> {
  const out: AllocationDescriptor[] = [];
  let pending = [...entry.descriptors];
  const visited = new Set<string>();
  while (pending.length > 0) {
    let next: AllocationDescriptor | null = null;
    for (const ad of pending) {
      if (ad.type === EXTENT_TYPE.CONTINUATION) {
        next = ad;
        break;
      }
      out.push(ad);
      if (out.length > MAX_EXTENTS_PER_FILE) {
        throw new FormatError(`a file has more than ${MAX_EXTENTS_PER_FILE} extents`, {
          code: 'LIMIT_EXCEEDED',
        });
      }
    }
    if (next === null) break;
    const key = `${next.location.partition}:${next.location.block}`;
    if (visited.has(key)) throw new FormatError('allocation extent chain loops back on itself');
    visited.add(key);
    const { bytes, offset } = await readBlock(volume, next.location, 'allocation extent');
    pending = parseAllocationExtent(bytes, entry.adType, next.location.partition, offset);
  }
  return out;
}

/** Where a file's content lies, in order, trimmed to its length. Embedded data gives []. */
export async function entryExtents(volume: UdfLayout, entry: FileEntry): Promise<UdfExtent[]> {
  if (entry.adType === AD_TYPE.EMBEDDED) return [];
  const extents: UdfExtent[] = [];
  let remaining = entry.size;
  for (const ad of await allocationDescriptors(volume, entry)) {
    if (remaining === 0) break;
    const length = Math.min(ad.length, remaining);
    if (ad.type === EXTENT_TYPE.RECORDED) {
      const offset = blockOffset(volume, ad.location);
      checkRange(volume.source.size, offset, length, 'file extent');
      extents.push({ offset, length });
    } else {
      extents.push({ offset: null, length });
    }
    remaining -= length;
  }
  if (remaining > 0) {
    throw new FormatError(`file extents hold ${entry.size - remaining} bytes, the entry says ${entry.size}`);
  }
  return extents;
}

/** A ByteSource over content that spans extents; unrecorded extents read as zeros. */
export function extentsSource(source: ByteSource, extents: readonly UdfExtent[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const extent of extents) {
    starts.push(size);
    size += extent.length;
  }
  return {
    size,
    async read(offset, length) {
      checkRange(size, offset, length, 'read');
      const out = new Uint8Array(length);
      let lo = 0;
      let hi = extents.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      let filled = 0;
      for (let i = lo; filled < length && i < extents.length; i++) {
        const extent = extents[i];
        const extentStart = starts[i];
        if (extent === undefined || extentStart === undefined) break;
        const within = offset + filled - extentStart;
        const take = Math.min(extent.length - within, length - filled);
        if (take <= 0) continue;
        if (extent.offset !== null) out.set(await source.read(extent.offset + within, take), filled);
        filled += take;
      }
      return out;
    },
  };
}

async function contentOf(volume: UdfLayout, entry: FileEntry): Promise<ByteSource> {
  if (entry.embedded !== null) {
    const bytes = entry.embedded;
    return {
      size: bytes.byteLength,
      read(offset, length) {
        checkRange(bytes.byteLength, offset, length, 'read');
        return Promise.resolve(bytes.subarray(offset, offset + length));
      },
    };
  }
  return extentsSource(volume.source, await entryExtents(volume, entry));
}

/** The entries of a directory, without the parent entry and deleted ones. */
export async function listDirectory(volume: UdfLayout, directory: UdfEntry): Promise<UdfEntry[]> {
  if (!directory.isDirectory) throw new FormatError(`${directory.path} is not a directory`);
  const entry = await readFileEntry(volume, directory.icb);
  if (entry.fileType !== FILE_TYPE.DIRECTORY) {
    throw new FormatError(`/${directory.path} has file type ${entry.fileType}, expected a directory`);
  }
  if (entry.size > MAX_DIRECTORY_BYTES) {
    throw new FormatError(
      `directory /${directory.path} is ${entry.size} bytes, over the limit of ${MAX_DIRECTORY_BYTES}`,
      {
        code: 'LIMIT_EXCEEDED',
      },
    );
  }
  const content = await contentOf(volume, entry);
  const bytes = await content.read(0, content.size);
  const fids = parseFileIdentifiers(bytes, blockOffset(volume, directory.icb), MAX_DIRECTORY_ENTRIES);
  const out: UdfEntry[] = [];
  for (const fid of fids) {
    if (fid.characteristics & (FID_FLAG.PARENT | FID_FLAG.DELETED)) continue;
    if (fid.name === '' || fid.name === '.' || fid.name === '..' || fid.name.includes('/')) {
      throw new FormatError(`directory /${directory.path} has an entry named ${JSON.stringify(fid.name)}`);
    }
    const isDirectory = (fid.characteristics & FID_FLAG.DIRECTORY) !== 0;
    const child = await readFileEntry(volume, fid.icb.location);
    if (isDirectory !== (child.fileType === FILE_TYPE.DIRECTORY)) {
      throw new FormatError(
        `/${directory.path === '' ? '' : `${directory.path}/`}${fid.name}: identifier says ${isDirectory ? '' : 'not '}a directory, its entry has file type ${child.fileType}`,
      );
    }
    out.push({
      name: fid.name,
      path: directory.path === '' ? fid.name : `${directory.path}/${fid.name}`,
      isDirectory,
      size: child.size,
      icb: fid.icb.location,
    });
  }
  return out;
}

/** Looks a '/'-separated path up, ignoring case (an exact-case match wins); null when absent. */
export async function findEntry(volume: UdfVolume, path: string): Promise<UdfEntry | null> {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length > MAX_PATH_DEPTH) {
    throw new FormatError(`path has ${parts.length} components, over the limit of ${MAX_PATH_DEPTH}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  let current = volume.root;
  for (const part of parts) {
    if (!current.isDirectory) return null;
    const entries = await listDirectory(volume, current);
    const lower = part.toLowerCase();
    const next = entries.find((e) => e.name === part) ?? entries.find((e) => e.name.toLowerCase() === lower);
    if (next === undefined) return null;
    current = next;
  }
  return current;
}

/** Every entry under the root, parents before children, with loop and size limits. */
export async function walkTree(volume: UdfVolume): Promise<UdfEntry[]> {
  const out: UdfEntry[] = [];
  const visited = new Set<string>([`${volume.root.icb.partition}:${volume.root.icb.block}`]);
  const visit = async (directory: UdfEntry, depth: number): Promise<void> => {
    if (depth > MAX_PATH_DEPTH) {
      throw new FormatError(`directories nest deeper than ${MAX_PATH_DEPTH}`, { code: 'LIMIT_EXCEEDED' });
    }
    for (const entry of await listDirectory(volume, directory)) {
      out.push(entry);
      if (out.length > MAX_TREE_ENTRIES) {
        throw new FormatError(`the volume has more than ${MAX_TREE_ENTRIES} entries`, {
          code: 'LIMIT_EXCEEDED',
        });
      }
      if (!entry.isDirectory) continue;
      const key = `${entry.icb.partition}:${entry.icb.block}`;
      if (visited.has(key))
        throw new FormatError(`directory /${entry.path} loops back to one of its parents`);
      visited.add(key);
      await visit(entry, depth + 1);
    }
  };
  await visit(volume.root, 1);
  return out;
}

/** The extents of a file's content (empty when the data is embedded in its entry). */
export async function fileExtents(volume: UdfLayout, file: UdfEntry): Promise<UdfExtent[]> {
  return entryExtents(volume, await readFileEntry(volume, file.icb));
}

/** A file's content as a ByteSource, read on demand. */
export async function openUdfFile(volume: UdfLayout, file: UdfEntry): Promise<ByteSource> {
  if (file.isDirectory) throw new FormatError(`/${file.path} is a directory, not a file`);
  return contentOf(volume, await readFileEntry(volume, file.icb));
}
