// The programs winsmith runs, and the Debian package that provides each: the one place that knows.
// scripts/system-packages.txt lists the same packages for set-up; a test keeps the two in step.

import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.ts';

export const PROGRAM_PACKAGES = {
  'wimlib-imagex': 'wimtools',
  '7zz': '7zip',
  mkntfs: 'ntfs-3g',
  ntfsls: 'ntfs-3g',
  ntfscat: 'ntfs-3g',
  ntfscp: 'ntfs-3g',
  ntfsfix: 'ntfs-3g',
  'lowntfs-3g': 'ntfs-3g',
  hivexregedit: 'libwin-hivex-perl',
  hivexsh: 'libhivex-bin',
  hivexget: 'libhivex-bin',
  genisoimage: 'genisoimage',
  xorriso: 'xorriso',
  swtpm: 'swtpm',
  mkudffs: 'udftools',
  sgdisk: 'gdisk',
  sfdisk: 'fdisk',
  'mkfs.fat': 'dosfstools',
  'fsck.fat': 'dosfstools',
  mcopy: 'mtools',
  mmd: 'mtools',
  mdir: 'mtools',
  'qemu-img': 'qemu-utils',
  'grub-mkimage': 'grub-pc-bin',
  'qemu-system-x86_64': 'qemu-system-x86',
  ip: 'iproute2',
  dnsmasq: 'dnsmasq-base',
  fallocate: 'util-linux',
  taskset: 'util-linux',
  nginx: 'nginx-light',
  atftp: 'atftp',
  atftpd: 'atftpd',
  udhcpc: 'udhcpc',
  curl: 'curl',
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  nbdfuse: 'libnbd-bin',
  nbdinfo: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  fusermount3: 'fuse3',
  blockdev: 'util-linux',
  losetup: 'util-linux',
  setpriv: 'util-linux',
  sync: 'coreutils',
  'udp-sender': 'udpcast',
  'udp-receiver': 'udpcast',
  useradd: 'passwd',
} as const;

/**
 * Programs winsmith builds itself, at set-up (scripts/setup.sh), from native/ into build/, with the
 * Debian packages their build needs.
 */
export const BUILT_PROGRAMS = {
  'winsmith-wim': { source: 'native/wim.c', buildPackages: ['gcc', 'libc6-dev', 'libwim-dev'] },
} as const;

export type Program = keyof typeof PROGRAM_PACKAGES | keyof typeof BUILT_PROGRAMS;

/** A file set-up builds: in build/ at the top of the project (from src/engines or dist/engines alike). */
export function builtFile(name: string): string {
  return fileURLToPath(new URL(`../../build/${name}`, import.meta.url));
}

/** The error for a program of native/ that set-up has not built. */
export function notBuilt(
  name: string,
  built: { readonly source: string; readonly buildPackages: readonly string[] },
  cause: unknown,
): AppError {
  return new AppError('MISSING_PROGRAM', `${name} is not built (expected ${builtFile(name)})`, {
    hint: `run scripts/setup.sh, which compiles ${built.source} (Debian packages ${built.buildPackages.join(', ')})`,
    cause,
  });
}
