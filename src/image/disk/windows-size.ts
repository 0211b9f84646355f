// How big an NTFS volume an image needs: its bytes plus what NTFS spends on them. The estimate is
// deliberately generous (a disk that is a little too big is cheap when sparse; one too small fails
// late, after minutes of applying).

import type { WimEdition } from '../wim-info.ts';
import { alignUp, MiB } from './size.ts';

/** One MFT record per file or directory (1 KiB), plus an average half cluster of slack (4 KiB clusters). */
const PER_ENTRY_BYTES = 1024 + 2048;
/** $LogFile (up to 64 MiB on volumes over 1 GiB), $MFT zone and other metadata of a fresh volume. */
const NTFS_FIXED_BYTES = 96 * MiB;
/** Headroom for compression-free storage of alternate streams, security descriptors and reparse data. */
const SLACK_RATIO = 1.05;

/**
 * The bytes an NTFS volume needs to hold the image. `fallbackBytes` (e.g. 3× the WIM's size) is
 * used when the WIM's XML does not say how big the image is.
 */
export function windowsPartitionNeeds(edition: WimEdition, fallbackBytes: number): number {
  const content = edition.totalBytes ?? fallbackBytes;
  const entries = (edition.fileCount ?? 0) + (edition.dirCount ?? 0);
  return alignUp(Math.ceil(content * SLACK_RATIO) + entries * PER_ENTRY_BYTES + NTFS_FIXED_BYTES, MiB);
}
