// Writes the sample image's tree into a directory: the folders and files of layout.ts (hives and the
// BCD template made by our codecs, stand-ins, INF files) and then the padding of padding.ts, streamed
// in blocks so that any size is written with a few hundred KiB of memory.

import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { ProgressListener } from '../../core/progress.ts';
import { createContentGenerator } from './content.ts';
import { buildSampleBcdTemplate, buildSampleHive } from './hives.ts';
import {
  SAMPLE_DIRECTORIES,
  SAMPLE_FILES,
  renderInf,
  standInText,
  type SampleContent,
  type SampleFile,
} from './layout.ts';
import { planPadding, type PaddingFile } from './padding.ts';
import { makePeStub } from './pe-stub.ts';

export interface SampleTreeOptions {
  /** Total bytes of file content wanted; the padding makes up what the base tree lacks. */
  readonly size?: number;
  readonly seed: number;
  readonly onProgress?: ProgressListener;
}

export interface SampleTreeResult {
  /** Bytes of file content written, base and padding. */
  readonly totalBytes: number;
  readonly fileCount: number;
  readonly baseBytes: number;
  readonly paddingBytes: number;
}

const WRITE_CHUNK = 1024 * 1024;
const PHASE = 'Writing sample files';

/** The host path of a Windows path under `root`. */
function hostPath(root: string, windowsPath: string): string {
  return join(root, ...windowsPath.split('\\'));
}

/** The bytes of one file of the base tree. */
export function renderSampleFile(file: SampleFile): Uint8Array {
  const content: SampleContent = file.content;
  switch (content.kind) {
    case 'stand-in':
      return new TextEncoder().encode(standInText(file.path, content.what));
    case 'pe':
      return makePeStub({ dll: content.dll, text: standInText(file.path, content.what) });
    case 'text':
      return new TextEncoder().encode(content.text);
    case 'inf':
      return new TextEncoder().encode(renderInf(content.driver));
    case 'hive':
      return buildSampleHive(content.hive);
    case 'bcd-template':
      return buildSampleBcdTemplate();
  }
}

/** The base tree's files with their bytes (small: a few hundred KiB in all). */
export function renderBaseTree(): { file: SampleFile; bytes: Uint8Array }[] {
  return SAMPLE_FILES.map((file) => ({ file, bytes: renderSampleFile(file) }));
}

async function writePadding(
  root: string,
  files: readonly PaddingFile[],
  seed: number,
  report: (bytes: number) => void,
): Promise<void> {
  const generator = createContentGenerator(seed);
  const buffer = new Uint8Array(WRITE_CHUNK);
  const made = new Set<string>();
  for (const file of files) {
    const path = hostPath(root, file.path);
    const dir = dirname(path);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const handle = await open(path, 'wx');
    try {
      for (let offset = 0; offset < file.size; offset += WRITE_CHUNK) {
        const n = Math.min(WRITE_CHUNK, file.size - offset);
        const chunk = buffer.subarray(0, n);
        generator.read(file, offset, chunk);
        await handle.write(chunk, 0, n);
        report(n);
      }
    } finally {
      await handle.close();
    }
  }
}

/** Writes the whole sample tree under `root` (an existing, empty directory). */
export async function writeSampleTree(root: string, options: SampleTreeOptions): Promise<SampleTreeResult> {
  const base = renderBaseTree();
  const baseBytes = base.reduce((sum, { bytes }) => sum + bytes.length, 0);
  const wanted = options.size ?? baseBytes;
  if (wanted < baseBytes) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `a sample image of ${wanted} bytes was asked for, but its base files alone take ${baseBytes} bytes`,
      { hint: `give --size ${baseBytes} or more, or leave --size out` },
    );
  }
  const padding = planPadding(wanted - baseBytes, options.seed);
  const total = wanted;
  let done = 0;
  let lastReport = 0;
  const report = (bytes: number): void => {
    done += bytes;
    if (options.onProgress === undefined) return;
    if (done - lastReport >= 8 * WRITE_CHUNK || done === total) {
      lastReport = done;
      options.onProgress({ phase: PHASE, done, total, unit: 'bytes' });
    }
  };

  for (const dir of SAMPLE_DIRECTORIES) await mkdir(hostPath(root, dir), { recursive: true });
  for (const { file, bytes } of base) {
    const path = hostPath(root, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes, { flag: 'wx' });
    report(bytes.length);
  }
  await writePadding(root, padding, options.seed, report);
  options.onProgress?.({ phase: PHASE, done, total, unit: 'bytes' });
  return {
    totalBytes: done,
    fileCount: base.length + padding.length,
    baseBytes,
    paddingBytes: done - baseBytes,
  };
}
