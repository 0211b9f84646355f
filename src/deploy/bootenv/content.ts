// What the deploy environment is made of: the Debian packages it comes from, the files taken from
// each (paths as on a merged-/usr system: /bin, /sbin, /lib and /lib64 are links into /usr), and the
// kernel modules it loads. Libraries are not listed: the builder follows every program's needs.
// Changing the roots needs a new lock (winsmith bootenv lock); the rest needs only a new build.

/** The kernel: Debian's meta package, which depends on the current signed image package. */
export const KERNEL_PACKAGE = 'linux-image-amd64';

/** The package architecture of the environment. */
export const BOOTENV_ARCHITECTURE = 'amd64';

/** The Node version the agent is bundled for (the `node` npm package winsmith depends on). */
export const AGENT_TARGET = 'node24';

/** Files taken from each package, by package. A path ending in '/' takes the directory whole. */
export const BOOTENV_FILES: Readonly<Record<string, readonly string[]>> = {
  'busybox-static': ['/usr/bin/busybox'],
  dosfstools: ['/usr/sbin/mkfs.fat', '/usr/sbin/mkfs.vfat', '/usr/sbin/fsck.fat', '/usr/sbin/fatlabel'],
  fdisk: ['/usr/sbin/sfdisk', '/usr/sbin/fdisk'],
  fuse3: ['/usr/bin/fusermount3'],
  gdisk: ['/usr/sbin/sgdisk', '/usr/sbin/gdisk'],
  'grub-common': ['/usr/bin/grub-mkimage'],
  'grub-pc-bin': ['/usr/lib/grub/i386-pc/'],
  // The C.UTF-8 locale /init runs everything in, and the code pages dosfstools and mtools convert
  // FAT names with (850 by default, 437).
  'libc-bin': ['/usr/lib/locale/C.utf8/'],
  libc6: [
    '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules',
    '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d/',
    '/usr/lib/x86_64-linux-gnu/gconv/IBM850.so',
    '/usr/lib/x86_64-linux-gnu/gconv/IBM437.so',
  ],
  'libnbd-bin': ['/usr/bin/nbdfuse', '/usr/bin/nbdinfo', '/usr/bin/nbdcopy'],
  mtools: [
    '/usr/bin/mtools',
    '/usr/bin/mattrib',
    '/usr/bin/mcopy',
    '/usr/bin/mdel',
    '/usr/bin/mdir',
    '/usr/bin/mformat',
    '/usr/bin/mlabel',
    '/usr/bin/mmd',
    '/usr/bin/mtype',
  ],
  nbdkit: [
    '/usr/bin/nbdkit',
    '/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-file-plugin.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-memory-plugin.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-null-plugin.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/filters/nbdkit-cache-filter.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/filters/nbdkit-readahead-filter.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/filters/nbdkit-retry-filter.so',
    '/usr/lib/x86_64-linux-gnu/nbdkit/filters/nbdkit-retry-request-filter.so',
  ],
  // lowntfs-3g: a profile's steps are applied to the mounted Windows volume (ignore_case).
  'ntfs-3g': [
    '/usr/bin/ntfs-3g',
    '/usr/bin/lowntfs-3g',
    '/usr/sbin/mkntfs',
    '/usr/sbin/mkfs.ntfs',
    '/usr/bin/ntfsfix',
    '/usr/sbin/ntfslabel',
    '/usr/sbin/ntfsresize',
    '/usr/bin/ntfsls',
    '/usr/bin/ntfscat',
    '/usr/sbin/ntfscp',
    '/usr/bin/ntfsinfo',
  ],
  // udp-receiver: the image of a multicast session, piped into wimapply.
  udpcast: ['/usr/bin/udp-receiver'],
  // setpriv: nbdfuse started with a parent-death signal, so that it unmounts when the agent ends.
  'util-linux': ['/usr/bin/setpriv'],
  wimtools: [
    '/usr/bin/wimlib-imagex',
    '/usr/bin/wimapply',
    '/usr/bin/wimcapture',
    '/usr/bin/wimappend',
    '/usr/bin/wiminfo',
    '/usr/bin/wimdir',
    '/usr/bin/wimextract',
    '/usr/bin/wimexport',
    '/usr/bin/wimupdate',
    '/usr/bin/wimverify',
  ],
};

/**
 * The signed loaders of network boot under Secure Boot, served beside the kernel (never put into
 * the initramfs), by the name each is served under: Debian's shim (signed by Microsoft's UEFI CA),
 * and Debian's network GRUB (signed by Debian), under the name shim loads beside itself.
 */
export const BOOTENV_LOADERS = {
  'shimx64.efi': { package: 'shim-signed', path: '/usr/lib/shim/shimx64.efi.signed' },
  'grubx64.efi': {
    package: 'grub-efi-amd64-signed',
    path: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed',
  },
} as const;
export type BootLoaderName = keyof typeof BOOTENV_LOADERS;
export const BOOT_LOADER_NAMES = Object.keys(BOOTENV_LOADERS) as BootLoaderName[];

/** The roots of the lock, sorted: the kernel and the packages files are taken from. */
export const BOOTENV_ROOTS: readonly string[] = [
  KERNEL_PACKAGE,
  ...Object.keys(BOOTENV_FILES),
  ...Object.values(BOOTENV_LOADERS).map((l) => l.package),
].sort();

/**
 * Kernel modules the environment loads at start, in this order (their dependencies come with
 * them). Drivers that need firmware from Debian's non-free-firmware (bnx2 always; r8169 and tg3
 * for some chips) are left out or work without it only where the chip allows.
 */
export const BOOTENV_MODULES = {
  /** Buses the drivers below sit on. */
  bus: ['virtio_pci', 'hv_vmbus'],
  network: [
    'e1000',
    'e1000e',
    'igb',
    'igc',
    'ixgbe',
    'i40e',
    'r8169',
    'tg3',
    'bnxt_en',
    'virtio_net',
    'vmxnet3',
    'hv_netvsc',
  ],
  storage: [
    'ahci',
    'ata_piix',
    'nvme',
    'virtio_blk',
    'virtio_scsi',
    'sd_mod',
    'sr_mod',
    'megaraid_sas',
    'mpt3sas',
    'hpsa',
    'smartpqi',
    'aacraid',
    'vmw_pvscsi',
    'hv_storvsc',
    'xhci_pci',
    'ehci_pci',
    'ohci_pci',
    'uhci_hcd',
    'usb_storage',
    'uas',
  ],
  /** FUSE and NBD for applying a WIM over HTTP (nbdkit + nbdfuse); efivarfs for UEFI variables. */
  other: ['fuse', 'nbd', 'efivarfs'],
} as const;

export const BOOTENV_MODULE_NAMES: readonly string[] = Object.values(BOOTENV_MODULES).flat();
