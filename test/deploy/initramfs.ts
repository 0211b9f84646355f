// Reading a built initramfs in tests: its members (winsmith's cpio reader over the zstd-decompressed
// archive), and the tree written out into a directory, without root (device nodes left out).

import { readFile, chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { bytesSource } from '../../src/core/byte-source.ts';
import { CPIO_TYPES, readCpioMembers, type CpioMember } from '../../src/formats/cpio.ts';

export interface Initramfs {
  readonly archive: Uint8Array;
  readonly members: readonly CpioMember[];
  readonly byName: ReadonlyMap<string, CpioMember>;
}

export async function readInitramfs(path: string): Promise<Initramfs> {
  const archive = new Uint8Array(zstdDecompressSync(await readFile(path)));
  const members = await readCpioMembers(bytesSource(archive));
  return { archive, members, byName: new Map(members.map((m) => [m.name, m])) };
}

export function memberData(initramfs: Initramfs, member: CpioMember): Uint8Array {
  return initramfs.archive.subarray(member.dataOffset, member.dataOffset + member.fileSize);
}

export function kindOf(member: CpioMember): number {
  return member.mode & CPIO_TYPES.S_IFMT;
}

/** Writes directories, files (with their modes) and links under `root`. */
export async function extractInitramfs(initramfs: Initramfs, root: string): Promise<void> {
  for (const m of initramfs.members) {
    const path = join(root, m.name);
    const kind = kindOf(m);
    if (kind === CPIO_TYPES.S_IFDIR) await mkdir(path, { recursive: true });
    else if (kind === CPIO_TYPES.S_IFREG) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, memberData(initramfs, m));
      await chmod(path, m.mode & 0o7777);
    } else if (kind === CPIO_TYPES.S_IFLNK) {
      await mkdir(dirname(path), { recursive: true });
      await symlink(new TextDecoder().decode(memberData(initramfs, m)), path);
    }
  }
}
