// The image repository as the CLI and the HTTP API both use it. One protocol, two front doors:
//
//   push: the client chunks the file (content-defined, src/store/chunker.ts) into a manifest;
//         begin(manifest) answers the chunk digests the repository lacks; each is sent (and its
//         hash verified on arrival); commit checks every chunk is stored and writes the manifest,
//         the artifact row and the tag in one transaction — only then is the image listed. The
//         same push again after an interruption sends only what is still missing.
//   pull: the image's bytes reassembled from its chunks, as a stream with byte ranges; the client
//         resumes a broken stream with a range and checks the SHA-256 of the whole at the end.
//
// LocalRepository (repository-local.ts) is the storage of a data directory or a server; the
// application layer gives a Repository per caller on it (src/app/images.ts), or over a server's
// HTTP API (src/app/remote/remote-images.ts). Push and pull as a client does them are
// src/app/transfer.ts.

import type { Readable, Writable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import type { CheckReport, GcReport } from './chunk-store.ts';
import type { ChunkerOptions } from './chunker.ts';
import type { TagChange } from './image-catalog.ts';
import type { ImageRef } from '../core/names.ts';
import type { Manifest } from './manifest.ts';

export type { CheckReport, GcReport, TagChange };

/**
 * A check report that also names catalog artifacts whose manifest is not stored, and those whose
 * content, read back whole from the chunks, does not have the SHA-256 the catalog lists.
 */
export interface RepositoryCheckReport extends CheckReport {
  readonly missingManifests: readonly string[];
  readonly wrongContent: readonly {
    readonly digest: string;
    readonly expected: string;
    readonly found: string;
  }[];
}

/** What the catalog records about an artifact beside its bytes. */
export interface ArtifactMeta {
  readonly mediaType: string;
  /** The editions of a WIM (as `winsmith image info` shows them); empty for other artifacts. */
  readonly editions: readonly unknown[];
  readonly parentDigest: string | null;
  /** What made it: the recipe recorded by `image customize` in the WIM's metadata, or null. */
  readonly recipe: unknown;
  readonly sourceIsoSha256: string | null;
}

/** Bytes of JSON the recipe, and the editions, of an image may take: image records stay small. */
export const MAX_META_FIELD_BYTES = 256 * 1024;
/** Editions a WIM may list (Windows media hold a dozen at most). */
const MAX_EDITIONS = 256;
/** A media type is `type/subtype`, each part at most 127 characters (RFC 6838 §4.2). */
const MAX_MEDIA_TYPE = 255;

function boundedJson(value: unknown, what: string): void {
  const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_META_FIELD_BYTES) {
    throw new AppError(
      'LIMIT_EXCEEDED',
      `${what} takes ${bytes} bytes of JSON, over the limit ${MAX_META_FIELD_BYTES}`,
      { hint: `keep ${what} under ${MAX_META_FIELD_BYTES / 1024} KiB; put large files in the image itself` },
    );
  }
}

/** `meta` when it is within the limits of a record; LIMIT_EXCEEDED naming the field otherwise. */
export function checkArtifactMeta(meta: ArtifactMeta): ArtifactMeta {
  if (meta.mediaType.length > MAX_MEDIA_TYPE) {
    throw new AppError(
      'LIMIT_EXCEEDED',
      `media type of ${meta.mediaType.length} characters, over ${MAX_MEDIA_TYPE}`,
      {
        hint: 'give a media type such as application/x-wim',
      },
    );
  }
  if (meta.editions.length > MAX_EDITIONS) {
    throw new AppError('LIMIT_EXCEEDED', `${meta.editions.length} editions, over the limit ${MAX_EDITIONS}`, {
      hint: 'send the editions as image info lists them',
    });
  }
  boundedJson(meta.editions, 'the editions');
  boundedJson(meta.recipe, 'the recipe');
  return meta;
}

export interface ImageRecord extends ArtifactMeta {
  readonly name: string;
  readonly tag: string;
  /** SHA-256 of the manifest: the artifact's immutable identity. */
  readonly digest: string;
  readonly size: number;
  /** SHA-256 of the content. */
  readonly sha256: string;
  readonly pushedBy: string | null;
  readonly pushedAt: string;
}

/** An image as listings show it: its record without the recipe (which the image's own route gives). */
export type ImageSummary = Omit<ImageRecord, 'recipe'> & {
  /** The machine a captured image was captured from (its recipe's capturedFrom.machine), else null. */
  readonly capturedFrom: string | null;
};

/** One page of a listing; `next` is the cursor of the page after it, null on the last page. */
export interface ImagePage {
  readonly images: readonly ImageSummary[];
  readonly next: string | null;
}

/** Images one page of a listing holds at most, and by default. */
export const IMAGE_PAGE_MAX = 1000;
export const IMAGE_PAGE_DEFAULT = 100;

export interface UploadSession {
  readonly id: string;
  /** Chunk digests the repository lacks, in manifest order, each once. */
  readonly missing: readonly string[];
}

export interface PushResult {
  readonly image: ImageRecord;
  readonly chunks: number;
  readonly uploadedChunks: number;
  readonly uploadedBytes: number;
}

export interface PullResult {
  readonly image: ImageRecord;
  readonly bytes: number;
  /** Bytes an earlier, interrupted pull had written that were checked and kept. */
  readonly resumedFrom: number;
}

export interface StoreStats {
  readonly logicalBytes: number;
  readonly storedBytes: number;
  readonly chunks: number;
  readonly artifacts: number;
}

/** The bytes [start, end] (both included) of a content, to be taken once, one way or the other. */
export interface Content {
  readonly size: number;
  /** The bytes as a stream. */
  readonly stream: Readable;
  /**
   * Writes the bytes to `out` (which it does not end) with `out`'s back-pressure; resolves once
   * `out` has taken the last of them. On a filesystem store this reads chunk files into two reused
   * buffers (src/store/chunk-files-writer.ts), cheaper than the stream.
   */
  writeTo(out: Writable): Promise<void>;
}

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** The operations both front doors offer. */
export interface Repository {
  /** Where it is, for messages (a path, or a URL without credentials). */
  readonly location: string;
  /** Chunk sizes the repository wants pushes cut at. */
  chunking(): Promise<ChunkerOptions>;
  /** Opens (or resumes: same name, tag and manifest) a push; answers the chunks still missing. */
  beginUpload(ref: ImageRef, manifest: Manifest): Promise<UploadSession>;
  putChunk(uploadId: string, digest: string, bytes: Uint8Array): Promise<void>;
  /** Verifies every chunk is stored, then records the artifact with `meta` and its tag at once. */
  commitUpload(uploadId: string, meta: ArtifactMeta): Promise<ImageRecord>;
  /**
   * Stores a file of this machine in one pass, with what a push records: offered by a repository on
   * this machine to a caller who may read every image; absent where a push goes chunk by chunk.
   */
  storeFile?(
    ref: ImageRef,
    file: string,
    meta: ArtifactMeta,
    progress?: ProgressListener,
  ): Promise<PushResult>;
  getImage(ref: ImageRef): Promise<ImageRecord>;
  /** The content of `ref`'s artifact, which must be `digest` (a moved tag does not mix two images). */
  readContent(ref: ImageRef, digest: string, range?: ByteRange): Promise<Content>;
  /** The manifest (its chunks in order) of the image `ref` points at, refused if that is not `digest`. */
  getManifest(ref: ImageRef, digest: string): Promise<Manifest>;
  /** Every image the caller may read, page after page. */
  listImages(): Promise<ImageSummary[]>;
  /** One page of the images the caller may read, after the page `cursor` ended (null: the first). */
  listImagePage(query: { readonly limit: number; readonly cursor: string | null }): Promise<ImagePage>;
  tag(source: ImageRef, target: ImageRef): Promise<ImageRecord>;
  removeTag(ref: ImageRef): Promise<void>;
  /** Each move of `ref` (set, moved, removed), newest first: when, by whom, old and new digest. */
  tagHistory(ref: ImageRef): Promise<TagChange[]>;
  stats(): Promise<StoreStats>;
  check(progress?: ProgressListener): Promise<RepositoryCheckReport>;
  gc(progress?: ProgressListener): Promise<GcReport>;
}

/** Every image of `repo`, page after page. */
export async function listAllImages(repo: Pick<Repository, 'listImagePage'>): Promise<ImageSummary[]> {
  const images: ImageSummary[] = [];
  let cursor: string | null = null;
  do {
    const page: ImagePage = await repo.listImagePage({ limit: IMAGE_PAGE_MAX, cursor });
    images.push(...page.images);
    cursor = page.next;
  } while (cursor !== null);
  return images;
}

export const DEFAULT_META: ArtifactMeta = {
  mediaType: 'application/octet-stream',
  editions: [],
  parentDigest: null,
  recipe: null,
  sourceIsoSha256: null,
};
