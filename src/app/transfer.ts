// Push and pull as a client does them, on any Repository (a data directory's or a server's):
//
//   push: the file is chunked (content-defined, src/store/chunker.ts) into a manifest; the
//         repository answers the chunks it lacks; each is sent; the commit lists the image. The
//         same push again after an interruption sends only what is still missing.
//   pull: the image's bytes as a stream into a partial file, resumed with a Range when it breaks,
//         with the SHA-256 of the whole checked before the file appears. A pull run again after an
//         interruption keeps what the partial file holds of the manifest's chunks, checked one by
//         one, and downloads only the rest.

import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { formatImageRef, type ImageRef } from '../core/names.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import { checkOutputPath } from '../io/output.ts';
import { CHUNKER_DEFAULTS, type ChunkerOptions } from '../store/chunker.ts';
import { sha256Hex, type Manifest } from '../store/manifest.ts';
import { withFileBatches } from '../store/parallel-chunker.ts';
import type { ArtifactMeta, PullResult, PushResult, Repository } from '../store/repository.ts';

/**
 * Chunks `file` into a manifest (first pass: digests only, nothing kept): cut and hashed on worker
 * threads (chunkBatches), as a local ingest is.
 */
export async function manifestOfFile(
  file: string,
  mediaType: string,
  options: ChunkerOptions = CHUNKER_DEFAULTS,
  progress: ProgressListener = ignoreProgress,
): Promise<Manifest> {
  return withFileBatches(file, options, async (batches, size) => {
    const chunks: { digest: string; size: number }[] = [];
    let done = 0;
    for (;;) {
      const next = await batches.next();
      if (next.done === true) {
        if (done !== size) {
          throw new AppError(
            'IO_ERROR',
            `${file} changed while it was read: ${size} bytes expected, ${done} read`,
            {
              hint: 'push a file nothing writes to',
            },
          );
        }
        return { schemaVersion: 1, mediaType, size, sha256: next.value, chunks };
      }
      for (const chunk of next.value) {
        chunks.push({ digest: chunk.digest, size: chunk.size });
        done += chunk.size;
      }
      progress({ phase: 'Chunking', done, total: size, unit: 'bytes' });
    }
  });
}

/** The part of a Repository a push uses. */
export type PushTarget = Pick<
  Repository,
  'location' | 'chunking' | 'beginUpload' | 'putChunk' | 'commitUpload' | 'storeFile'
>;

/**
 * Push `file` as `ref`: only the chunks the repository lacks travel; visible once committed. A
 * repository on this machine that offers it stores the file in one pass instead.
 */
export async function pushFile(
  repo: PushTarget,
  file: string,
  ref: ImageRef,
  meta: ArtifactMeta,
  progress: ProgressListener = ignoreProgress,
): Promise<PushResult> {
  if (repo.storeFile !== undefined) return repo.storeFile(ref, file, meta, progress);
  const manifest = await manifestOfFile(file, meta.mediaType, await repo.chunking(), progress);
  const session = await repo.beginUpload(ref, manifest);
  const offsets = new Map<string, { offset: number; size: number }>();
  let offset = 0;
  for (const c of manifest.chunks) {
    if (!offsets.has(c.digest)) offsets.set(c.digest, { offset, size: c.size });
    offset += c.size;
  }
  const total = session.missing.reduce((n, d) => n + (offsets.get(d)?.size ?? 0), 0);
  let sent = 0;
  const handle = await open(file, 'r');
  try {
    for (const digest of session.missing) {
      const place = offsets.get(digest);
      if (place === undefined) {
        throw new AppError(
          'INTERNAL',
          `the repository asked for chunk ${digest}, which is not in the manifest`,
          {
            hint: 'the repository answered something other than what was pushed; try again',
          },
        );
      }
      const bytes = Buffer.allocUnsafe(place.size);
      const { bytesRead } = await handle.read(bytes, 0, place.size, place.offset);
      if (bytesRead !== place.size) {
        throw new AppError('IO_ERROR', `${file} became shorter while it was pushed`, {
          hint: 'push a file nothing writes to',
        });
      }
      await repo.putChunk(session.id, digest, bytes);
      sent += place.size;
      progress({ phase: `Uploading to ${repo.location}`, done: sent, total, unit: 'bytes' });
    }
  } finally {
    await handle.close();
  }
  const image = await repo.commitUpload(session.id, meta);
  return { image, chunks: offsets.size, uploadedChunks: session.missing.length, uploadedBytes: sent };
}

/** How many times a broken download stream is resumed (with a Range) before giving up. */
const PULL_RESUME_ATTEMPTS = 5;

/** Where a pull into `out` keeps what it has downloaded until the whole is there and checked. */
export function partialPathOf(out: string): string {
  const full = resolve(out);
  return join(dirname(full), `.${basename(full)}.partial`);
}

/**
 * How much of the partial download open in `handle` is the start of the manifest's content, checked
 * chunk by chunk against the manifest's digests (as a push finds what the repository lacks): the
 * chunks that match from the start are kept, the rest is cut off. `hash` is fed the kept bytes. The
 * manifest is asked for only when there is something to check.
 */
async function keptPrefix(
  handle: FileHandle,
  manifestOf: () => Promise<Manifest>,
  hash: Hash,
  progress: ProgressListener,
): Promise<number> {
  const size = (await handle.stat()).size;
  if (size === 0) return 0;
  const manifest = await manifestOf();
  let kept = 0;
  for (const chunk of manifest.chunks) {
    if (kept + chunk.size > size) break;
    const bytes = Buffer.allocUnsafe(chunk.size);
    const { bytesRead } = await handle.read(bytes, 0, chunk.size, kept);
    if (bytesRead !== chunk.size || sha256Hex(bytes) !== chunk.digest) break;
    hash.update(bytes);
    kept += chunk.size;
    progress({ phase: 'Checking the earlier download', done: kept, total: size, unit: 'bytes' });
  }
  await handle.truncate(kept);
  return kept;
}

/**
 * Pull `ref` into `out`. The bytes go to a partial file beside it (`.OUT.partial`), which becomes
 * `out` only once the SHA-256 of the whole is checked. A broken stream is resumed with a Range; a
 * pull that was stopped (a signal, a crash, the network gone) leaves the partial file, and the next
 * pull into the same `out` keeps the chunks of it that match the manifest and downloads the rest.
 */
export async function pullFile(
  repo: Repository,
  ref: ImageRef,
  out: string,
  options: { readonly overwrite?: boolean; readonly progress?: ProgressListener } = {},
): Promise<PullResult> {
  const progress = options.progress ?? ignoreProgress;
  const full = await checkOutputPath(out, { overwrite: options.overwrite ?? false });
  const image = await repo.getImage(ref);
  const partial = partialPathOf(full);
  const handle = await open(partial, constants.O_RDWR | constants.O_CREAT);
  const hash = createHash('sha256');
  let resumedFrom: number;
  let written: number;
  let failures = 0;
  try {
    resumedFrom = await keptPrefix(handle, () => repo.getManifest(ref, image.digest), hash, progress);
    written = resumedFrom;
    while (written < image.size) {
      try {
        const content = await repo.readContent(ref, image.digest, { start: written, end: image.size - 1 });
        for await (const piece of content.stream as AsyncIterable<Buffer>) {
          await handle.write(piece, 0, piece.length, written);
          hash.update(piece);
          written += piece.length;
          progress({
            phase: `Downloading from ${repo.location}`,
            done: written,
            total: image.size,
            unit: 'bytes',
          });
        }
        if (written < image.size) throw new Error(`stream ended at ${written} of ${image.size} bytes`);
      } catch (e) {
        failures += 1;
        if (failures >= PULL_RESUME_ATTEMPTS || (e instanceof AppError && e.code !== 'IO_ERROR')) throw e;
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  const sha256 = hash.digest('hex');
  if (written !== image.size || sha256 !== image.sha256) {
    await rm(partial, { force: true });
    throw new AppError(
      'FORMAT_INVALID',
      `${formatImageRef(ref)}: expected ${image.size} bytes with SHA-256 ${image.sha256}, received ${written} bytes with ${sha256}`,
      { hint: "the repository's copy may be damaged: run 'winsmith store check' on it" },
    );
  }
  await rename(partial, full);
  return { image, bytes: image.size, resumedFrom };
}
