// Boot files: the iPXE builds clients load over TFTP or HTTP, found in Debian's `ipxe` package
// (/usr/lib/ipxe) or in a directory the configuration names (e.g. signed iPXE for Secure Boot),
// and any other file (kernels, wimboot, boot.wim) under the boot root. Names are single path
// components: nothing outside the directories named here is ever opened.

import { copyFile, link, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AppError } from '../core/errors.ts';
import { GRUB_DIR, GRUB_MAIN_CONFIG } from './grub-config.ts';

/** The iPXE builds winsmith hands out: BIOS (UNDI), UEFI (own drivers), UEFI (firmware SNP driver). */
export const IPXE_BOOT_FILES = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'] as const;
export type IpxeBootFile = (typeof IPXE_BOOT_FILES)[number];

/** Where Debian's `ipxe` package installs them. */
export const DEBIAN_IPXE_DIR = '/usr/lib/ipxe';
export const IPXE_PACKAGE = 'ipxe';

export type LocatedBootFiles = Readonly<Record<IpxeBootFile, string>>;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the three iPXE builds, in `ipxeDir` when the configuration gives one, else in Debian's
 * directory. A missing file is an error naming what to install or what to fix.
 */
export async function locateBootFiles(ipxeDir?: string): Promise<LocatedBootFiles> {
  const dir = ipxeDir ?? DEBIAN_IPXE_DIR;
  const found: Partial<Record<IpxeBootFile, string>> = {};
  const missing: string[] = [];
  for (const name of IPXE_BOOT_FILES) {
    const path = join(dir, name);
    if (await isFile(path)) found[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const what = `iPXE boot file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in ${dir}`;
    if (ipxeDir !== undefined) {
      throw new AppError('FILE_NOT_FOUND', what, {
        hint: `put ${IPXE_BOOT_FILES.join(', ')} in ${dir}, or drop the iPXE directory setting to use Debian's ${IPXE_PACKAGE} package`,
      });
    }
    throw new AppError('MISSING_PROGRAM', what, {
      hint: `install the Debian package ${IPXE_PACKAGE}: apt-get install -y ${IPXE_PACKAGE}`,
    });
  }
  return found as LocatedBootFiles;
}

/** Names a boot file may have: one path component of plain characters, not `.` or `..`. */
export function isBootFileName(name: string): boolean {
  return /^[A-Za-z0-9._+-]{1,255}$/.test(name) && name !== '.' && name !== '..';
}

function isIpxeBootFile(name: string): name is IpxeBootFile {
  return (IPXE_BOOT_FILES as readonly string[]).includes(name);
}

export interface BootFileSources {
  readonly located: LocatedBootFiles;
  /** Directory of other boot files (kernels, wimboot, boot.wim); files here win over the iPXE builds. */
  readonly bootRoot?: string | undefined;
}

/**
 * The real path (no symbolic link left) of boot file `name`, or null when there is none. A file
 * under the boot root wins; a symbolic link there must stay inside the boot root. Whoever opens it
 * must still check it is a regular file on the opened descriptor (openRegularFile).
 */
export async function resolveBootFile(name: string, sources: BootFileSources): Promise<string | null> {
  if (!isBootFileName(name)) return null;
  if (sources.bootRoot !== undefined) {
    const candidate = join(sources.bootRoot, name);
    if (await isFile(candidate)) {
      const [root, real] = await Promise.all([realpath(sources.bootRoot), realpath(candidate)]);
      if (real.startsWith(root + sep)) return real;
      return null;
    }
  }
  return isIpxeBootFile(name) ? realpath(sources.located[name]).catch(() => null) : null;
}

/**
 * Puts the located iPXE builds into the boot root (the directory TFTP serves), each copied to a
 * temporary name and renamed over the old copy, so a client never reads a half-written file.
 * Other files in the boot root are left as they are.
 */
export async function installBootFiles(bootRoot: string, located: LocatedBootFiles): Promise<void> {
  for (const name of IPXE_BOOT_FILES) await publishBootFile(located[name], bootRoot, name);
}

/**
 * Puts `source` into the boot root as `name`: linked when both are on one filesystem, copied
 * otherwise, under a temporary name renamed over the old file, so a client never reads a half.
 * A symbolic link is followed first (Debian's /usr/lib/ipxe/ipxe.efi is one, to /boot/ipxe.efi):
 * a hard link to the link itself would lead out of the boot root, which TFTP refuses.
 */
export async function publishBootFile(source: string, bootRoot: string, name: string): Promise<void> {
  await mkdir(bootRoot, { recursive: true });
  const temp = join(bootRoot, `.${name}.${process.pid}.tmp`);
  await rm(temp, { force: true });
  try {
    await link(await realpath(source), temp);
  } catch {
    await copyFile(source, temp);
  }
  await rename(temp, join(bootRoot, name));
}

/**
 * Puts GRUB's fixed grub/grub.cfg into the boot root (grub-config.ts), written under a temporary
 * name and renamed over the old one.
 */
export async function installGrubConfig(bootRoot: string): Promise<void> {
  const dir = join(bootRoot, GRUB_DIR);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.grub.cfg.${process.pid}.tmp`);
  await writeFile(temp, GRUB_MAIN_CONFIG);
  await rename(temp, join(dir, 'grub.cfg'));
}
