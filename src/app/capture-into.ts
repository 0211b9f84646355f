// A capture straight into a repository (`image capture SRC --push NAME:TAG`): a directory, an NTFS
// volume, or the Windows partition of a disk image captured by wimlib into a WIM in scratch, then
// pushed (in one pass into a repository on this machine, src/app/transfer.ts) and the scratch
// removed. The WIM is written to a file, not streamed: wimlib writes a pipable WIM to a pipe with
// far less of its compression in parallel (about 1.5 times as long for the same CPU time here).

import { join } from 'node:path';
import type { ImageRef } from '../core/names.ts';
import type { CaptureOptions } from '../engines/wimlib.ts';
import { captureSource } from '../image/disk/capture-disk.ts';
import { withTempDir } from '../io/output.ts';
import type { PushResult } from '../store/repository.ts';
import { artifactMetaOf, type ArtifactLineage } from './artifact-meta.ts';
import { pushFile, type PushTarget } from './transfer.ts';

export interface CaptureIntoOptions extends CaptureOptions {
  /** Of a disk image: the partition to capture (default: the largest NTFS one holding Windows). */
  readonly partition?: number | undefined;
  /** Where the scratch folder is made: it holds a disk image's partition copied out, and the WIM. */
  readonly scratchParent: string;
  readonly lineage?: ArtifactLineage;
}

export interface CaptureIntoResult extends PushResult {
  /** The partition captured of a disk image; null for a directory or a volume. */
  readonly partition: number | null;
}

/** Captures `source` as `ref` into `repo`. */
export async function captureInto(
  repo: PushTarget,
  source: string,
  ref: ImageRef,
  options: CaptureIntoOptions,
): Promise<CaptureIntoResult> {
  const { scratchParent, lineage = {}, ...capture } = options;
  return withTempDir(
    async (dir) => {
      const wim = join(dir, 'capture.wim');
      const partition = await captureSource(source, wim, capture);
      const meta = await artifactMetaOf(wim, lineage);
      return { ...(await pushFile(repo, wim, ref, meta, capture.onProgress)), partition };
    },
    'capture',
    scratchParent,
  );
}
