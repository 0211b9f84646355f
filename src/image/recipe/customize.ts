// `winsmith image customize`: a recipe applied to one image of a WIM, writing only what changes.
// The output starts as a byte copy of the source (one image) or a wimlib export of the image (a
// WIM with several), then every step works on hives and files pulled out of the image, and one
// wimupdate adds, deletes and renames what the steps decided, with the image properties set after
// by wiminfo. No step re-captures the image. The output also records the recipe (WINSMITH/RECIPE,
// WINSMITH/RECIPESHA256) and the source (WINSMITH/SOURCE: WIM GUID, index, and a SHA-256 over the
// source image's file list with each file's size and SHA-1, which names its content).

import { createHash } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { wimExport, wimListFiles, type WimFileEntry } from '../../engines/wimlib.ts';
import { withTempDir, writeOutputFile } from '../../io/output.ts';
import { loadWimInfo, parseWimRef, resolveImageIndex } from '../wim-ref.ts';
import { applyDrivers } from './drivers.ts';
import { ImageWork, type CustomizeChange } from './image-work.ts';
import { loadRecipe, type RecipeStep } from './recipe.ts';
import {
  applyFeatures,
  applyFiles,
  applyFirstboot,
  applyMetadata,
  applyRegistry,
  writeFirstboot,
} from './steps.ts';
import { applyUnattend } from './unattend-step.ts';
import type { WimEdition } from '../wim-info.ts';

export interface CustomizeOptions {
  readonly overwrite?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface CustomizeResult {
  readonly output: string;
  readonly source: {
    readonly path: string;
    readonly guid: string;
    readonly index: number;
    readonly filesSha256: string;
  };
  readonly recipe: { readonly path: string; readonly sha256: string };
  /** How the output was started: a byte copy of a one-image WIM, or an export of the image. */
  readonly start: 'copy' | 'export';
  readonly changes: readonly CustomizeChange[];
  readonly warnings: readonly string[];
}

/** SHA-256 over "path size sha1" lines of the image's files in path order: names its content. */
export function filesDigest(files: readonly WimFileEntry[]): string {
  const lines = files.map((f) => `${f.path}\t${f.isDir ? 'dir' : String(f.size)}\t${f.sha1 ?? '-'}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

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

/** Applies the recipe at `recipePath` to image `sourceRef` (FILE.wim[:INDEX]), writing `out` whole or not at all. */
export async function customizeImage(
  sourceRef: string,
  recipePath: string,
  out: string,
  options: CustomizeOptions = {},
): Promise<CustomizeResult> {
  const progress = options.onProgress ?? ignoreProgress;
  const recipe = await loadRecipe(recipePath);
  const ref = parseWimRef(sourceRef);
  const info = await loadWimInfo(ref.path);
  const index = resolveImageIndex(info, ref);
  const edition = info.images[index - 1];
  if (edition === undefined) throw new AppError('INTERNAL', `image ${index} vanished from ${ref.path}`);
  if (info.parts > 1) {
    throw new AppError('FORMAT_UNSUPPORTED', `${ref.path} is part of a split WIM`, {
      hint: 'join it first with `winsmith image join`',
    });
  }
  const files = await wimListFiles(ref.path, index);
  const filesSha256 = filesDigest(files);
  const start = info.images.length === 1 ? 'copy' : 'export';
  const total = recipe.steps.length + 1;
  return writeOutputFile(
    out,
    async (tmp) => {
      progress({ phase: 'Preparing the output', done: 0, total, unit: 'items' });
      if (start === 'copy') await copyFile(ref.path, tmp);
      else await wimExport(ref.path, index, tmp, { onProgress: progress });
      return withTempDir(async (dir) => {
        const work = new ImageWork({ sourceWim: ref.path, sourceIndex: index, wim: tmp, dir, files });
        for (const [i, step] of recipe.steps.entries()) {
          progress({
            phase: `Step ${i + 1}/${recipe.steps.length}: ${step.kind}`,
            done: i,
            total,
            unit: 'items',
          });
          work.step = i + 1;
          work.kind = step.kind;
          await applyStep(work, step, edition);
        }
        // Changes made after the steps (SetupComplete.cmd and its scripts) are step 0.
        work.step = 0;
        work.kind = 'firstboot';
        await writeFirstboot(work, recipe.sha256.slice(0, 12));
        Object.assign(work.properties, {
          'WINSMITH/RECIPESHA256': recipe.sha256,
          'WINSMITH/RECIPE': recipe.text,
          'WINSMITH/SOURCE': `${info.guid}:${index}`,
          'WINSMITH/SOURCEFILESSHA256': filesSha256,
        });
        progress({ phase: 'Writing the changes', done: recipe.steps.length, total, unit: 'items' });
        await work.commit(progress);
        progress({ phase: 'Writing the changes', done: total, total, unit: 'items' });
        return {
          output: out,
          source: { path: ref.path, guid: info.guid, index, filesSha256 },
          recipe: { path: recipePath, sha256: recipe.sha256 },
          start,
          changes: work.changes,
          warnings: work.warnings,
        } satisfies CustomizeResult;
      }, 'winsmith-customize-');
    },
    { overwrite: options.overwrite === true },
  );
}
