// `FILE.wim[:INDEX]`, the way commands name one image of a WIM, and the choice of an index against
// what the WIM holds.

import { AppError, FormatError } from '../core/errors.ts';
import { withFileSource } from '../io/file-source.ts';
import { readWimInfo, type WimInfo } from './wim-info.ts';

export interface WimRef {
  readonly path: string;
  /** Absent when the reference has no `:INDEX`. */
  readonly index?: number;
}

export function parseWimRef(ref: string): WimRef {
  const match = /^(?<path>.+):(?<index>[^:/]*)$/.exec(ref);
  if (match?.groups === undefined) return { path: ref };
  const { path = '', index = '' } = match.groups;
  if (!/^\d{1,9}$/.test(index) || Number(index) < 1) {
    throw new AppError('INVALID_ARGUMENT', `"${index}" in ${ref} is not an image index (1, 2, …)`, {
      hint: 'name an image as FILE.wim:INDEX, e.g. install.wim:2',
    });
  }
  return { path, index: Number(index) };
}

function available(info: WimInfo): string {
  return info.images.map((i) => `${i.index} (${i.name ?? 'no name'})`).join(', ');
}

/** The index `ref` names in `info`: its own, or 1 when the WIM has a single image. */
export function resolveImageIndex(info: WimInfo, ref: WimRef): number {
  if (ref.index === undefined) {
    if (info.images.length === 1) return 1;
    if (info.images.length === 0) {
      throw new AppError('NOT_FOUND', `${ref.path} holds no image`, {
        hint: 'capture an image into it first',
      });
    }
    throw new AppError('USAGE', `${ref.path} holds ${info.images.length} images: ${available(info)}`, {
      hint: `say which one: ${ref.path}:INDEX`,
    });
  }
  if (ref.index > info.images.length) {
    throw new AppError(
      'NOT_FOUND',
      `${ref.path} has no image ${ref.index}; it holds ${info.images.length === 0 ? 'none' : available(info)}`,
      { hint: `name one of the images it holds: ${ref.path}:INDEX` },
    );
  }
  return ref.index;
}

/** Reads the WIM `path` names (no program run); a bad file fails here, with its name in the message. */
export async function loadWimInfo(path: string): Promise<WimInfo> {
  try {
    return await withFileSource(path, readWimInfo);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new AppError(e.code, `${path} is not a WIM this program can read: ${e.message}`, {
      hint: 'check that the file is a whole .wim, .esd or first .swm part (copies can be cut short)',
      cause: e,
    });
  }
}

/** Opens the WIM of `ref` and picks its image. */
export async function openWimImage(ref: string): Promise<{ path: string; index: number; info: WimInfo }> {
  const parsed = parseWimRef(ref);
  const info = await loadWimInfo(parsed.path);
  return { path: parsed.path, index: resolveImageIndex(info, parsed), info };
}
