// Looking inside stored images for the console: one directory of an image, and the diff between
// two images (src/image/diff.ts). Each job mounts the stored content as a read-only file (the
// repository's chunks served over NBD, src/io/nbd-file.ts), so that wimlib reads only the metadata
// and the few files it needs and nothing is copied; the mount and its socket live in a private
// temporary directory, removed when the job ends however it ends. The diff reads hives in a worker
// thread, not in the thread that answers requests. Images are immutable by digest: answers are
// kept, a bounded number of them, and asked again only when they are gone. Jobs run a few at a
// time; past a bounded queue a caller is told to come back later.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcurrencyLimit } from '../core/concurrency-limit.ts';
import { AppError } from '../core/errors.ts';
import { formatImageRef, type ImageRef } from '../core/names.ts';
import { fuseAvailable } from '../engines/nbd.ts';
import { wimListDir, type WimFileEntry } from '../engines/wimlib.ts';
import { openNbdFile, type NbdFile } from '../io/nbd-file.ts';
import { withTempDir } from '../io/output.ts';
import { diffImagesApart, type ImageDiff } from '../image/diff.ts';
import { MEDIA_TYPES } from '../store/manifest.ts';
import type { LocalRepository } from '../store/repository-local.ts';
import type { ImageRecord } from '../store/repository.ts';
import type { ImageVisibility } from './visibility.ts';

/** Jobs running at once: each holds a mount and runs wimlib, which reads through this process. */
export const INSPECT_JOBS = 2;
/** Jobs that may wait for a turn; a request past them is refused with Retry-After. */
export const INSPECT_QUEUE = 8;
const RETRY_AFTER_SECONDS = 5;
/** Directory listings and diffs kept (a listing of WinSxS is a few MB; most are far smaller). */
const LISTINGS_KEPT = 64;
const DIFFS_KEPT = 16;
/** Entries of one directory in one answer; WinSxS holds ~20 000. */
export const DIR_PAGE_MAX = 1000;
/** Changes of each kind a diff answer lists; its counts say how many there are in all. */
export const DIFF_LIST_MAX = 2000;
/** Longest image path taken (Windows' own limit for a path is 32 767 UTF-16 units; wimlib's none). */
const MAX_PATH_CHARS = 4096;

export interface DirEntry {
  readonly name: string;
  readonly isDir: boolean;
  readonly size: number;
  readonly sha1: string | null;
}

export interface DirectoryPage {
  readonly name: string;
  readonly tag: string;
  readonly digest: string;
  readonly index: number;
  /** The directory, '/'-separated from the image's root ('/' for the root). */
  readonly path: string;
  /** Folders first, then files, each by name. */
  readonly entries: readonly DirEntry[];
  /** Entries of the directory in all. */
  readonly total: number;
  /** The offset of the next page, or null after the last. */
  readonly next: number | null;
}

export interface DiffSide {
  readonly name: string;
  readonly tag: string;
  readonly digest: string;
  readonly index: number;
}

export interface ImageDiffAnswer {
  readonly a: DiffSide;
  readonly b: DiffSide;
  /** How many changes of each kind there are in all. */
  readonly counts: {
    readonly files: number;
    readonly registry: number;
    readonly drivers: number;
    readonly unattend: number;
  };
  /** True when a list below holds only its first DIFF_LIST_MAX changes. */
  readonly truncated: boolean;
  readonly files: ImageDiff['files'];
  readonly registry: ImageDiff['registry'];
  readonly drivers: ImageDiff['drivers'];
  readonly unattend: ImageDiff['unattend'];
}

/** A map that forgets its oldest entry past `max`; reading an entry makes it the newest. */
class Kept<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    for (const oldest of this.#map.keys()) {
      if (this.#map.size <= this.#max) break;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

/** `/Windows\System32/` → `/Windows/System32`; INVALID_ARGUMENT for what no image path can be. */
export function imagePath(text: string): string {
  const slashed = text.replaceAll('\\', '/');
  const parts = slashed.split('/').filter((p) => p !== '');
  if (
    !slashed.startsWith('/') ||
    slashed.length > MAX_PATH_CHARS ||
    parts.some((p) => p === '.' || p === '..') ||
    /[\p{Cc}]/u.test(slashed)
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `path must be absolute in the image ('/Windows/System32'), at most ${MAX_PATH_CHARS} characters, with no '.', '..' or control characters; found ${JSON.stringify(text.slice(0, 200))}`,
      { hint: "start from '/' and name each folder down to the one wanted" },
    );
  }
  return `/${parts.join('/')}`;
}

/** The edition `index` of a WIM image (INVALID_ARGUMENT for another index, or not a WIM). */
function editionIndex(image: ImageRecord, index: number): number {
  const ref = formatImageRef(image);
  if (image.mediaType !== MEDIA_TYPES.wim) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${ref} is ${image.mediaType}, not a WIM: it has no files to show`,
      {
        hint: 'browse and compare WIM images',
      },
    );
  }
  const count = image.editions.length;
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `index ${index} is not an edition of ${ref}, which has 1 to ${count}`,
      {
        hint: "the image's page lists its editions",
      },
    );
  }
  return index;
}

function entryOf(e: WimFileEntry): DirEntry {
  return { name: e.path.slice(e.path.lastIndexOf('/') + 1), isDir: e.isDir, size: e.size, sha1: e.sha1 };
}

function byKindThenName(x: DirEntry, y: DirEntry): number {
  if (x.isDir !== y.isDir) return x.isDir ? -1 : 1;
  return x.name.localeCompare(y.name, 'en', { sensitivity: 'base' }) || x.name.localeCompare(y.name);
}

export class ImageInspector {
  readonly #repo: LocalRepository;
  readonly #jobs = new ConcurrencyLimit(INSPECT_JOBS);
  readonly #listings = new Kept<Promise<DirEntry[]>>(LISTINGS_KEPT);
  readonly #diffs = new Kept<Promise<ImageDiff>>(DIFFS_KEPT);

  constructor(repo: LocalRepository) {
    this.#repo = repo;
  }

  /** A page of the entries of directory `path` of edition `index` of `ref`. */
  async listDirectory(
    ref: ImageRef,
    index: number,
    path: string,
    page: { readonly offset: number; readonly limit: number },
  ): Promise<DirectoryPage> {
    const dir = imagePath(path);
    const image = await this.#repo.getImage(ref);
    const edition = editionIndex(image, index);
    const key = `${image.digest}:${edition}:${dir.toLowerCase()}`;
    const entries = await this.#kept(this.#listings, key, () =>
      this.#withImages([image], async ([file = '']) => {
        const listed = await wimListDir(file, edition, dir).catch((e: unknown) => {
          if (e instanceof AppError && e.code === 'NOT_FOUND') {
            throw new AppError('NOT_FOUND', `${formatImageRef(ref)} index ${edition} has no ${dir}`, {
              hint: 'go up a folder and pick one it lists',
              cause: e,
            });
          }
          throw e;
        });
        if (!listed.entry.isDir) {
          throw new AppError('INVALID_ARGUMENT', `${dir} in ${formatImageRef(ref)} is a file, not a folder`, {
            hint: 'ask for the folder that holds it',
          });
        }
        return listed.children.map(entryOf).sort(byKindThenName);
      }),
    );
    const end = page.offset + page.limit;
    return {
      name: ref.name,
      tag: ref.tag,
      digest: image.digest,
      index: edition,
      path: dir,
      entries: entries.slice(page.offset, end),
      total: entries.length,
      next: end < entries.length ? end : null,
    };
  }

  /**
   * What differs from edition `a.index` of `a` to edition `b.index` of `b`. `visible` is what the
   * caller may read: an image outside it is not found, unnamed, as one that does not exist.
   */
  async diff(
    a: ImageRef & { readonly index: number },
    b: ImageRef & { readonly index: number },
    visible: ImageVisibility,
  ): Promise<ImageDiffAnswer> {
    for (const side of [a, b]) {
      if (!visible(side.name)) {
        throw new AppError('NOT_FOUND', 'an image to compare is not found', {
          hint: 'compare images you may read (winsmith images lists them)',
        });
      }
    }
    const imageA = await this.#repo.getImage(a);
    const imageB = await this.#repo.getImage(b);
    const ia = editionIndex(imageA, a.index);
    const ib = editionIndex(imageB, b.index);
    const key = `${imageA.digest}:${ia}:${imageB.digest}:${ib}`;
    const diff = await this.#kept(this.#diffs, key, () =>
      this.#withImages([imageA, imageB], ([fileA = '', fileB = '']) =>
        diffImagesApart(`${fileA}:${ia}`, `${fileB}:${ib}`),
      ),
    );
    const side = (ref: ImageRef, digest: string, index: number): DiffSide => ({
      name: ref.name,
      tag: ref.tag,
      digest,
      index,
    });
    const lists = [diff.files, diff.registry, diff.drivers, diff.unattend];
    return {
      a: side(a, imageA.digest, ia),
      b: side(b, imageB.digest, ib),
      counts: {
        files: diff.files.length,
        registry: diff.registry.length,
        drivers: diff.drivers.length,
        unattend: diff.unattend.length,
      },
      truncated: lists.some((l) => l.length > DIFF_LIST_MAX),
      files: diff.files.slice(0, DIFF_LIST_MAX),
      registry: diff.registry.slice(0, DIFF_LIST_MAX),
      drivers: diff.drivers.slice(0, DIFF_LIST_MAX),
      unattend: diff.unattend.slice(0, DIFF_LIST_MAX),
    };
  }

  /** The answer kept under `key`, or `make`'s, kept if it succeeds (two same asks share one job). */
  #kept<T>(kept: Kept<Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    const known = kept.get(key);
    if (known !== undefined) return known;
    const made = make();
    kept.set(key, made);
    made.catch(() => kept.delete(key));
    return made;
  }

  /**
   * Runs `fn` on `images` mounted as files, in its turn among the jobs, and unmounts them after.
   * UNAVAILABLE when FUSE is not there, or when the queue is full.
   */
  async #withImages<T>(images: readonly ImageRecord[], fn: (files: string[]) => Promise<T>): Promise<T> {
    if (!(await fuseAvailable())) {
      throw new AppError('UNAVAILABLE', 'this server cannot look inside images: FUSE is not available', {
        hint: 'give the server /dev/fuse (modprobe fuse; in a container, --device /dev/fuse) and install fuse3 and libnbd-bin',
      });
    }
    if (this.#jobs.running >= INSPECT_JOBS && this.#jobs.waiting >= INSPECT_QUEUE) {
      throw new AppError(
        'UNAVAILABLE',
        `${INSPECT_JOBS} image jobs run and ${INSPECT_QUEUE} wait: no room for another now`,
        { hint: `try again in ${RETRY_AFTER_SECONDS} s`, retryAfterSeconds: RETRY_AFTER_SECONDS },
      );
    }
    return this.#jobs.run(() =>
      withTempDir(async (dir) => {
        const files: NbdFile[] = [];
        try {
          for (const [i, image] of images.entries()) {
            const source = await this.#repo.contentPieces(image, image.digest);
            const sub = join(dir, String(i));
            await mkdir(sub, { mode: 0o700 });
            files.push(await openNbdFile(source, sub, 'image.wim'));
          }
          return await fn(files.map((f) => f.path));
        } finally {
          for (const file of files) await file.close();
        }
      }, 'winsmith-inspect'),
    );
  }
}
