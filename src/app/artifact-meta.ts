// What the catalog records about a file being pushed, read from the file itself: its media type
// (WIM, ISO 9660/UDF or bytes), the editions of a WIM (readWimInfo, as `image info` shows them),
// and the lineage `image customize` and `build` write into each image's WIM XML (WINSMITH/RECIPE,
// RECIPESHA256, SOURCE, SOURCEFILESSHA256 — see src/image/recipe/customize.ts — and BUILD, see
// src/app/build.ts).

import { open } from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import type { ByteSource } from '../core/byte-source.ts';
import { AppError } from '../core/errors.ts';
import { PWM_MAGIC, WIM_MAGIC } from '../formats/wim/wim-header.ts';
import { readWimInfo, readWimInfoAndXml } from '../image/wim-info.ts';
import { withFileSource } from '../io/file-source.ts';
import { MEDIA_TYPES } from '../store/manifest.ts';
import type { ArtifactMeta } from '../store/repository.ts';

/** ISO 9660 volume descriptors start at sector 16; 'CD001' follows the type byte. */
const ISO_MAGIC_OFFSET = 16 * 2048 + 1;

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The media type `head` (a file's first 8 bytes) starts: a WIM, normal or pipable (wimlib's
 * variant, which wimcapture writes to a pipe: wimlib and winsmith read it as any WIM); else null.
 */
export function mediaTypeOfHead(head: Uint8Array): string | null {
  const magic = Buffer.from(head).toString('latin1');
  return magic === WIM_MAGIC || magic === PWM_MAGIC ? MEDIA_TYPES.wim : null;
}

export async function mediaTypeOf(file: string): Promise<string> {
  if (mediaTypeOfHead(await readAt(file, 0, 8)) !== null) return MEDIA_TYPES.wim;
  if ((await readAt(file, ISO_MAGIC_OFFSET, 5)).toString('latin1') === 'CD001') return MEDIA_TYPES.iso;
  return MEDIA_TYPES.octetStream;
}

export interface RecipeLineage {
  /** 1-based image index the values were recorded on. */
  readonly index: number;
  readonly recipeSha256: string | null;
  readonly recipe: string | null;
  /** 'WIMGUID:INDEX' of the image the recipe was applied to. */
  readonly source: string | null;
  readonly sourceFilesSha256: string | null;
  /** What `winsmith build` recorded (WINSMITH/BUILD): its id, version, QEMU command line and steps. */
  readonly build: unknown;
}

function parseBuild(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The WINSMITH/* values of each image of the WIM's XML (images without them are left out). */
export function parseRecipeLineage(xml: string): RecipeLineage[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    isArray: (_n, path) => path === 'WIM.IMAGE',
  });
  const doc = parser.parse(xml) as { WIM?: { IMAGE?: Record<string, unknown>[] } };
  const out: RecipeLineage[] = [];
  for (const [i, image] of (doc.WIM?.IMAGE ?? []).entries()) {
    const w = image.WINSMITH as Record<string, unknown> | undefined;
    if (w === undefined || typeof w !== 'object') continue;
    const text = (k: string): string | null => (typeof w[k] === 'string' ? w[k] : null);
    out.push({
      index: Number(image['@INDEX'] ?? i + 1),
      recipeSha256: text('RECIPESHA256'),
      recipe: text('RECIPE'),
      source: text('SOURCE'),
      sourceFilesSha256: text('SOURCEFILESSHA256'),
      build: parseBuild(text('BUILD')),
    });
  }
  return out;
}

/** What `artifactMetaOf` records besides what the bytes say: where the image came from. */
export interface ArtifactLineage {
  readonly parentDigest?: string | null;
  readonly sourceIsoSha256?: string | null;
}

/** The media type, editions and recorded recipe of `file`; the lineage as given. */
export async function artifactMetaOf(file: string, lineage: ArtifactLineage = {}): Promise<ArtifactMeta> {
  const mediaType = await mediaTypeOf(file);
  return mediaType === MEDIA_TYPES.wim
    ? withFileSource(file, (source) => wimMetaOf(source, lineage))
    : metaOf(mediaType, [], null, lineage);
}

/**
 * What the catalog records of the WIM `content` read through a byte source (a capture streamed into
 * the repository, normal or pipable): its editions, and `recipe` as its lineage. FORMAT_INVALID when
 * it is not a WIM.
 */
export async function wimContentMeta(content: ByteSource, recipe: unknown): Promise<ArtifactMeta> {
  if (mediaTypeOfHead(await content.read(0, Math.min(8, content.size))) === null) {
    throw new AppError('FORMAT_INVALID', 'the captured content is not a WIM (no WIM magic at its start)', {
      hint: "the capture's log says what wimlib wrote instead",
    });
  }
  return metaOf(MEDIA_TYPES.wim, (await readWimInfo(content)).images, recipe, {});
}

/** The editions and recorded recipe of the WIM `content`. */
async function wimMetaOf(content: ByteSource, lineage: ArtifactLineage): Promise<ArtifactMeta> {
  const { info, xml } = await readWimInfoAndXml(content);
  const recorded = parseRecipeLineage(xml);
  const recipe = recorded.length === 0 ? null : recorded.length === 1 ? recorded[0] : recorded;
  return metaOf(MEDIA_TYPES.wim, info.images, recipe, lineage);
}

function metaOf(
  mediaType: string,
  editions: unknown[],
  recipe: unknown,
  lineage: ArtifactLineage,
): ArtifactMeta {
  return {
    mediaType,
    editions,
    parentDigest: lineage.parentDigest ?? null,
    recipe,
    sourceIsoSha256: lineage.sourceIsoSha256 ?? null,
  };
}
