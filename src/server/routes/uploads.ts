// The push protocol's routes: open an upload with its manifest (answered with the chunks the
// server lacks), send each chunk, commit. An upload a caller may not push to is not found.

import type { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { isDigest, validateImageName, validateTag } from '../../core/names.ts';
import type { Manifest } from '../../store/manifest.ts';
import type { ArtifactMeta } from '../../store/repository.ts';
import { defineRoute, type ApiRoute, type RouteRequest } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { withReceivedBytes } from '../receive-bytes.ts';
import { ArtifactMetaRequest, BeginUpload, CommitUpload, ImageRecord, UploadSession } from '../schemas.ts';

/**
 * The most bytes of a begin-upload request with a manifest of `chunks` chunks: each chunk entry
 * takes 94 bytes at most in canonical JSON (`{"digest":"<64 hex>","size":16777216},`), and the name,
 * tag and the rest of the manifest far less than 4 KiB.
 */
export function manifestBodyBytes(chunks: number): number {
  return 4096 + 96 * chunks;
}

function digestOrNull(value: string | null | undefined, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (!isDigest(value)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `meta.${field} must be a SHA-256 (64 lowercase hex digits) or null`,
      {
        hint: 'give the digest as printed by winsmith images --json',
      },
    );
  }
  return value;
}

function artifactMeta(meta: z.output<typeof ArtifactMetaRequest> | undefined): ArtifactMeta {
  return {
    mediaType: meta?.mediaType ?? 'application/octet-stream',
    editions: meta?.editions ?? [],
    parentDigest: digestOrNull(meta?.parentDigest, 'parentDigest'),
    recipe: meta?.recipe ?? null,
    sourceIsoSha256: digestOrNull(meta?.sourceIsoSha256, 'sourceIsoSha256'),
  };
}

export function uploadRoutes({ backend, metrics }: RouteContext): ApiRoute[] {
  const uploadImage = (r: RouteRequest): Promise<string> => backend.uploadImageName(r.params.id ?? '');
  const noUpload = (r: RouteRequest): AppError =>
    new AppError('NOT_FOUND', `no upload ${JSON.stringify((r.params.id ?? '').slice(0, 80))}`, {
      hint: 'start the push again',
    });
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/uploads',
      summary: 'open a push: send the manifest, get the chunk digests the server lacks',
      action: 'image.push',
      image: (r) => validateImageName(r.body.name),
      body: { json: BeginUpload, maxBytes: manifestBodyBytes(backend.maxManifestChunks) },
      ok: { status: 201, description: 'the upload and the chunks to send', json: UploadSession },
      handler: (r) =>
        backend.as(r.actor).images.beginUpload(
          { name: validateImageName(r.body.name), tag: validateTag(r.body.tag) },
          // The schema checked its shape; the repository checks its canonical rules (validateManifest).
          r.body.manifest as Manifest,
        ),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/uploads/{id}/chunks/{digest}',
      summary: 'send one chunk of an open push; its SHA-256 must be its digest',
      action: 'image.push',
      image: uploadImage,
      refusal: noUpload,
      body: {
        bytes: 'application/octet-stream',
        description: 'the chunk bytes',
        maxBytes: backend.maxChunkBytes,
      },
      ok: { status: 204, description: 'stored (or already there)' },
      async handler(r) {
        const length = await withReceivedBytes(r, async (bytes) => {
          await backend.as(r.actor).images.putChunk(r.params.id ?? '', r.params.digest ?? '', bytes);
          return bytes.length;
        });
        metrics.pushed(length);
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/uploads/{id}/commit',
      summary: 'finish a push: every chunk and the whole content verified, then the image is listed',
      action: 'image.push',
      image: uploadImage,
      refusal: noUpload,
      body: { json: CommitUpload },
      ok: { status: 201, description: 'the image record', json: ImageRecord },
      handler: (r) => backend.as(r.actor).images.commitUpload(r.params.id ?? '', artifactMeta(r.body.meta)),
    }),
  ];
}
