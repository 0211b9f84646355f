// The deployment share: the folder of the server whose files profiles name in their steps (driver
// folders, files to add, .reg files, first-boot scripts), as MDT's deployment share. A profile
// names paths relative to it (src/deploy/profile-steps.ts); here they are checked against the share
// when the profile is applied, listed for the deploy agent, and opened for it. A path counts only
// where its real path (symbolic links followed) is inside the share's real path; a deployment's
// agent is given only the files its profile names, and the files inside the folders it names.

import type { Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join, relative, sep } from 'node:path';
import { AppError } from '../core/errors.ts';
import { stepPaths, type StepPath } from '../image/recipe/recipe.ts';
import { sha256OfFile } from '../io/file-sha256.ts';
import { openRegularFile } from '../io/regular-file.ts';
import type { ProfileStep } from './profile-steps.ts';

/**
 * What one deployment may take from the share, in bytes and in files: the agent keeps them in the
 * deploy environment's memory (its scratch directory is a tmpfs) until the steps are applied.
 */
export const MAX_SHARE_BYTES = 2 * 1024 * 1024 * 1024;
export const MAX_SHARE_FILES = 10_000;
/** Folders below a named folder that are listed, at most (virtio-win nests driver\os\arch). */
const MAX_SHARE_DEPTH = 12;

export interface ShareFile {
  /** Relative to the share, '/'-separated. */
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the file's bytes as listed: the agent checks what it fetched against it. */
  readonly sha256: string;
}

export interface OpenedShareFile {
  readonly size: number;
  /** Bytes `start` to `end` (inclusive); the file is closed when the stream ends or fails. */
  stream(start: number, end: number): Readable;
  close(): Promise<void>;
}

const SHARE_HINT =
  'paths in a profile, or in a build recipe the server runs, are relative to the deployment share (docs/deploy.md)';

/** The share's real path; an error when it does not exist. */
async function realShare(share: string, where: string): Promise<string> {
  try {
    return await realpath(share);
  } catch (cause) {
    throw new AppError('FILE_NOT_FOUND', `${where}: the deployment share ${share} does not exist`, {
      hint: "create it, or name another with share: in the server config (or 'winsmith server --share DIR')",
      cause,
    });
  }
}

/** The real path of `path` (relative to the share, whose real path is `root`), checked to be inside it. */
async function realInside(root: string, path: string, where: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(root, path));
  } catch (cause) {
    throw new AppError('FILE_NOT_FOUND', `${where}: ${path} is not in the deployment share`, {
      hint: SHARE_HINT,
      cause,
    });
  }
  if (!real.startsWith(`${root}${sep}`)) {
    throw new AppError('FORBIDDEN', `${where}: ${path} leads outside the deployment share (to ${real})`, {
      hint: 'a symbolic link in the share must point into the share',
    });
  }
  return real;
}

/** A file's digest as last computed, with what says whether the file has changed since. */
interface KnownDigest {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

/** Digests of share files by real path, so that a listing hashes only files new or changed. */
const knownDigests = new Map<string, KnownDigest>();
/** Digests kept at most (the oldest go first). */
const DIGESTS_KEPT = 4 * MAX_SHARE_FILES;

/** The SHA-256 of the file at `real` (whose stat is `info`), computed again only if it changed. */
async function digestOf(real: string, info: Stats): Promise<string> {
  const known = knownDigests.get(real);
  if (
    known !== undefined &&
    known.dev === info.dev &&
    known.ino === info.ino &&
    known.size === info.size &&
    known.mtimeMs === info.mtimeMs
  )
    return known.sha256;
  const sha256 = await sha256OfFile(real);
  knownDigests.delete(real);
  knownDigests.set(real, { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, sha256 });
  for (const oldest of knownDigests.keys()) {
    if (knownDigests.size <= DIGESTS_KEPT) break;
    knownDigests.delete(oldest);
  }
  return sha256;
}

/** Collects the files of the share listed so far, within the limits. */
class ShareListing {
  readonly files = new Map<string, { readonly real: string; readonly info: Stats }>();
  #bytes = 0;

  add(path: string, real: string, info: Stats, where: string): void {
    if (this.files.has(path)) return;
    this.files.set(path, { real, info });
    this.#bytes += info.size;
    if (this.files.size > MAX_SHARE_FILES || this.#bytes > MAX_SHARE_BYTES) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `${where}: the profile's files in the deployment share go past ${MAX_SHARE_FILES} files or ${MAX_SHARE_BYTES} bytes (at ${path})`,
        { hint: 'name smaller folders: the deploy agent holds these files in memory' },
      );
    }
  }
}

async function listFolder(root: string, folder: string, where: string, listing: ShareListing, depth: number) {
  if (depth > MAX_SHARE_DEPTH) {
    throw new AppError('LIMIT_EXCEEDED', `${where}: ${folder} is more than ${MAX_SHARE_DEPTH} folders deep`, {
      hint: 'a symbolic link in the folder may lead back up into it',
    });
  }
  const real = await realInside(root, folder, where);
  const entries = await readdir(real);
  for (const name of entries.sort()) {
    const path = `${folder}/${name}`;
    const real = await realInside(root, path, where);
    const info = await stat(real);
    if (info.isDirectory()) await listFolder(root, path, where, listing, depth + 1);
    else if (info.isFile()) listing.add(path, real, info, where);
    else
      throw new AppError(
        'INVALID_ARGUMENT',
        `${where}: ${path} in the deployment share is not a regular file`,
      );
  }
}

async function listPath(root: string, p: StepPath, listing: ShareListing): Promise<void> {
  const real = await realInside(root, p.path, p.where);
  const info = await stat(real);
  const kind = info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'special file';
  if (kind !== p.kind) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${p.where}: ${p.path} in the deployment share is a ${kind}, not a ${p.kind}`,
      {
        hint: p.kind === 'directory' ? 'name the folder that holds the driver packages' : 'name a file',
      },
    );
  }
  if (p.kind === 'file') {
    listing.add(p.path, real, info, p.where);
    return;
  }
  await listFolder(root, p.path, p.where, listing, 0);
  // A folder is named only by a drivers step: one without a driver package would fail on the agent.
  const inside = `${p.path}/`;
  if (![...listing.files.keys()].some((f) => f.startsWith(inside) && f.toLowerCase().endsWith('.inf'))) {
    throw new AppError('NOT_FOUND', `${p.where}: ${p.path} in the deployment share holds no .inf file`, {
      hint: 'name folders of driver packages (each with its INF)',
    });
  }
}

/**
 * Every file of `share` the steps name, and every file in the folders they name (by path, with
 * its size and SHA-256); each error names the place of the step (`FILE:LINE:COLUMN`) and what is
 * wrong. Steps that name no file of the share need no share.
 */
export async function listShareFiles(share: string, steps: readonly ProfileStep[]): Promise<ShareFile[]> {
  const paths = stepPaths(steps);
  const [first] = paths;
  if (first === undefined) return [];
  const root = await realShare(share, first.where);
  const listing = new ShareListing();
  for (const p of paths) await listPath(root, p, listing);
  const files: ShareFile[] = [];
  for (const [path, { real, info }] of listing.files)
    files.push({ path, size: info.size, sha256: await digestOf(real, info) });
  return files;
}

/**
 * Checks that `input` (a host path resolved against the share) leads, symbolic links followed, to a
 * file or folder (as its kind says) inside the share: how a build recipe run by the server names
 * its ISO, scripts and files.
 */
export async function requireInShare(share: string, input: StepPath): Promise<void> {
  const root = await realShare(share, input.where);
  const real = await realInside(root, relative(share, input.path), input.where);
  const info = await stat(real);
  if (input.kind === 'file' ? !info.isFile() : !info.isDirectory()) {
    throw new AppError('FILE_NOT_FOUND', `${input.where}: ${input.path} is not a ${input.kind}`, {
      hint: SHARE_HINT,
    });
  }
}

/** Whether `path` is a share path as steps name them: '/'-separated, no '.', '..' or empty part. */
export function isSharePath(path: string): boolean {
  return path.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\0'));
}

/**
 * Opens the share file `path` for the agent of a deployment with these steps: only a file they
 * name, or a file inside a folder they name, whose real path is inside the share.
 */
export async function openShareFile(
  share: string,
  steps: readonly ProfileStep[],
  path: string,
): Promise<OpenedShareFile> {
  const clean = isSharePath(path) ? path : null;
  const named = stepPaths(steps).find((p) =>
    p.kind === 'file' ? p.path === clean : clean?.startsWith(`${p.path}/`) === true,
  );
  if (clean === null || named === undefined) {
    throw new AppError(
      'FORBIDDEN',
      `the deployment's profile names no file ${JSON.stringify(path.slice(0, 200))} of the deployment share`,
      {
        hint: 'the agent is given the files its profile names, listed by GET /api/v1/agent/files',
      },
    );
  }
  const opened = await openRegularFile(
    await realInside(await realShare(share, named.where), clean, named.where),
  );
  if (!opened.ok) {
    throw new AppError(
      'NOT_FOUND',
      `${clean} in the deployment share is not a regular file that can be read`,
      {
        hint: SHARE_HINT,
      },
    );
  }
  const { handle, size } = opened;
  if (size > MAX_SHARE_BYTES) {
    await handle.close();
    throw new AppError(
      'LIMIT_EXCEEDED',
      `${clean} in the deployment share is ${size} bytes, more than ${MAX_SHARE_BYTES}`,
    );
  }
  return {
    size,
    stream: (start, end) => handle.createReadStream({ start, end }),
    close: () => handle.close(),
  };
}
