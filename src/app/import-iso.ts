// `winsmith import ISO`: the install image's editions stored as separate images, and boot.wim,
// from Windows installation media. Each edition is exported (wimExport) into a WIM of its own in a
// scratch directory and pushed; lineage records the ISO's SHA-256. Names come from the edition
// and its build ('windows-server/2022-standard:10.0.20348.169'), or as given per index.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import { wimExport } from '../engines/wimlib.ts';
import { extractMedia, readMediaInfo } from '../image/media.ts';
import { withTempDir } from '../io/output.ts';
import { artifactMetaOf } from './artifact-meta.ts';
import { formatImageRef, parseImageRef, validateImageName, type ImageRef } from '../core/names.ts';
import type { PushResult, Repository } from '../store/repository.ts';
import { pushFile } from './transfer.ts';

export interface ImportOptions {
  /** First name segment(s) instead of the product ('windows-server'). */
  readonly namePrefix?: string;
  /** NAME:TAG per install-image index (1-based), or 'boot' for boot.wim. */
  readonly names?: Readonly<Record<string, string>>;
  readonly progress?: ProgressListener;
}

export interface ImportedImage {
  readonly source: string;
  readonly ref: string;
  readonly result: PushResult;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/** 'Windows Server 2022 Standard (Desktop Experience)' → { product: 'windows-server', rest: '2022-standard-desktop-experience' }. */
export function splitEditionName(name: string): { product: string; rest: string } {
  const s = slug(name);
  for (const product of ['windows-server', 'windows']) {
    if (s.startsWith(`${product}-`)) return { product, rest: s.slice(product.length + 1) };
  }
  return { product: 'windows', rest: s === '' ? 'image' : s };
}

export function editionRef(
  name: string | null,
  build: string | null,
  index: number,
  prefix?: string,
): ImageRef {
  const { product, rest } = splitEditionName(name ?? `edition-${index}`);
  return parseImageRef(`${prefix ?? product}/${rest}:${build ?? 'latest'}`);
}

export async function sha256File(path: string, progress: ProgressListener = ignoreProgress): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash('sha256');
  let done = 0;
  for await (const piece of createReadStream(path, {
    highWaterMark: 4 * 1024 * 1024,
  }) as AsyncIterable<Buffer>) {
    hash.update(piece);
    done += piece.length;
    progress({ phase: 'Hashing the ISO', done, total: size, unit: 'bytes' });
  }
  return hash.digest('hex');
}

export async function importIso(
  repo: Repository,
  iso: string,
  options: ImportOptions = {},
): Promise<ImportedImage[]> {
  const progress = options.progress ?? ignoreProgress;
  if (options.namePrefix !== undefined) validateImageName(options.namePrefix);
  const info = await readMediaInfo(iso);
  const isoSha256 = await sha256File(iso, progress);
  const indexes = info.install.images.map((e) => String(e.index));
  for (const key of Object.keys(options.names ?? {})) {
    if (key === 'boot' ? info.boot !== null : indexes.includes(key)) continue;
    const listed = info.install.images.map((e) => `${e.index} (${e.name ?? 'no name'})`).join(', ');
    throw new AppError(
      'NOT_FOUND',
      key === 'boot'
        ? `--name boot=…: ${iso} has no boot.wim`
        : `--name ${key}=…: the install image of ${iso} has no edition ${key}; it has ${listed}`,
      { hint: `name one of its editions by index${info.boot === null ? '' : ", or 'boot'"}` },
    );
  }
  const named = (key: string, fallback: ImageRef): ImageRef => {
    const given = options.names?.[key];
    return given === undefined ? fallback : parseImageRef(given);
  };
  const plan = info.install.images.map((e) => ({
    edition: e,
    ref: named(String(e.index), editionRef(e.name, e.build, e.index, options.namePrefix)),
  }));
  const seen = new Set<string>();
  for (const p of plan) {
    const key = formatImageRef(p.ref);
    if (seen.has(key)) {
      throw new AppError('INVALID_ARGUMENT', `two editions would both be stored as ${key}`, {
        hint: `name one of them with --name ${p.edition.index}=NAME:TAG`,
      });
    }
    seen.add(key);
  }
  return withTempDir(async (dir) => {
    const media = join(dir, 'media');
    const files = await extractMedia(iso, media, { onProgress: progress });
    const installFile = files.find((f) => /^install\.(wim|esd)$/i.test(f.path))?.path;
    if (installFile === undefined) {
      throw new AppError('NOT_FOUND', `${iso} has no sources/install.wim`, {
        hint: 'give Windows installation media',
      });
    }
    const out: ImportedImage[] = [];
    for (const { edition, ref } of plan) {
      const wim = join(dir, `edition-${edition.index}.wim`);
      await wimExport(join(media, installFile), edition.index, wim, { onProgress: progress });
      const meta = await artifactMetaOf(wim, { sourceIsoSha256: isoSha256 });
      const result = await pushFile(repo, wim, ref, meta, progress);
      out.push({ source: `${installFile}:${edition.index}`, ref: formatImageRef(ref), result });
    }
    const bootFile = files.find((f) => /^boot\.wim$/i.test(f.path))?.path;
    if (bootFile !== undefined && info.boot !== null) {
      const first = info.boot.images[0];
      const product = splitEditionName(info.install.images[0]?.name ?? '').product;
      const ref = named(
        'boot',
        parseImageRef(`${options.namePrefix ?? product}/boot:${first?.build ?? 'latest'}`),
      );
      const meta = await artifactMetaOf(join(media, bootFile), { sourceIsoSha256: isoSha256 });
      const result = await pushFile(repo, join(media, bootFile), ref, meta, progress);
      out.push({ source: bootFile, ref: formatImageRef(ref), result });
    }
    return out;
  });
}
