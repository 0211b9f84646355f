// `winsmith image customize`: a recipe applied to one image of a WIM, writing only what changes.
// The output starts as a byte copy of the source (one image) or a wimlib export of the image (a
// WIM with several), then every step works on hives and files pulled out of the image, and one
// update adds, deletes and renames what the steps decided and sets the image properties. No step
// re-captures the image. The output also records the recipe (WINSMITH/RECIPE,
// WINSMITH/RECIPESHA256) and the source (WINSMITH/SOURCE: WIM GUID, index, and a SHA-256 over the
// source image's file list with each file's size and SHA-1, which names its content).

import { createHash } from 'node:crypto';
import { constants, copyFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { wimExport, WimSession, type WimFileEntry } from '../../engines/wimlib.ts';
import { withTempDir, writeOutputFile } from '../../io/output.ts';
import { loadWimInfo, parseWimRef, resolveImageIndex, type WimRef } from '../wim-ref.ts';
import { ImageWork, type CustomizeChange } from './image-work.ts';
import { loadRecipe, type Recipe } from './recipe.ts';
import { applySteps } from './run-steps.ts';
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
  /** The output image's index. */
  readonly index: number;
  /** How the output was started: a byte copy of a one-image WIM, an export of the image, or none (the source changed in place). */
  readonly start: 'copy' | 'export' | 'in-place';
  readonly changes: readonly CustomizeChange[];
  readonly warnings: readonly string[];
}

/** SHA-256 over "path size sha1" lines of the image's files in path order: names its content. */
export function filesDigest(files: readonly WimFileEntry[]): string {
  const lines = files.map((f) => `${f.path}\t${f.isDir ? 'dir' : String(f.size)}\t${f.sha1 ?? '-'}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

interface Prepared {
  readonly recipe: Recipe;
  readonly ref: WimRef;
  readonly index: number;
  readonly guid: string;
  readonly edition: WimEdition;
  readonly progress: ProgressListener;
}

/**
 * Runs the steps on image `wimIndex` of `wim` (the source's image, as a copy, an export or itself),
 * through one session: its listing, the files the steps read, then everything written at once.
 */
async function runRecipe(
  p: Prepared,
  wim: string,
  wimIndex: number,
  output: string,
  start: CustomizeResult['start'],
): Promise<CustomizeResult> {
  const session = WimSession.open(wim, wimIndex, { onProgress: p.progress });
  let result: CustomizeResult;
  try {
    result = await runSteps(p, session, wimIndex, output, start);
  } catch (e) {
    // The step's error is the one to report; the session ends without writing.
    await session.close().catch(() => undefined);
    throw e;
  }
  await session.close();
  return result;
}

async function runSteps(
  p: Prepared,
  session: WimSession,
  wimIndex: number,
  output: string,
  start: CustomizeResult['start'],
): Promise<CustomizeResult> {
  const { recipe, progress } = p;
  const total = recipe.steps.length + 1;
  const files = await session.list();
  const filesSha256 = filesDigest(files);
  return withTempDir(async (dir) => {
    const work = new ImageWork({ session, dir, files });
    await applySteps(work, recipe.steps, p.edition, recipe.sha256.slice(0, 12), (i, step) => {
      progress({
        phase: `Step ${i + 1}/${recipe.steps.length}: ${step.kind}`,
        done: i,
        total,
        unit: 'items',
      });
    });
    Object.assign(work.properties, {
      'WINSMITH/RECIPESHA256': recipe.sha256,
      'WINSMITH/RECIPE': recipe.text,
      'WINSMITH/SOURCE': `${p.guid}:${p.index}`,
      'WINSMITH/SOURCEFILESSHA256': filesSha256,
    });
    progress({ phase: 'Writing the changes', done: recipe.steps.length, total, unit: 'items' });
    await work.commit();
    progress({ phase: 'Writing the changes', done: total, total, unit: 'items' });
    return {
      output,
      index: wimIndex,
      source: { path: p.ref.path, guid: p.guid, index: p.index, filesSha256 },
      recipe: { path: recipe.file, sha256: recipe.sha256 },
      start,
      changes: work.changes,
      warnings: work.warnings,
    };
  }, 'winsmith-customize');
}

/** A recipe file's path, or a recipe already read (a build recipe's customize: steps). */
export type RecipeSource = string | Recipe;

async function prepare(
  sourceRef: string,
  recipeSource: RecipeSource,
  options: CustomizeOptions,
): Promise<Prepared & { imageCount: number }> {
  const recipe = typeof recipeSource === 'string' ? await loadRecipe(recipeSource) : recipeSource;
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
  return {
    recipe,
    ref,
    index,
    guid: info.guid,
    edition,
    progress: options.onProgress ?? ignoreProgress,
    imageCount: info.images.length,
  };
}

/**
 * Applies the recipe at `recipePath` to image `sourceRef` (FILE.wim[:INDEX]), writing `out` whole or
 * not at all. The output starts as a copy of a one-image source, or an export of the image.
 */
export async function customizeImage(
  sourceRef: string,
  recipePath: string,
  out: string,
  options: CustomizeOptions = {},
): Promise<CustomizeResult> {
  const p = await prepare(sourceRef, recipePath, options);
  const start = p.imageCount === 1 ? 'copy' : 'export';
  return writeOutputFile(
    out,
    async (tmp) => {
      p.progress({ phase: 'Preparing the output', done: 0, total: p.recipe.steps.length + 1, unit: 'items' });
      // A clone where the file system can share blocks (btrfs, XFS), a byte copy elsewhere.
      if (start === 'copy') await copyFile(p.ref.path, tmp, constants.COPYFILE_FICLONE);
      else await wimExport(p.ref.path, p.index, tmp, { onProgress: p.progress });
      return runRecipe(p, tmp, 1, out, start);
    },
    { overwrite: options.overwrite === true },
  );
}

/**
 * Applies the recipe to the source WIM itself: the cost is that of the changes alone. Every step
 * runs before the WIM is touched, so a bad recipe leaves it as it was; wimlib then appends the new
 * data and rewrites the header last (its in-place overwrite), so an interrupted write leaves the old
 * image readable.
 */
export async function customizeImageInPlace(
  sourceRef: string,
  recipe: RecipeSource,
  options: CustomizeOptions = {},
): Promise<CustomizeResult> {
  const p = await prepare(sourceRef, recipe, options);
  return runRecipe(p, p.ref.path, p.index, p.ref.path, 'in-place');
}
