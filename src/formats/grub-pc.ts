// Placement of GRUB's BIOS boot images on an MBR disk, as grub-bios-setup does it (GRUB 2.06,
// grub-core/boot/i386/pc/boot.S and diskboot.S; util/setup.c), for disk files grub-bios-setup
// refuses:
//   MBR (boot.img):   0x000–0x1B7 boot code from boot.img; 0x1B8 disk signature and 0x1BE partition
//                     table kept from the disk; 0x5C u64 kernel_sector = LBA of core.img;
//                     0x64 boot_drive = 0xFF (use the drive the BIOS booted from);
//                     0x66–0x67 = 0x90 0x90 (NOPs over the floppy probe jump, as setup.c does for disks).
//   core.img (diskboot.img first): its first sector ends in a blocklist at 0x1F4: u64 start LBA,
//                     u16 sector count, u16 load segment — the sectors after the first one.

import { FormatError } from '../core/errors.ts';

const BOOT_CODE_END = 0x1b8;
const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DRIVE_CHECK = 0x66;
const BLOCKLIST = 0x1f4;
const SECTOR = 512;

export interface GrubPcPlacement {
  /** The new MBR (512 bytes). */
  readonly mbr: Uint8Array;
  /** core.img with its blocklist set, padded to whole sectors; write it at `coreLba`. */
  readonly core: Uint8Array;
}

/**
 * Places boot.img into `mbr` (keeping its disk signature and partition table) and points it at
 * core.img at `coreLba`, which must end before `firstPartitionLba`.
 */
export function placeGrubPc(
  mbr: Uint8Array,
  bootImage: Uint8Array,
  coreImage: Uint8Array,
  coreLba: number,
  firstPartitionLba: number,
): GrubPcPlacement {
  if (mbr.byteLength !== SECTOR || bootImage.byteLength !== SECTOR) {
    throw new FormatError(
      `the MBR and boot.img must be 512 bytes, found ${mbr.byteLength} and ${bootImage.byteLength}`,
    );
  }
  const sectors = Math.ceil(coreImage.byteLength / SECTOR);
  if (sectors < 2)
    throw new FormatError(`core.img of ${coreImage.byteLength} bytes is too small to be GRUB's`);
  if (coreLba < 1 || coreLba + sectors > firstPartitionLba) {
    throw new FormatError(
      `core.img needs ${sectors} sectors from LBA ${coreLba}; the gap before the first partition ends at LBA ${firstPartitionLba - 1}`,
      { code: 'LIMIT_EXCEEDED' },
    );
  }
  const out = Uint8Array.from(mbr);
  out.set(bootImage.subarray(0, BOOT_CODE_END), 0);
  const view = new DataView(out.buffer, 0, SECTOR);
  view.setBigUint64(KERNEL_SECTOR, BigInt(coreLba), true);
  out[BOOT_DRIVE] = 0xff;
  out[DRIVE_CHECK] = 0x90;
  out[DRIVE_CHECK + 1] = 0x90;
  const core = new Uint8Array(sectors * SECTOR);
  core.set(coreImage, 0);
  const coreView = new DataView(core.buffer, 0, core.byteLength);
  coreView.setBigUint64(BLOCKLIST, BigInt(coreLba + 1), true);
  coreView.setUint16(BLOCKLIST + 8, sectors - 1, true);
  return { mbr: out, core };
}
