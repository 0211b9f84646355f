// GRUB for BIOS (Debian's grub-pc-bin): builds a core image with an embedded configuration.
// grub-bios-setup refuses disk files, so the images are placed by the caller (see
// src/formats/grub-pc.ts); this engine only runs grub-mkimage and finds boot.img.

import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import { runProgram } from './run.ts';

export const GRUB_I386_PC_DIR = '/usr/lib/grub/i386-pc';

/** grub-mkimage -O i386-pc with `config` embedded; returns core.img's bytes. */
export async function makeGrubCoreImage(
  output: string,
  embeddedConfig: string,
  prefix: string,
  modules: readonly string[],
): Promise<Uint8Array> {
  await runProgram('grub-mkimage', [
    '-O',
    'i386-pc',
    '-d',
    GRUB_I386_PC_DIR,
    '-o',
    output,
    '-c',
    embeddedConfig,
    '-p',
    prefix,
    ...modules,
  ]);
  return new Uint8Array(await readFile(output));
}

/** GRUB's 512-byte MBR boot code (boot.img). */
export async function readGrubBootImage(): Promise<Uint8Array> {
  const path = `${GRUB_I386_PC_DIR}/boot.img`;
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new AppError('MISSING_PROGRAM', `GRUB's BIOS boot image ${path} is missing`, {
      hint: 'install the Debian package grub-pc-bin: apt-get install -y grub-pc-bin',
      cause,
    });
  }
}
