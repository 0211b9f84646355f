// bcdboot's job, done offline: the boot environment copied out of the applied image's
// Windows\Boot to the system partition, with a BCD store for this disk.
//   UEFI: Boot\EFI\* → ESP \EFI\Microsoft\Boot\, Boot\Fonts and Boot\Resources beside them,
//         bootmgfw.efi also as the fallback \EFI\Boot\bootx64.efi, the store as \EFI\Microsoft\Boot\BCD.
//   BIOS: Boot\PCAT\bootmgr (+ bootnxt) → \, Boot\PCAT\* → \Boot\, Fonts and Resources in \Boot\,
//         the store as \Boot\BCD.
// (research/windows-formats.md §2.3; Microsoft, "BCDBoot command-line options".)

import { copyFile, cp, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, isAppError } from '../../core/errors.ts';
import { fatCopyIn, fatMakeDirectories, type FatVolume } from '../../engines/fat.ts';
import { wimExtract, wimListFiles, type WimFileEntry } from '../../engines/wimlib.ts';
import type { Firmware } from './layout.ts';

/** What each firmware needs from Windows\Boot: the files whose absence means the disk cannot boot. */
export const REQUIRED_BOOT_FILES: Readonly<Record<Firmware, readonly string[]>> = {
  uefi: ['/Windows/Boot/EFI/bootmgfw.efi'],
  bios: ['/Windows/Boot/PCAT/bootmgr'],
};

/** Lists the image's Windows\Boot, failing clearly when the files `firmware` needs are missing. */
export async function checkBootFiles(
  wim: string,
  index: number,
  firmware: Firmware,
): Promise<WimFileEntry[]> {
  let entries: WimFileEntry[];
  try {
    entries = await wimListFiles(wim, index, { path: '/Windows/Boot' });
  } catch (cause) {
    if (isAppError(cause) && cause.code === 'MISSING_PROGRAM') throw cause;
    throw new AppError(
      'NOT_FOUND',
      `image ${index} of ${wim} has no Windows\\Boot directory: it cannot be made bootable`,
      {
        hint: 'use an image of an installed Windows (install.wim), not WinPE or a data image',
        cause,
      },
    );
  }
  const have = new Set(entries.map((e) => e.path.toLowerCase()));
  for (const required of REQUIRED_BOOT_FILES[firmware]) {
    if (!have.has(required.toLowerCase())) {
      throw new AppError(
        'NOT_FOUND',
        `image ${index} of ${wim} has no ${required.replaceAll('/', '\\')}, which ${firmware} boot needs`,
        {
          hint:
            firmware === 'uefi'
              ? 'try --firmware bios, or use an image with UEFI boot files'
              : 'try --firmware uefi',
        },
      );
    }
  }
  return entries;
}

/** Extracts the image's Windows\Boot into `scratch`; returns the local Boot directory. */
export async function extractBootFiles(wim: string, index: number, scratch: string): Promise<string> {
  await wimExtract(wim, index, ['/Windows/Boot'], scratch, { noAcls: true });
  return join(scratch, 'Boot');
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** UEFI: fills the ESP (already formatted) with the boot files and the BCD store. */
export async function installUefiBootFiles(
  esp: FatVolume,
  bootDir: string,
  bcd: Uint8Array,
  scratch: string,
): Promise<void> {
  await fatMakeDirectories(esp, ['/EFI', '/EFI/Microsoft', '/EFI/Microsoft/Boot', '/EFI/Boot']);
  await fatCopyIn(esp, await entries(join(bootDir, 'EFI')), '/EFI/Microsoft/Boot/');
  for (const extra of ['Fonts', 'Resources']) {
    const found = await entries(join(bootDir, extra));
    if (found.length > 0) {
      await fatMakeDirectories(esp, [`/EFI/Microsoft/Boot/${extra}`]);
      await fatCopyIn(esp, found, `/EFI/Microsoft/Boot/${extra}/`);
    }
  }
  const fallback = join(scratch, 'bootx64.efi');
  await copyFile(join(bootDir, 'EFI', 'bootmgfw.efi'), fallback);
  await fatCopyIn(esp, [fallback], '/EFI/Boot/');
  const store = join(scratch, 'BCD');
  await writeFile(store, bcd);
  await fatCopyIn(esp, [store], '/EFI/Microsoft/Boot/');
}

/** BIOS: lays out the System Reserved partition's tree in `treeDir` (bootmgr, \Boot\…, \Boot\BCD). */
export async function buildBiosBootTree(bootDir: string, bcd: Uint8Array, treeDir: string): Promise<void> {
  const pcat = join(bootDir, 'PCAT');
  const boot = join(treeDir, 'Boot');
  await mkdir(boot, { recursive: true });
  await cp(pcat, boot, { recursive: true });
  for (const name of ['bootmgr', 'bootnxt']) {
    try {
      await rename(join(boot, name), join(treeDir, name));
    } catch (cause) {
      if (name === 'bootmgr')
        throw new AppError('NOT_FOUND', `the image has no Windows\\Boot\\PCAT\\bootmgr`, { cause });
    }
  }
  for (const extra of ['Fonts', 'Resources']) {
    if ((await entries(join(bootDir, extra))).length > 0) {
      await cp(join(bootDir, extra), join(boot, extra), { recursive: true });
    }
  }
  await writeFile(join(boot, 'BCD'), bcd);
}
