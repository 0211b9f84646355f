// A range of a file as a read-only block device (util-linux losetup): how a partition inside a
// disk image file is handed to programs that take a device or a file holding one volume (ntfs-3g's
// tools, wimlib's NTFS-3G mode). Needs root, as the deploy environment and its tests run.

import { runProgram } from './run.ts';

export interface LoopDevice {
  readonly path: string;
  detach(): Promise<void>;
}

/** `size` bytes of `file` from `offset`, read only, as a loop device. */
export async function attachLoopReadOnly(file: string, offset: number, size: number): Promise<LoopDevice> {
  const { stdout } = await runProgram('losetup', [
    '--read-only',
    '--find',
    '--show',
    '--offset',
    String(offset),
    '--sizelimit',
    String(size),
    file,
  ]);
  const path = stdout.toString('utf8').trim();
  return {
    path,
    async detach() {
      await runProgram('losetup', ['--detach', path]);
    },
  };
}
