// A list of steps applied to an ImageWork in order, the way `winsmith image customize` applies a
// recipe to a WIM image and the deploy agent applies a profile's steps to an applied volume: the
// image files the steps read are taken out in one go first, each change is recorded under its step
// number, and the first-boot scripts the steps gathered are written last (as step 0).

import type { WimEdition } from '../wim-info.ts';
import { applyDrivers } from './drivers.ts';
import { IMAGE_HIVES, type ImageHiveName } from './hive-paths.ts';
import { hiveFiles, type ImageWork } from './image-work.ts';
import type { RecipeStep } from './recipe.ts';
import {
  applyFeatures,
  applyFiles,
  applyFirstboot,
  applyMetadata,
  applyRegistry,
  SETUP_COMPLETE,
  writeFirstboot,
} from './steps.ts';
import { applyUnattend, PANTHER_UNATTEND } from './unattend-step.ts';

async function applyStep(work: ImageWork, step: RecipeStep, edition: WimEdition): Promise<void> {
  switch (step.kind) {
    case 'files':
      return applyFiles(work, step);
    case 'registry':
      return applyRegistry(work, step);
    case 'drivers':
      return applyDrivers(work, step, edition);
    case 'unattend':
      return applyUnattend(work, step, edition);
    case 'firstboot':
      applyFirstboot(work, step);
      return;
    case 'features':
      applyFeatures(work, step);
      return;
    case 'metadata':
      applyMetadata(work, step);
      return;
  }
}

/** The image files the steps will read, so that one extraction brings them all. */
function filesToRead(steps: readonly RecipeStep[]): string[] {
  const hives = new Set<ImageHiveName>();
  const paths: string[] = [];
  for (const step of steps) {
    if (step.kind === 'registry') {
      for (const s of [...step.set, ...step.delete]) hives.add(s.path.hive);
      if (step.import.length > 0) for (const h of IMAGE_HIVES) hives.add(h);
    } else if (step.kind === 'drivers') {
      hives.add('SYSTEM');
      hives.add('SOFTWARE');
    } else if (step.kind === 'unattend') {
      paths.push(PANTHER_UNATTEND);
    }
  }
  paths.push(SETUP_COMPLETE);
  return [...[...hives].flatMap(hiveFiles), ...paths];
}

/**
 * Applies `steps` to `work` in order (`onStep` is told before each), then writes the first-boot
 * scripts they gathered into `Windows\Setup\Scripts\winsmith-<firstbootId>`. Nothing is written to
 * the image before `work.commit()`.
 */
export async function applySteps(
  work: ImageWork,
  steps: readonly RecipeStep[],
  edition: WimEdition,
  firstbootId: string,
  onStep: (index: number, step: RecipeStep) => void = () => undefined,
): Promise<void> {
  await work.prefetch(filesToRead(steps));
  for (const [i, step] of steps.entries()) {
    onStep(i, step);
    work.step = i + 1;
    work.kind = step.kind;
    await applyStep(work, step, edition);
  }
  // Changes made after the steps (SetupComplete.cmd and its scripts) are step 0.
  work.step = 0;
  work.kind = 'firstboot';
  await writeFirstboot(work, firstbootId);
}
