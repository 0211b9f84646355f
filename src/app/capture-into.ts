// A capture straight into a repository: a directory, an NTFS volume, or the Windows partition of a
// disk image (a build's VM disk) captured by wimlib. Where the repository takes a stream (one on
// this machine, for a caller who may read every image) wimlib writes a pipable WIM into a pipe and
// its chunks are stored as they come: no WIM file is written, nor read again to be pushed, and
// cutting and hashing run while wimlib compresses. Elsewhere the WIM is captured into scratch and
// pushed.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { ImageRef } from '../core/names.ts';
import { wimCapture, wimCaptureStream, type CaptureOptions } from '../engines/wimlib.ts';
import { isDiskImageFile, withDiskVolume } from '../image/disk/capture-disk.ts';
import { withTempDir } from '../io/output.ts';
import { MEDIA_TYPES } from '../store/manifest.ts';
import type { PushResult, Repository } from '../store/repository.ts';
import { artifactMetaOf, wimMetaOf, type ArtifactLineage } from './artifact-meta.ts';
import { pushFile, type PushTarget } from './transfer.ts';

/** The part of a Repository a capture uses. */
export type CaptureTarget = PushTarget & Pick<Repository, 'storeStream'>;

export interface CaptureIntoOptions extends CaptureOptions {
  /** Of a disk image: the partition to capture (default: the largest NTFS one holding Windows). */
  readonly partition?: number;
  /** Where scratch goes: a disk image's partition copied out, the WIM where it cannot stream. */
  readonly scratchParent: string;
  readonly lineage?: ArtifactLineage;
}

export interface CaptureIntoResult extends PushResult {
  /** The partition captured of a disk image; null for a directory or a volume. */
  readonly partition: number | null;
}

/** Captures `source` as `ref` into `repo`, streamed when `repo` takes a stream. */
export async function captureInto(
  repo: CaptureTarget,
  source: string,
  ref: ImageRef,
  options: CaptureIntoOptions,
): Promise<CaptureIntoResult> {
  const { partition, scratchParent, lineage = {}, ...capture } = options;
  if ((await stat(source).catch(() => null)) === null) {
    throw new AppError('FILE_NOT_FOUND', `${source} does not exist`, {
      hint: 'name a directory, an NTFS volume in a file or a block device, or a disk image',
    });
  }
  const store = async (volume: string): Promise<PushResult> =>
    repo.storeStream === undefined
      ? withTempDir(
          async (dir) => {
            const wim = join(dir, 'capture.wim');
            await wimCapture(volume, wim, capture);
            return pushFile(repo, wim, ref, await artifactMetaOf(wim, lineage), capture.onProgress);
          },
          'capture',
          scratchParent,
        )
      : storeCapture(repo.storeStream.bind(repo), volume, ref, capture, lineage);
  if (partition === undefined && !(await isDiskImageFile(source))) {
    return { ...(await store(source)), partition: null };
  }
  return withDiskVolume(source, { partition, scratchParent, label: 'capture' }, async (volume, found) => ({
    ...(await store(volume)),
    partition: found.partition,
  }));
}

async function storeCapture(
  storeStream: NonNullable<CaptureTarget['storeStream']>,
  volume: string,
  ref: ImageRef,
  capture: CaptureOptions,
  lineage: ArtifactLineage,
): Promise<PushResult> {
  const stop = new AbortController();
  const stream = wimCaptureStream(volume, { ...capture, signal: stop.signal });
  const wimlib: { ended: boolean; failure: Error | null } = { ended: false, failure: null };
  const end = stream.done.then(
    () => void (wimlib.ended = true),
    (e: unknown) => {
      wimlib.ended = true;
      wimlib.failure = e instanceof Error ? e : new Error(String(e));
    },
  );
  try {
    // The image is recorded only once wimlib has ended well: a capture that failed half-way ends
    // its stream early, and what was stored of it stays unreferenced (gc removes it).
    return await storeStream(ref, stream.stdout, MEDIA_TYPES.wim, async (content) => {
      await end;
      if (wimlib.failure !== null) throw wimlib.failure;
      return wimMetaOf(content, lineage);
    });
  } catch (e) {
    // A store that failed leaves wimlib waiting on a full pipe; wimlib's own failure says more
    // than the short stream it left.
    if (!wimlib.ended) stop.abort();
    await end;
    throw wimlib.failure !== null && !stop.signal.aborted ? wimlib.failure : e;
  }
}
