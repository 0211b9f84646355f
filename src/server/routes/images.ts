// The routes of stored images: a page of the listing, one image's record, tags set and removed,
// and the exact bytes with Range and If-Match. Image names travel percent-encoded in one path
// segment ('team-a%2Fws2022'); hono decodes them and validateImageName refuses '..', control
// characters and anything else odd.

import { inScope } from '../../auth/roles.ts';
import { AppError } from '../../core/errors.ts';
import { parseImageRef, validateImageName, validateTag, type ImageRef } from '../../core/names.ts';
import { DIR_PAGE_MAX } from '../../app/image-inspect.ts';
import { parseRangeHeader } from '../../formats/http-range.ts';
import { IMAGE_PAGE_DEFAULT, IMAGE_PAGE_MAX } from '../../app/session.ts';
import { pageLimit, wholeNumberIn } from '../page-limit.ts';
import { bytesAnswer, rangeNotSatisfiable } from '../byte-answer.ts';
import { defineRoute, type ApiRoute, type RouteRequest } from '../routes.ts';
import { sendContent } from '../send-content.ts';
import type { RouteContext } from '../backend.ts';
import type { Manifest as StoredManifest } from '../../store/manifest.ts';
import {
  ImageDiff,
  ImageDiffQuery,
  ImageDirectory,
  ImageFilesQuery,
  ImagePage,
  ImagePageQuery,
  ImageRecord,
  Manifest,
  TagHistory,
  TagRequest,
} from '../schemas.ts';

const NAME_PARAM = {
  name: 'name',
  in: 'path',
  description: "image name, percent-encoded as one segment ('team-a%2Fws2022')",
} as const;

function refOf(params: Readonly<Record<string, string>>): ImageRef {
  return { name: validateImageName(params.name ?? ''), tag: validateTag(params.tag ?? '') };
}

/**
 * What a caller who may not read an image is told by the routes that look inside images: not
 * found, with no name, as for an image that does not exist.
 */
function unseenImage(): AppError {
  return new AppError('NOT_FOUND', 'no such image', {
    hint: 'winsmith images lists the images you may read',
  });
}

/** The manifest of `ref`: its chunks in order, for a pull that checks what it already has. */
async function manifest(r: RouteRequest, { backend }: RouteContext): Promise<StoredManifest> {
  const ref = refOf(r.params);
  const images = backend.as(r.actor).images;
  const ifMatch = r.c.req.header('if-match');
  const digest =
    ifMatch === undefined || ifMatch === '*'
      ? (await images.getImage(ref)).digest
      : ifMatch.replace(/^"|"$/g, '');
  return images.getManifest(ref, digest);
}

/** The bytes of `ref` (its whole content, or the Range asked), straight to the socket when there is one. */
async function content(r: RouteRequest, { backend, metrics }: RouteContext): Promise<Response> {
  const ref = refOf(r.params);
  const images = backend.as(r.actor).images;
  const image = await images.getImage(ref);
  const ifMatch = r.c.req.header('if-match');
  if (ifMatch !== undefined && ifMatch !== `"${image.digest}"` && ifMatch !== '*') {
    throw new AppError('CONFLICT', `${ref.name}:${ref.tag} now points at ${image.digest}, not ${ifMatch}`, {
      hint: 'the tag moved while you pulled: pull again',
    });
  }
  const range = parseRangeHeader(r.c.req.header('range'), image.size);
  if (range === 'unsatisfiable') return rangeNotSatisfiable(r, image.size);
  const bytes = await images.readContent(ref, image.digest, range ?? undefined);
  const { status, headers } = bytesAnswer(range, image.size);
  headers.etag = `"${image.digest}"`;
  return sendContent(r, status, headers, bytes, (n) => metrics.pulled(n));
}

export function imageRoutes(context: RouteContext): ApiRoute[] {
  const { backend } = context;
  const imageRoute = (r: RouteRequest): string => validateImageName(r.params.name ?? '');
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/images',
      summary: 'the images (name:tag) the caller may read, a page at a time (without recipes)',
      action: 'image.read',
      query: ImagePageQuery,
      ok: { status: 200, description: 'a page of images and the cursor of the next one', json: ImagePage },
      handler: (r) =>
        backend.as(r.actor).images.listImagePage({
          limit: pageLimit(r.query.limit, 'images', { default: IMAGE_PAGE_DEFAULT, max: IMAGE_PAGE_MAX }),
          cursor: r.query.cursor ?? null,
        }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'one image: digest, size, SHA-256, editions, who pushed it, lineage, recipe',
      action: 'image.read',
      image: imageRoute,
      parameters: [NAME_PARAM],
      ok: { status: 200, description: 'the image record', json: ImageRecord },
      handler: (r) => backend.as(r.actor).images.getImage(refOf(r.params)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'point this tag at the image another name:tag points at (tags move; history is kept)',
      action: 'image.tag',
      image: imageRoute,
      parameters: [NAME_PARAM],
      body: { json: TagRequest, description: 'the source image (the caller must be able to read it)' },
      ok: { status: 200, description: 'the image record under its new tag', json: ImageRecord },
      handler(r) {
        const source = { name: validateImageName(r.body.source.name), tag: validateTag(r.body.source.tag) };
        const principal = r.principal;
        if (principal === undefined || !inScope(principal, source.name)) {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may not read ${source.name}`, {
            hint: 'ask an admin for a scope that covers the source image',
          });
        }
        return backend.as(r.actor).images.tag(source, refOf(r.params));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'remove a tag (the content goes at the next gc if nothing else references it)',
      action: 'image.remove',
      image: imageRoute,
      parameters: [NAME_PARAM],
      ok: { status: 204, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).images.removeTag(refOf(r.params));
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/history',
      summary:
        'each move of the tag, newest first: when, by whom, the digest before and after (null: removed)',
      action: 'image.read',
      image: imageRoute,
      parameters: [NAME_PARAM],
      ok: { status: 200, description: 'the changes', json: TagHistory },
      handler: async (r) => ({ changes: await backend.as(r.actor).images.tagHistory(refOf(r.params)) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/manifest',
      summary:
        'the manifest of the image: its chunks in order (a pull checks the part it already has against it); If-Match "DIGEST" refuses a tag that moved',
      action: 'image.read',
      image: imageRoute,
      parameters: [
        NAME_PARAM,
        { name: 'if-match', in: 'header', description: 'the manifest digest in quotes' },
      ],
      ok: { status: 200, description: 'the manifest', json: Manifest },
      handler: (r) => manifest(r, context),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/content',
      summary: 'the image\'s exact bytes; one Range; If-Match "DIGEST" refuses a tag that moved',
      action: 'image.read',
      image: imageRoute,
      parameters: [
        NAME_PARAM,
        { name: 'range', in: 'header', description: 'bytes=START-END, bytes=START- or bytes=-SUFFIX' },
        { name: 'if-match', in: 'header', description: 'the manifest digest in quotes' },
      ],
      ok: {
        status: 200,
        contentType: 'application/octet-stream',
        description: 'the bytes (206 for a range)',
      },
      handler: (r) => content(r, context),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/files',
      summary: `one folder of an edition of a WIM image: its entries (folders first), at most ${DIR_PAGE_MAX} an answer, then follow next`,
      action: 'image.read',
      image: imageRoute,
      refusal: unseenImage,
      parameters: [NAME_PARAM],
      query: ImageFilesQuery,
      ok: { status: 200, description: 'a page of the folder', json: ImageDirectory },
      handler: (r) =>
        backend.listImageDirectory(
          refOf(r.params),
          wholeNumberIn('index', r.query.index, { min: 0, max: Number.MAX_SAFE_INTEGER, default: 1 }),
          r.query.path ?? '/',
          {
            offset: wholeNumberIn('offset', r.query.offset, {
              min: 0,
              max: Number.MAX_SAFE_INTEGER,
              default: 0,
            }),
            limit: wholeNumberIn('limit', r.query.limit, {
              min: 1,
              max: DIR_PAGE_MAX,
              default: DIR_PAGE_MAX,
            }),
          },
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/diff',
      summary:
        'what differs from this image to another (to=NAME:TAG): files, registry of the standard hives, drivers, unattend.xml; the caller must be able to read both',
      action: 'image.read',
      image: imageRoute,
      refusal: unseenImage,
      parameters: [NAME_PARAM],
      query: ImageDiffQuery,
      ok: { status: 200, description: 'the changes, and how many of each kind', json: ImageDiff },
      handler: (r) =>
        backend.diffImages(
          r.actor,
          {
            ...refOf(r.params),
            index: wholeNumberIn('index', r.query.index, {
              min: 0,
              max: Number.MAX_SAFE_INTEGER,
              default: 1,
            }),
          },
          {
            ...parseImageRef(r.query.to),
            index: wholeNumberIn('toIndex', r.query.toIndex, {
              min: 0,
              max: Number.MAX_SAFE_INTEGER,
              default: 1,
            }),
          },
        ),
    }),
  ];
}
