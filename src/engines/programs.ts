// The programs winsmith runs, and the Debian package that provides each: the one place that knows.
// scripts/system-packages.txt lists the same packages for set-up; a test keeps the two in step.

export const PROGRAM_PACKAGES = {
  'wimlib-imagex': 'wimtools',
  '7zz': '7zip',
  mkntfs: 'ntfs-3g',
  ntfsls: 'ntfs-3g',
  ntfscat: 'ntfs-3g',
  ntfscp: 'ntfs-3g',
  ntfsfix: 'ntfs-3g',
  hivexregedit: 'libwin-hivex-perl',
  hivexsh: 'libhivex-bin',
  hivexget: 'libhivex-bin',
  genisoimage: 'genisoimage',
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
  borg: 'borgbackup',
  nginx: 'nginx-light',
  atftp: 'atftp',
  atftpd: 'atftpd',
  udhcpc: 'udhcpc',
  curl: 'curl',
} as const;

/**
 * Programs winsmith builds itself, at set-up (scripts/setup.sh), from native/ into build/, with the
 * Debian packages their build needs.
 */
export const BUILT_PROGRAMS = {
  'winsmith-wim': { source: 'native/wim.c', buildPackages: ['gcc', 'libc6-dev', 'libwim-dev'] },
} as const;

export type Program = keyof typeof PROGRAM_PACKAGES | keyof typeof BUILT_PROGRAMS;
