// An image that is a directory tree — a Windows volume the deploy agent applied and mounted — as
// ImageWork's session, so that the steps a recipe applies to a WIM image apply to it unchanged.
// Image paths ('/'-separated from the image root) are paths under the tree's root. The changes
// are made at commit, in the order given, as wimlib's update makes them in a WIM: an addition
// replaces the file there (written over in place: on NTFS the file keeps its security descriptor)
// and makes the folders it needs; a deletion takes the path and everything under it; a rename
// moves a file or folder whose new parent exists. A tree has no image properties.
//
// The listing walks the tree rather than reading the WIM the volume was applied from: the agent's
// wimlib-imagex names files without their kind (`wimdir` without --detailed), and --detailed prints
// some ten lines per file, tens of MB for a Windows image, after reading the image's metadata again
// through the network. A walk is one readdir per folder (each entry's kind comes with it, no stat
// per file) and shows the volume as it is.

import { copyFile, cp, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { WimUpdateCommand } from '../../engines/wimlib.ts';
import type { ImageEntry, ImageSession } from './image-work.ts';

export class DirectorySession implements ImageSession {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The host path of image path `path`; one that would leave the tree is refused. */
  #local(path: string): string {
    const local = resolve(this.root, `.${path.startsWith('/') ? '' : '/'}${path}`);
    if (local !== this.root && !local.startsWith(`${this.root}${sep}`)) {
      throw new AppError('INVALID_ARGUMENT', `image path ${JSON.stringify(path)} leads outside the image`, {
        hint: "write paths from the image root, without '..'",
      });
    }
    return local;
  }

  /** Every file and folder of the tree, by name in each folder, folders before what they hold. */
  async list(): Promise<ImageEntry[]> {
    const entries: ImageEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      const found = await readdir(dir, { withFileTypes: true });
      for (const e of found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const local = join(dir, e.name);
        const path = `/${relative(this.root, local).split(sep).join('/')}`;
        entries.push({ path, isDir: e.isDirectory() });
        if (e.isDirectory()) await walk(local);
      }
    };
    await walk(this.root);
    return entries;
  }

  async extract(paths: readonly string[], destDir: string): Promise<void> {
    for (const path of paths) {
      const local = this.#local(path);
      await cp(local, join(destDir, local.slice(local.lastIndexOf(sep) + 1)), { recursive: true });
    }
  }

  async commit(
    commands: readonly WimUpdateCommand[],
    properties: Readonly<Record<string, string>>,
  ): Promise<void> {
    const names = Object.keys(properties);
    if (names.length > 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `a volume has no image properties to set (${names.join(', ')})`,
        {
          hint: 'set image properties on a WIM, with winsmith image customize',
        },
      );
    }
    for (const command of commands) await this.#apply(command);
  }

  async #apply(command: WimUpdateCommand): Promise<void> {
    switch (command.op) {
      case 'add': {
        const dest = this.#local(command.dest);
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(command.source, dest);
        return;
      }
      case 'delete':
        await rm(this.#local(command.path), { recursive: true });
        return;
      case 'rename':
        await rename(this.#local(command.from), this.#local(command.to));
        return;
    }
  }
}
