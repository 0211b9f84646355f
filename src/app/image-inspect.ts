// Looking inside stored images for the console: one directory of an image, and the diff between
// two images (src/image/diff.ts). Each job mounts the stored content as a read-only file (the
// repository's chunks served over NBD, src/io/nbd-file.ts), so that wimlib reads only the metadata
// and the few files it needs and nothing is copied; the mount and its socket live in a private
// temporary directory, removed when the job ends however it ends. The diff reads hives in a worker
// thread, not in the thread that answers requests. Images are immutable by digest: answers are
// kept by digest, up to a bounded number of entries and changes, and made again once forgotten.
// Jobs run a few at a time; past a bounded queue a caller is told to come back later.

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
/**
 * Entries of listings, and changes of diffs, kept in all (~150 bytes each: a few tens of MB). A
 * listing of WinSxS is ~20 000 entries, most folders far fewer; a diff of two builds of Windows can
 * be ~100 000 changes.
 */
const LISTING_ENTRIES_KEPT = 200_000;
const DIFF_CHANGES_KEPT = 200_000;
/** Entries of one directory in one answer; WinSxS holds ~20 000. */
export const DIR_PAGE_MAX = 1000;
/** Changes of each kind a diff answer lists; its counts say how many there are in all. */
export const DIFF_LIST_MAX = 2000;
/**
 * How long one job may take: two multi-GB images' hives and file lists read through the store take
 * a minute or two. A job stuck past it (a program that hangs on the mount) gives up its turn.
 */
const JOB_TIMEOUT_MS = 10 * 60_000;
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

/**
 * Answers by key, the oldest forgotten once their weights add up past `max`; reading one makes it
 * the newest. An answer being made is shared by those who ask for it meanwhile, and kept only once
 * made: a failure is asked again.
 */
export class KeptAnswers<V> {
  readonly #done = new Map<string, { readonly value: V; readonly weight: number }>();
  readonly #making = new Map<string, Promise<V>>();
  readonly #max: number;
  readonly #weigh: (value: V) => number;
  #weight = 0;

  constructor(max: number, weigh: (value: V) => number) {
    this.#max = max;
    this.#weigh = weigh;
  }

  get(key: string, make: () => Promise<V>): Promise<V> {
    const done = this.#done.get(key);
    if (done !== undefined) {
      this.#done.delete(key);
      this.#done.set(key, done);
      return Promise.resolve(done.value);
    }
    const making = this.#making.get(key);
    if (making !== undefined) return making;
    const made = make().then(
      (value) => {
        this.#keep(key, value);
        return value;
      },
      (e: unknown) => {
        this.#making.delete(key);
        throw e;
      },
    );
    this.#making.set(key, made);
    return made;
  }

  #keep(key: string, value: V): void {
    this.#making.delete(key);
    const weight = this.#weigh(value) + 1;
    this.#done.set(key, { value, weight });
    this.#weight += weight;
    for (const [oldest, kept] of this.#done) {
      if (this.#weight <= this.#max) break;
      this.#done.delete(oldest);
      this.#weight -= kept.weight;
    }
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

/**
 * What `work` makes, or TIMED_OUT once JOB_TIMEOUT_MS have passed: its signal then aborts (a
 * diff's thread ends), and the caller unmounts the images, which fails the reads of a program
 * still at them.
 */
async function withinTime<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const running = work(stop.signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(
        new AppError(
          'TIMED_OUT',
          `looking inside the image took more than ${JOB_TIMEOUT_MS / 60_000} minutes`,
          {
            hint: 'try again; if it happens again, check the server for a stuck wimlib or nbdfuse',
          },
        ),
      );
    }, JOB_TIMEOUT_MS);
  });
  // What the work says after the time is up is not heard.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class ImageInspector {
  readonly #repo: LocalRepository;
  readonly #jobs = new ConcurrencyLimit(INSPECT_JOBS);
  readonly #listings = new KeptAnswers<DirEntry[]>(LISTING_ENTRIES_KEPT, (entries) => entries.length);
  readonly #diffs = new KeptAnswers<ImageDiff>(
    DIFF_CHANGES_KEPT,
    (d) => d.files.length + d.registry.length + d.drivers.length + d.unattend.length,
  );

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
    const entries = await this.#listings.get(key, () =>
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
    const diff = await this.#diffs.get(key, () =>
      this.#withImages([imageA, imageB], ([fileA = '', fileB = ''], signal) =>
        diffImagesApart(`${fileA}:${ia}`, `${fileB}:${ib}`, signal),
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

  /**
   * Runs `fn` on `images` mounted as files, in its turn among the jobs, and unmounts them after.
   * UNAVAILABLE when FUSE is not there, or when the queue is full.
   */
  async #withImages<T>(
    images: readonly ImageRecord[],
    fn: (files: string[], signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
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
          const paths = files.map((f) => f.path);
          return await withinTime((signal) => fn(paths, signal));
        } finally {
          for (const file of files) await file.close();
        }
      }, 'winsmith-inspect'),
    );
  }
}
