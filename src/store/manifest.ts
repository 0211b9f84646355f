// The manifest of an artifact: its media type, size, SHA-256, and the chunks that make it, in order.
// It is stored as canonical JSON — keys in the fixed order below, no spaces, sizes as integers,
// digests lower-case hex — so the same content always gives the same bytes, and the manifest's
// digest (SHA-256 of those bytes) names the artifact. Parsing accepts the canonical form only.

import { createHash } from 'node:crypto';
import { isDigest } from '../core/names.ts';
import { errorText, FormatError } from '../core/errors.ts';

export const MANIFEST_SCHEMA_VERSION = 1;

/** Media types winsmith stores; any other type/subtype is accepted as well. */
export const MEDIA_TYPES = {
  wim: 'application/x-wim',
  iso: 'application/x-iso9660-image',
  octetStream: 'application/octet-stream',
} as const;

export interface ManifestChunk {
  readonly digest: string;
  readonly size: number;
}

export interface Manifest {
  readonly schemaVersion: 1;
  readonly mediaType: string;
  /** Bytes of the whole content (the sum of the chunk sizes). */
  readonly size: number;
  /** SHA-256 of the whole content, lower-case hex. */
  readonly sha256: string;
  readonly chunks: readonly ManifestChunk[];
}

/** A chunk larger than this is refused: a chunk is held in memory whole (the chunker's max is 4 MiB). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** Enough for a 1 TiB artifact in 64 KiB chunks; keeps a hostile manifest from exhausting memory. */
export const MAX_MANIFEST_CHUNKS = 16 * 1024 * 1024;
/** About 90 bytes a chunk entry at MAX_MANIFEST_CHUNKS. */
export const MAX_MANIFEST_BYTES = 1536 * 1024 * 1024;

const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export { isDigest };

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The canonical JSON bytes of a manifest. */
export function serializeManifest(m: Manifest): Uint8Array {
  const chunks = m.chunks.map((c) => `{"digest":${JSON.stringify(c.digest)},"size":${c.size}}`).join(',');
  const text =
    `{"schemaVersion":${m.schemaVersion},"mediaType":${JSON.stringify(m.mediaType)},` +
    `"size":${m.size},"sha256":${JSON.stringify(m.sha256)},"chunks":[${chunks}]}`;
  return new TextEncoder().encode(text);
}

/** The manifest's digest: SHA-256 of its canonical bytes. */
export function manifestDigest(m: Manifest): string {
  return sha256Hex(serializeManifest(m));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function expectKeys(v: Record<string, unknown>, keys: readonly string[], where: string): void {
  const found = Object.keys(v);
  if (found.length !== keys.length || found.some((k, i) => k !== keys[i])) {
    throw new FormatError(
      `${where} has keys [${found.join(', ')}], expected [${keys.join(', ')}] in that order`,
    );
  }
}

function expectSize(v: unknown, where: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new FormatError(`${where} is ${JSON.stringify(v)}, expected an integer in [0, ${max}]`, {
      code: typeof v === 'number' && Number.isSafeInteger(v) && v > max ? 'LIMIT_EXCEEDED' : 'FORMAT_INVALID',
    });
  }
  return v;
}

function expectDigest(v: unknown, where: string): string {
  if (typeof v !== 'string' || !isDigest(v)) {
    throw new FormatError(`${where} is ${JSON.stringify(v)}, expected 64 lower-case hex digits (SHA-256)`);
  }
  return v;
}

/** Checks a manifest value (from JSON or from code): FormatError names the first field at fault. */
export function validateManifest(v: unknown): Manifest {
  if (!isRecord(v)) throw new FormatError('the manifest is not a JSON object');
  expectKeys(v, ['schemaVersion', 'mediaType', 'size', 'sha256', 'chunks'], 'the manifest');
  if (v['schemaVersion'] !== MANIFEST_SCHEMA_VERSION) {
    throw new FormatError(
      `manifest schemaVersion is ${JSON.stringify(v['schemaVersion'])}, expected ${MANIFEST_SCHEMA_VERSION}`,
      { code: 'FORMAT_UNSUPPORTED' },
    );
  }
  const mediaType = v['mediaType'];
  if (typeof mediaType !== 'string' || !MEDIA_TYPE_PATTERN.test(mediaType)) {
    throw new FormatError(
      `manifest mediaType is ${JSON.stringify(mediaType)}, expected a lower-case type/subtype such as application/x-wim`,
    );
  }
  const size = expectSize(v['size'], 'manifest size', Number.MAX_SAFE_INTEGER);
  const sha256 = expectDigest(v['sha256'], 'manifest sha256');
  const rawChunks = v['chunks'];
  if (!Array.isArray(rawChunks)) throw new FormatError('manifest chunks is not an array');
  if (rawChunks.length > MAX_MANIFEST_CHUNKS) {
    throw new FormatError(
      `manifest has ${rawChunks.length} chunks, more than the limit ${MAX_MANIFEST_CHUNKS}`,
      {
        code: 'LIMIT_EXCEEDED',
      },
    );
  }
  let total = 0;
  const chunks = rawChunks.map((c: unknown, i): ManifestChunk => {
    const where = `manifest chunks[${i}]`;
    if (!isRecord(c)) throw new FormatError(`${where} is not an object`);
    expectKeys(c, ['digest', 'size'], where);
    const digest = expectDigest(c['digest'], `${where}.digest`);
    const chunkSize = expectSize(c['size'], `${where}.size`, MAX_CHUNK_BYTES);
    if (chunkSize === 0) throw new FormatError(`${where}.size is 0, expected a chunk of 1 byte or more`);
    total += chunkSize;
    return { digest, size: chunkSize };
  });
  if (total !== size) {
    throw new FormatError(
      `manifest chunk sizes add up to ${total} bytes, expected the manifest size ${size}`,
    );
  }
  return { schemaVersion: MANIFEST_SCHEMA_VERSION, mediaType, size, sha256, chunks };
}

/** Reads manifest bytes: valid JSON, a valid manifest, and in canonical form. */
export function parseManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new FormatError(`manifest of ${bytes.length} bytes is over the limit ${MAX_MANIFEST_BYTES}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FormatError(`the manifest is not UTF-8 JSON: ${errorText(e)}`, {
      cause: e,
    });
  }
  const manifest = validateManifest(value);
  const canonical = serializeManifest(manifest);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    const at = canonical.findIndex((b, i) => b !== bytes[i]);
    throw new FormatError(
      'the manifest is not in canonical form (key order, no spaces, integers as written)',
      {
        offset: at < 0 ? Math.min(canonical.length, bytes.length) : at,
      },
    );
  }
  return manifest;
}
