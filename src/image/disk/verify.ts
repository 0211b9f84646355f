// `winsmith disk verify`: reads a disk image (raw, or any format qemu-img reads) and says whether it
// would boot Windows: partition table, system partition and its boot files, the BCD store and where
// its devices point, and the key paths of the Windows partition. Partitions are read through
// qemu's raw driver with offset and size (no nbd, no mount), each into a sparse scratch file.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorText, isAppError, type AppError } from '../../core/errors.ts';
import { fatCheck, fatListAll, fatReadFile } from '../../engines/fat.ts';
import { ntfsCheck, ntfsListDirectory, ntfsReadFile } from '../../engines/ntfs.ts';
import { BcdStore, WELL_KNOWN, type BcdDevice } from '../../formats/bcd/index.ts';
import { normalizeGuid } from '../../formats/guid.ts';
import { withTempDir } from '../../io/output.ts';
import { bcdObjectJson, type BcdObjectJson } from '../bcd.ts';
import { SECTOR_SIZE, type Firmware } from './layout.ts';
import {
  extractPartition,
  openDiskImage,
  readDiskTable,
  type TableView,
  type VerifiedPartition,
} from './partitions.ts';

export interface DiskVerification {
  readonly path: string;
  readonly format: string;
  readonly size: number;
  readonly firmware: Firmware | null;
  readonly diskId: string | null;
  readonly partitions: readonly VerifiedPartition[];
  readonly systemPartition: number | null;
  readonly windowsPartition: number | null;
  readonly bootFiles: readonly string[];
  readonly bcd: { readonly objects: readonly BcdObjectJson[]; readonly loader: string | null } | null;
  readonly windowsPaths: Readonly<Record<string, boolean>>;
  readonly problems: readonly string[];
  readonly bootable: boolean;
}

function pointsAt(device: BcdDevice | undefined, view: TableView, partition: VerifiedPartition): boolean {
  if (device?.kind !== 'partition') return false;
  if (device.style === 'gpt') {
    return (
      view.firmware === 'uefi' &&
      normalizeGuid(device.diskGuid) === view.diskId &&
      normalizeGuid(device.partitionGuid) === partition.uniqueGuid
    );
  }
  return (
    view.firmware === 'bios' &&
    device.diskSignature.toLowerCase() === view.diskId &&
    device.partitionOffset === partition.firstLba * SECTOR_SIZE
  );
}

function deviceOf(store: BcdStore, id: string, type: number): BcdDevice | undefined {
  const value = store.getElement(id, type);
  return value?.format === 'device' ? value.value : undefined;
}

const WINDOWS_KEY_PATHS: Readonly<Record<Firmware, readonly string[]>> = {
  uefi: [
    '/Windows/System32/winload.efi',
    '/Windows/System32/config/SYSTEM',
    '/Windows/System32/config/SOFTWARE',
  ],
  bios: [
    '/Windows/System32/winload.exe',
    '/Windows/System32/config/SYSTEM',
    '/Windows/System32/config/SOFTWARE',
  ],
};

async function checkPaths(volume: string, paths: readonly string[]): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {};
  const listings = new Map<string, Set<string> | null>();
  for (const path of paths) {
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!listings.has(dir)) {
      const names = await ntfsListDirectory(volume, dir);
      listings.set(dir, names === null ? null : new Set(names.map((n) => n.toLowerCase())));
    }
    const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
    result[path] = listings.get(dir)?.has(base) ?? false;
  }
  return result;
}

/** Whether `e` says the file is no disk image this can read (not that reading failed). */
function isNotADisk(e: unknown): e is AppError {
  return isAppError(e) && (e.code === 'FORMAT_INVALID' || e.code === 'FORMAT_UNSUPPORTED');
}

/** The answer for a file that is no disk: not bootable, and why. */
async function notADisk(path: string, format: string, e: AppError): Promise<DiskVerification> {
  return {
    path,
    format,
    size: (await stat(path)).size,
    firmware: null,
    diskId: null,
    partitions: [],
    systemPartition: null,
    windowsPartition: null,
    bootFiles: [],
    bcd: null,
    windowsPaths: {},
    problems: [`it is not a disk image with a partition table: ${e.message}`],
    bootable: false,
  };
}

/**
 * Reads the disk and reports what would keep it from booting. Never writes to it. A file that is no
 * disk image (a WIM, a text file, zeros) is answered as not bootable, saying why.
 */
export async function verifyDisk(path: string): Promise<DiskVerification> {
  let opened: Awaited<ReturnType<typeof openDiskImage>>;
  try {
    opened = await openDiskImage(path);
  } catch (e) {
    if (isNotADisk(e)) return notADisk(path, 'unknown', e);
    throw e;
  }
  const disk = { path, ...opened };
  const { format, size } = disk;
  return withTempDir(async (scratch) => {
    let view: TableView;
    try {
      view = await readDiskTable(disk, scratch);
    } catch (e) {
      if (isNotADisk(e)) return notADisk(path, format, e);
      throw e;
    }
    const problems = [...view.problems];
    const extract = (p: VerifiedPartition, name: string): Promise<string> =>
      extractPartition(disk, p, join(scratch, name));

    let bootFiles: string[] = [];
    let bcdBytes: Uint8Array | undefined;
    const system = view.system;
    if (system !== undefined) {
      const volume = await extract(system, 'system.img');
      if (view.firmware === 'uefi') {
        try {
          await fatCheck(volume);
        } catch (e) {
          problems.push(`the EFI system partition fails fsck.fat: ${errorText(e)}`);
        }
        const fat = { image: volume, offset: 0 };
        bootFiles = await fatListAll(fat).catch(() => []);
        const have = new Set(bootFiles.map((f) => f.toLowerCase()));
        for (const needed of [
          '/EFI/Boot/bootx64.efi',
          '/EFI/Microsoft/Boot/bootmgfw.efi',
          '/EFI/Microsoft/Boot/BCD',
        ]) {
          if (!have.has(needed.toLowerCase())) problems.push(`the EFI system partition has no ${needed}`);
        }
        if (have.has('/efi/microsoft/boot/bcd')) bcdBytes = await fatReadFile(fat, '/EFI/Microsoft/Boot/BCD');
      } else {
        const root = (await ntfsListDirectory(volume, '/')) ?? [];
        const boot = (await ntfsListDirectory(volume, '/Boot')) ?? [];
        bootFiles = [...root.map((n) => `/${n}`), ...boot.map((n) => `/Boot/${n}`)];
        const have = new Set(bootFiles.map((f) => f.toLowerCase()));
        for (const needed of ['/bootmgr', '/Boot/BCD']) {
          if (!have.has(needed.toLowerCase())) problems.push(`the active partition has no ${needed}`);
        }
        if (have.has('/boot/bcd')) bcdBytes = await ntfsReadFile(volume, '/Boot/BCD');
      }
    } else {
      problems.push('there is no system partition to boot from');
    }

    let bcd: DiskVerification['bcd'] = null;
    let windows: VerifiedPartition | undefined;
    if (bcdBytes !== undefined) {
      try {
        const store = BcdStore.parse(bcdBytes);
        const defaultValue = store.getElement(WELL_KNOWN.bootmgr, 0x23000003);
        const loader = defaultValue?.format === 'object' ? defaultValue.value : null;
        bcd = { objects: store.objects().map(bcdObjectJson), loader };
        if (
          system !== undefined &&
          !pointsAt(deviceOf(store, WELL_KNOWN.bootmgr, 0x11000001), view, system)
        ) {
          problems.push("the BCD's {bootmgr} device is not this disk's system partition");
        }
        if (loader === null) {
          problems.push('the BCD names no default loader ({bootmgr} element 23000003)');
        } else {
          const device = deviceOf(store, loader, 0x11000001);
          const osDevice = deviceOf(store, loader, 0x21000001);
          windows = view.candidates.find((p) => pointsAt(osDevice, view, p));
          if (windows === undefined)
            problems.push("the BCD loader's osdevice is not a partition of this disk");
          else if (!pointsAt(device, view, windows)) {
            problems.push("the BCD loader's device and osdevice differ");
          }
        }
      } catch (e) {
        problems.push(`the BCD store cannot be read: ${errorText(e)}`);
      }
    }

    let windowsPaths: Record<string, boolean> = {};
    if (windows !== undefined) {
      const volume = await extract(windows, 'windows.img');
      try {
        await ntfsCheck(volume);
      } catch (e) {
        problems.push(`the Windows partition fails ntfsfix -n: ${errorText(e)}`);
      }
      windowsPaths = await checkPaths(volume, WINDOWS_KEY_PATHS[view.firmware]);
      for (const [p, present] of Object.entries(windowsPaths)) {
        if (!present) problems.push(`the Windows partition has no ${p}`);
      }
    }
    return {
      path,
      format,
      size,
      firmware: view.firmware,
      diskId: view.diskId,
      partitions: view.partitions,
      systemPartition: system?.number ?? null,
      windowsPartition: windows?.number ?? null,
      bootFiles,
      bcd,
      windowsPaths,
      problems,
      bootable: problems.length === 0,
    };
  });
}
