// A profile's steps applied to the Windows volume the agent has just applied, with the recipes'
// step code (src/image/recipe/run-steps.ts): the volume mounted read-write (lowntfs-3g), the steps
// run on its tree through a DirectorySession, every change and warning logged, and the volume
// unmounted — also when a step fails — before the boot files are written.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mountNtfs } from '../engines/ntfs-mount.ts';
import { DirectorySession } from '../image/recipe/directory-session.ts';
import { describeChange, ImageWork } from '../image/recipe/image-work.ts';
import type { RecipeStep } from '../image/recipe/recipe.ts';
import { applySteps } from '../image/recipe/run-steps.ts';
import type { WimEdition } from '../image/wim-info.ts';

export interface VolumeSteps {
  /** The NTFS volume: a partition device, or a file holding it. */
  readonly volume: string;
  readonly steps: readonly RecipeStep[];
  /** The edition applied: its architecture and Windows version choose the drivers' INF sections. */
  readonly edition: WimEdition;
  /** The first-boot scripts go to Windows\Setup\Scripts\winsmith-<firstbootId>. */
  readonly firstbootId: string;
  /** A private scratch folder of the agent. */
  readonly scratch: string;
  readonly log: (line: string) => void;
}

/** Applies the steps to the volume; returns how many changes were made. */
export async function customizeVolume(options: VolumeSteps): Promise<number> {
  const mountPoint = join(options.scratch, 'windows-volume');
  await mkdir(mountPoint, { mode: 0o700 });
  const mounted = await mountNtfs(options.volume, mountPoint);
  try {
    const session = new DirectorySession(mountPoint);
    const work = new ImageWork({
      session,
      dir: join(options.scratch, 'customize'),
      files: await session.list(),
    });
    await applySteps(work, options.steps, options.edition, options.firstbootId);
    await work.commit();
    for (const change of work.changes) options.log(describeChange(change));
    for (const warning of work.warnings) options.log(`warning: ${warning}`);
    return work.changes.length;
  } finally {
    await mounted.unmount();
  }
}
