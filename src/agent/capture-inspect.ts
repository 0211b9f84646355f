// The capture's inspection, before anything big is read: the machine's partitions (GPT, or the
// MBR's four primary entries), what each NTFS-like one is, and the one to capture: the partition
// the task names, or the largest clean NTFS partition holding Windows\System32\config\SYSTEM.
// Refused, with the reason, and never repaired (everything is opened read only):
//   BitLocker    the boot sector's OEM id is "-FVE-FS-" instead of "NTFS    ": its files cannot
//                be read without the key;
//   dirty        $Volume's $VOLUME_INFORMATION has the dirty flag: Windows did not shut down
//                cleanly (or chkdsk is scheduled), and what is on the disk may be half written;
//   hibernated   \hiberfil.sys starts with "hibr" (any case): Windows hibernated, or shut down
//                with Fast Startup, and the volume's state lives partly in that file.
// Then the SYSTEM hive is read with winsmith's regf code to tell whether Sysprep generalized it;
// a capture of an installation not generalized goes on, with a warning.

import { open, stat } from 'node:fs/promises';
import { AppError, errorText, FormatError } from '../core/errors.ts';
import type { ByteSource } from '../core/byte-source.ts';
import type { DiskInfo } from '../deploy/agent-protocol.ts';
import { attachLoopReadOnly } from '../engines/loop.ts';
import { ntfsListDirectory, ntfsReadFile, ntfsReadHead } from '../engines/ntfs.ts';
import { isHibernated, readNtfsVolumeState, type NtfsVolumeState } from '../formats/ntfs/ntfs-volume.ts';
import { Hive } from '../formats/regf/index.ts';
import { readTables } from '../image/disk/partitions.ts';
import { formatSize } from '../image/disk/size.ts';
import { readSysprepState, type SysprepState } from '../image/sysprep-state.ts';
import { partitionDevice } from './disk-target.ts';

const SECTOR = 512;
/** Bytes read at each end of a disk for its partition table: GPT's 128 entries need 17 KiB. */
const TABLE_BYTES = 1024 * 1024;

export interface DiskPartition {
  readonly disk: DiskInfo;
  readonly number: number;
  readonly offset: number;
  readonly size: number;
}

/** A partition's volume as a path programs read (the partition's device, or a loop device). */
export interface VolumePath {
  readonly path: string;
  close(): Promise<void>;
}

export interface InspectedVolume {
  readonly partition: DiskPartition;
  readonly state: NtfsVolumeState;
  /** Whether it holds Windows\System32\config\SYSTEM; null when it cannot be read (BitLocker, dirty). */
  readonly windows: boolean | null;
}

export interface CaptureSource {
  readonly partition: DiskPartition;
  readonly volume: VolumePath;
  readonly sysprep: SysprepState | null;
  /** Why the SYSTEM hive could not be read, when it could not. */
  readonly hiveProblem: string | null;
}

export function describePartition(p: DiskPartition): string {
  return `partition ${p.number} of ${p.disk.path} (${formatSize(p.size)})`;
}

async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const bytes = new Uint8Array(length);
    const { bytesRead } = await handle.read(bytes, 0, length, offset);
    if (bytesRead !== length) {
      throw new AppError('IO_ERROR', `${path}: ${bytesRead} bytes read at ${offset}, ${length} asked`, {
        hint: 'the disk is shorter than its partition table says',
      });
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * The partitions of `disk`, as winsmith's partition table code reads them (readTables): every GPT
 * entry, or the MBR's four primary entries (logical ones are not looked at; an extended partition
 * starts with a table, not a volume, and is seen as neither NTFS nor BitLocker).
 */
export async function readPartitions(disk: DiskInfo): Promise<DiskPartition[]> {
  if (disk.size < 2 * TABLE_BYTES) return [];
  const head = await readAt(disk.path, 0, TABLE_BYTES);
  const tail = await readAt(disk.path, disk.size - TABLE_BYTES, TABLE_BYTES);
  let table;
  try {
    table = readTables(head, tail, disk.size);
  } catch (e) {
    if (e instanceof FormatError) return [];
    throw e;
  }
  return table.partitions.map((p) => ({
    disk,
    number: p.number,
    offset: p.firstLba * SECTOR,
    size: p.sectorCount * SECTOR,
  }));
}

/** The partition's bytes, read by offset on its disk (a file or a block device alike). */
function partitionSource(p: DiskPartition): ByteSource {
  return {
    size: p.size,
    read: (offset, length) => readAt(p.disk.path, p.offset + offset, length),
  };
}

/** The volume of `p` as a path: its device on a real disk, a read-only loop device in a disk file. */
export async function openVolumePath(p: DiskPartition): Promise<VolumePath> {
  const info = await stat(p.disk.path);
  if (info.isBlockDevice())
    return { path: partitionDevice(p.disk.path, p.number), close: () => Promise.resolve() };
  const loop = await attachLoopReadOnly(p.disk.path, p.offset, p.size);
  return { path: loop.path, close: () => loop.detach() };
}

async function withVolume<T>(p: DiskPartition, use: (path: string) => Promise<T>): Promise<T> {
  const volume = await openVolumePath(p);
  try {
    return await use(volume.path);
  } finally {
    await volume.close();
  }
}

async function holdsWindows(path: string): Promise<boolean> {
  const names = await ntfsListDirectory(path, '/Windows/System32/config');
  return names?.some((n) => n.toUpperCase() === 'SYSTEM') === true;
}

/** Every NTFS or BitLocker partition of `disks`, with what could be seen of it. */
export async function inspectVolumes(disks: readonly DiskInfo[]): Promise<InspectedVolume[]> {
  const out: InspectedVolume[] = [];
  for (const disk of disks) {
    for (const partition of await readPartitions(disk)) {
      let state: NtfsVolumeState;
      try {
        state = await readNtfsVolumeState(partitionSource(partition));
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        continue;
      }
      if (state.kind === 'other') continue;
      const windows =
        state.kind === 'ntfs' && state.dirty === false ? await withVolume(partition, holdsWindows) : null;
      out.push({ partition, state, windows });
    }
  }
  return out;
}

function refusal(v: InspectedVolume): string | null {
  if (v.state.kind === 'bitlocker') {
    return `${describePartition(v.partition)} is BitLocker-encrypted ("-FVE-FS-" in its boot sector)`;
  }
  if (v.state.dirty === true) {
    return `${describePartition(v.partition)} is marked dirty: Windows did not shut down cleanly, or a disk check is scheduled`;
  }
  return null;
}

const REFUSAL_HINT =
  'boot the machine into Windows and shut it down cleanly (shutdown /s /t 0, with BitLocker suspended or turned off: manage-bde -off C:), then capture again; winsmith does not change a disk it captures';

/** The partition to capture: `number` when given, else the largest clean NTFS one holding Windows. */
export function choosePartition(volumes: readonly InspectedVolume[], number: number | null): InspectedVolume {
  if (number !== null) {
    const named = volumes.filter((v) => v.partition.number === number);
    const chosen = named.length > 1 ? named.filter((v) => v.windows !== false) : named;
    if (chosen.length !== 1) {
      throw new AppError(
        'NOT_FOUND',
        chosen.length === 0
          ? `no NTFS partition ${number} on this machine's disks`
          : `partition ${number} is on several disks: ${chosen.map((v) => v.partition.disk.path).join(', ')}`,
        { hint: 'see the inventory in the log for the partitions there are' },
      );
    }
    const [volume] = chosen as [InspectedVolume];
    const refused = refusal(volume);
    if (refused !== null) throw new AppError('CONFLICT', `refused: ${refused}`, { hint: REFUSAL_HINT });
    if (volume.windows !== true) {
      throw new AppError(
        'NOT_FOUND',
        `${describePartition(volume.partition)} holds no Windows\\System32\\config\\SYSTEM`,
        {
          hint: 'name the partition Windows is installed on, or leave --partition out',
        },
      );
    }
    return volume;
  }
  const windows = volumes
    .filter((v) => v.windows === true)
    .sort((a, b) => b.partition.size - a.partition.size);
  const [largest] = windows;
  if (largest === undefined) {
    const reasons = volumes.map(refusal).filter((r) => r !== null);
    throw new AppError(
      reasons.length > 0 ? 'CONFLICT' : 'NOT_FOUND',
      reasons.length > 0
        ? `refused: no readable Windows partition: ${reasons.join('; ')}`
        : `no NTFS partition holding Windows\\System32\\config\\SYSTEM on this machine's disks`,
      {
        hint:
          reasons.length > 0 ? REFUSAL_HINT : 'capture a machine with Windows installed on an internal disk',
      },
    );
  }
  return largest;
}

/**
 * Opens the chosen volume for the capture, after the hibernation check; reads its Sysprep state.
 * The caller closes `volume`.
 */
export async function openCaptureSource(chosen: InspectedVolume): Promise<CaptureSource> {
  const volume = await openVolumePath(chosen.partition);
  try {
    const head = await ntfsReadHead(volume.path, '/hiberfil.sys', 4);
    if (head !== null && isHibernated(head)) {
      throw new AppError(
        'CONFLICT',
        `refused: ${describePartition(chosen.partition)} holds a hibernated Windows (\\hiberfil.sys starts with "hibr")`,
        { hint: `${REFUSAL_HINT}; with Fast Startup on, shut down with shutdown /s /t 0 (a full shutdown)` },
      );
    }
    let sysprep: SysprepState | null = null;
    let hiveProblem: string | null = null;
    try {
      sysprep = readSysprepState(
        Hive.parse(await ntfsReadFile(volume.path, '/Windows/System32/config/SYSTEM'), { replayLogs: false }),
      );
    } catch (e) {
      hiveProblem = errorText(e);
    }
    return { partition: chosen.partition, volume, sysprep, hiveProblem };
  } catch (e) {
    await volume.close();
    throw e;
  }
}
