// Where chunks and manifests live: a flat space of keys ('chunks/<sha256 hex>', 'manifests/<sha256
// hex>') holding immutable byte strings. Two implementations share this contract and one test
// suite (test/store/blob-store.contract.ts): the filesystem (blob-store-fs.ts) and S3-compatible
// object storage (blob-store-s3.ts).

import type { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';

/** A byte range of a blob, both ends included (as in HTTP Range). */
export interface BlobRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobInfo {
  readonly key: string;
  readonly size: number;
  /** When the blob was last written, in milliseconds since the epoch. */
  readonly modifiedMs: number;
}

export interface BlobStore {
  /** A name for messages: the directory or the bucket URL, without credentials. */
  readonly location: string;
  has(key: string): Promise<boolean>;
  /** Stores `bytes` under `key` whole or not at all; storing the same key again is harmless. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The blob's bytes; AppError NOT_FOUND when there is none. */
  get(key: string): Promise<Uint8Array>;
  /** The blob's bytes (or a range of them) as a stream; a missing blob fails the stream with NOT_FOUND. */
  getStream(key: string, range?: BlobRange): Readable;
  /** Removes the blob; removing a missing one is harmless. */
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  /** Keys with their size and write time. */
  listInfo(prefix: string): AsyncIterable<BlobInfo>;
  /** The blob's size in bytes, or null when there is none. */
  size(key: string): Promise<number | null>;
  /**
   * Removes what writes interrupted before `beforeMs` left behind (the filesystem's temporary
   * files); returns how many. Stores whose writes leave nothing behind (S3) do not have it.
   */
  removeStaleTemporaries?(beforeMs: number): Promise<number>;
  /**
   * A batch of writes whose blobs appear only at commit(), each whole, as with put() — flushed to
   * disk together rather than blob by blob. Stores whose put() is already cheap (S3) do not have it.
   */
  batch?(): BlobBatch;
}

export interface BlobBatch {
  /** Writes the blob aside: not listed, not readable, until commit(). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Once every put() has settled: makes every blob written durable, then visible. */
  commit(): Promise<void>;
  /** Removes what was written aside. */
  abort(): Promise<void>;
}

/**
 * Keys are '/'-separated segments of [A-Za-z0-9._-], none starting with '.' (so no '..'), the last
 * one at least 4 characters (the filesystem store fans out on its first four).
 */
const KEY_PATTERN = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]{3,}$/;
/** Long enough for 'manifests/' + 64 hex digits with room to spare, short of S3's 1024. */
const MAX_KEY_LENGTH = 256;

/** Throws INVALID_ARGUMENT unless `key` is a key every store accepts (no '..', no control characters). */
export function checkBlobKey(key: string): void {
  if (key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `blob key ${JSON.stringify(key.slice(0, 80))} is not '/'-separated segments of [A-Za-z0-9._-] (at most ${MAX_KEY_LENGTH} characters, no segment starting with '.', the last of 4 or more)`,
      { hint: 'this is a bug in the caller: keys are made from digests' },
    );
  }
}

/** Throws INVALID_ARGUMENT unless `range` lies within a blob of `size` bytes. */
export function checkBlobRange(key: string, range: BlobRange, size: number): void {
  if (
    !Number.isSafeInteger(range.start) ||
    !Number.isSafeInteger(range.end) ||
    range.start < 0 ||
    range.end < range.start ||
    range.end >= size
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `range ${range.start}-${range.end} is not within blob ${key} of ${size} bytes`,
      { hint: 'ask for a range with 0 <= start <= end < size' },
    );
  }
}

export function blobNotFound(key: string, location: string): AppError {
  return new AppError('NOT_FOUND', `blob ${key} is not in ${location}`, {
    hint: "run 'winsmith store check' to find what is missing",
  });
}
