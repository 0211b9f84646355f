// The routes of the repository API (/api/health, /api/openapi.json, /api/v1/...): what each does,
// who may call it (an action of src/auth/roles.ts and, for one image, its name) and its handler.
// Image names travel percent-encoded in one path segment ('team-a%2Fws2022'); hono decodes them and
// parseImageRef-style validation refuses '..', control characters and anything else odd.

import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { streamSSE } from 'hono/streaming';
import type { Principal } from '../auth/roles.ts';
import { authorize, inScope } from '../auth/roles.ts';
import { AppError } from '../core/errors.ts';
import { contentRange, parseRangeHeader } from '../formats/http-range.ts';
import type { ProgressListener } from '../core/progress.ts';
import type { ChunkerOptions } from '../store/chunker.ts';
import { validateImageName, validateTag, type ImageRef } from '../store/catalog/names.ts';
import { isDigest, validateManifest } from '../store/manifest.ts';
import {
  IMAGE_PAGE_DEFAULT,
  IMAGE_PAGE_MAX,
  type ArtifactMeta,
  type ImagePage,
  type Repository,
} from '../store/repository.ts';
import type { EventHub, JobAudience, JobEvent } from './events.ts';
import type { Actor, ApiRoute, RouteRequest } from './routes.ts';

/** What the API needs from the repository and the accounts (LocalRepository provides it). */
export interface ServerBackend {
  /** The repository acting for `actor` (every change audited under that name and address). */
  as(actor: Actor): Repository;
  /** A page of the images the actor may read. */
  listImagePage(
    actor: Actor,
    query: { readonly limit: number; readonly cursor: string | null },
  ): Promise<ImagePage>;
  /** The image name an open upload is for (NOT_FOUND when there is no such upload). */
  uploadImageName(uploadId: string): Promise<string>;
  /** The principal of a token, or null when it is unknown, revoked or expired. */
  authenticate(token: string): Promise<Principal | null>;
  /** A new token for a user whose password is right; rate-limited per user and client. */
  login(user: string, password: string, client: string): Promise<{ token: string; expiresAt: string | null }>;
  /** The created user; `password` is given back only when it was generated. */
  addUser(actor: Actor, user: NewUser): Promise<{ name: string; password: string; generated: boolean }>;
  listUsers(): Promise<unknown[]>;
  createToken(
    actor: Actor,
    request: { readonly name: string; readonly user: string; readonly expiresInDays: number | null },
  ): Promise<{ token: string; expiresAt: string | null }>;
  listAudit(limit: number): Promise<unknown[]>;
  /** Throws when the catalog or the blob store cannot be reached. */
  health(): Promise<void>;
  readonly chunking: ChunkerOptions;
  readonly maxChunkBytes: number;
  /** Chunks a manifest may list: the begin-upload body is limited to what that many take. */
  readonly maxManifestChunks: number;
}

/**
 * The most bytes of a begin-upload request with a manifest of `chunks` chunks: each chunk entry
 * takes 94 bytes at most in canonical JSON (`{"digest":"<64 hex>","size":16777216},`), and the name,
 * tag and the rest of the manifest far less than 4 KiB.
 */
export function manifestBodyBytes(chunks: number): number {
  return 4096 + 96 * chunks;
}

export interface NewUser {
  readonly name: string;
  /** Generated when absent. */
  readonly password?: string;
  readonly role: string;
  readonly scopes: readonly string[];
}

export interface ApiRoutesOptions {
  readonly backend: ServerBackend;
  readonly events: EventHub;
  readonly version: string;
  readonly document: () => unknown;
}

const JSON_TYPE = 'application/json';
const NAME_PARAM = {
  name: 'name',
  in: 'path',
  description: "image name, percent-encoded as one segment ('team-a%2Fws2022')",
} as const;
/** Audit entries one request returns at most. */
const MAX_AUDIT_ENTRIES = 1000;

function refOf(params: Readonly<Record<string, string>>): ImageRef {
  return { name: validateImageName(params.name ?? ''), tag: validateTag(params.tag ?? '') };
}

async function jsonBody(r: RouteRequest): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await r.c.req.json();
  } catch {
    throw new AppError('USAGE', 'the request body is not JSON', {
      hint: 'send a JSON object with content-type application/json',
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('USAGE', 'the request body is not a JSON object', { hint: 'send a JSON object' });
  }
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string') {
    throw new AppError(
      'USAGE',
      `field '${key}' must be a string, found ${v === undefined ? 'nothing' : typeof v}`,
      {
        hint: `give '${key}' in the JSON body`,
      },
    );
  }
  return v;
}

function metaOf(value: unknown): ArtifactMeta {
  const m = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const digestOrNull = (k: string): string | null => {
    const v = m[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || !isDigest(v)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `meta.${k} must be a SHA-256 (64 lowercase hex digits) or null`,
        {
          hint: 'give the digest as printed by winsmith images --json',
        },
      );
    }
    return v;
  };
  if (m.editions !== undefined && !Array.isArray(m.editions)) {
    throw new AppError('USAGE', 'meta.editions must be a list', {
      hint: 'send the editions as image info lists them',
    });
  }
  const mediaType = m.mediaType ?? 'application/octet-stream';
  if (typeof mediaType !== 'string')
    throw new AppError('USAGE', 'meta.mediaType must be a string', { hint: 'e.g. application/x-wim' });
  return {
    mediaType,
    editions: (m.editions as unknown[] | undefined) ?? [],
    parentDigest: digestOrNull('parentDigest'),
    recipe: m.recipe ?? null,
    sourceIsoSha256: digestOrNull('sourceIsoSha256'),
  };
}

/** 416 with the JSON error body and a Content-Range of the whole size (RFC 9110 §15.5.17). */
function rangeNotSatisfiable(r: RouteRequest, size: number): Response {
  const e = new AppError(
    'RANGE_NOT_SATISFIABLE',
    `range '${r.c.req.header('range') ?? ''}' is not one range within ${size} bytes`,
    {
      hint: 'ask for one range bytes=START-END, bytes=START- or bytes=-SUFFIX within the size',
    },
  );
  return r.c.json({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, 416, {
    'content-range': contentRange(null, size),
  });
}

function progressTo(events: EventHub, job: string, audience: JobAudience): ProgressListener {
  let last = 0;
  return (progress) => {
    const now = Date.now();
    if (now - last < 100 && progress.done < progress.total) return;
    last = now;
    events.publish({ job, audience, kind: 'progress', progress });
  };
}

async function runJob<T>(
  events: EventHub,
  kind: string,
  audience: JobAudience,
  work: (progress: ProgressListener) => Promise<T>,
): Promise<T> {
  const job = events.newJob(kind);
  try {
    const result = await work(progressTo(events, job, audience));
    events.publish({ job, audience, kind: 'done', result });
    return result;
  } catch (e) {
    const error =
      e instanceof AppError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: 'failed' };
    events.publish({ job, audience, kind: 'failed', error });
    throw e;
  }
}

export function apiRoutes(options: ApiRoutesOptions): ApiRoute[] {
  const { backend, events } = options;
  const json = (description: string, status = 200) => ({ status, contentType: JSON_TYPE, description });
  const imageRoute = (r: RouteRequest): string => validateImageName(r.params.name ?? '');
  const uploadImage = (r: RouteRequest): Promise<string> => backend.uploadImageName(r.params.id ?? '');
  const noUpload = (r: RouteRequest): AppError =>
    new AppError('NOT_FOUND', `no upload ${JSON.stringify((r.params.id ?? '').slice(0, 80))}`, {
      hint: 'start the push again',
    });

  return [
    {
      method: 'GET',
      path: '/api/health',
      summary: 'whether the server, its catalog and its blob store answer',
      action: null,
      ok: json('{ status: "ok", version }'),
      async handler(r) {
        await backend.health();
        return r.c.json({ status: 'ok', version: options.version });
      },
    },
    {
      method: 'GET',
      path: '/api/openapi.json',
      summary: 'this document',
      action: null,
      ok: json('the OpenAPI 3.1 document'),
      handler: (r) => r.c.json(options.document() as object),
    },
    {
      method: 'POST',
      path: '/api/v1/login',
      summary: 'exchange a user name and password for a token (rate-limited)',
      action: null,
      body: { contentType: JSON_TYPE, description: '{ user, password }' },
      ok: json('{ token, expiresAt }: the token is shown this once'),
      async handler(r) {
        const body = await jsonBody(r);
        const result = await backend.login(
          stringField(body, 'user'),
          stringField(body, 'password'),
          r.actor.client,
        );
        return r.c.json(result);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/repository',
      summary: 'how pushes are cut into chunks and the largest chunk accepted',
      action: 'image.read',
      ok: json('{ chunking: { minSize, avgSize, maxSize }, maxChunkBytes }'),
      handler: (r) => r.c.json({ chunking: backend.chunking, maxChunkBytes: backend.maxChunkBytes }),
    },
    {
      method: 'POST',
      path: '/api/v1/uploads',
      summary: 'open a push: send the manifest, get the chunk digests the server lacks',
      action: 'image.push',
      image: async (r) => validateImageName(stringField(await jsonBody(r), 'name')),
      body: {
        contentType: JSON_TYPE,
        description: '{ name, tag, manifest: { schemaVersion, mediaType, size, sha256, chunks } }',
        maxBytes: manifestBodyBytes(backend.maxManifestChunks),
      },
      ok: json('{ id, missing: [digest] }', 201),
      async handler(r) {
        const body = await jsonBody(r);
        const ref = {
          name: validateImageName(stringField(body, 'name')),
          tag: validateTag(stringField(body, 'tag')),
        };
        const session = await backend.as(r.actor).beginUpload(ref, validateManifest(body.manifest));
        return r.c.json(session, 201);
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/uploads/{id}/chunks/{digest}',
      summary: 'send one chunk of an open push; its SHA-256 must be its digest',
      action: 'image.push',
      image: uploadImage,
      refusal: noUpload,
      body: {
        contentType: 'application/octet-stream',
        description: 'the chunk bytes',
        maxBytes: backend.maxChunkBytes,
      },
      ok: { status: 204, contentType: JSON_TYPE, description: 'stored (or already there)' },
      async handler(r) {
        const bytes = new Uint8Array(await r.c.req.arrayBuffer());
        await backend.as(r.actor).putChunk(r.params.id ?? '', r.params.digest ?? '', bytes);
        return r.c.body(null, 204);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/uploads/{id}/commit',
      summary:
        'finish a push: every chunk is verified stored, then manifest, artifact and tag are written at once',
      action: 'image.push',
      image: uploadImage,
      refusal: noUpload,
      body: {
        contentType: JSON_TYPE,
        description: '{ meta: { editions, parentDigest, recipe, sourceIsoSha256 } }',
      },
      ok: json('the image record', 201),
      async handler(r) {
        const body = await jsonBody(r);
        return r.c.json(await backend.as(r.actor).commitUpload(r.params.id ?? '', metaOf(body.meta)), 201);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/images',
      summary: 'the images (name:tag) the caller may read, a page at a time (without recipes)',
      action: 'image.read',
      parameters: [
        {
          name: 'limit',
          in: 'query',
          description: `images a page, 1 to ${IMAGE_PAGE_MAX} (default ${IMAGE_PAGE_DEFAULT})`,
        },
        { name: 'cursor', in: 'query', description: 'the next of the previous page' },
      ],
      ok: json('{ images: [image record without recipe], next: cursor | null }'),
      async handler(r) {
        const limit = Number(r.c.req.query('limit') ?? IMAGE_PAGE_DEFAULT);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > IMAGE_PAGE_MAX) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `limit must be 1 to ${IMAGE_PAGE_MAX}, found ${JSON.stringify(r.c.req.query('limit'))}`,
            {
              hint: `ask for at most ${IMAGE_PAGE_MAX} images a page and follow next`,
            },
          );
        }
        return r.c.json(
          await backend.listImagePage(r.actor, { limit, cursor: r.c.req.query('cursor') ?? null }),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'one image: digest, size, SHA-256, editions, who pushed it, lineage',
      action: 'image.read',
      image: imageRoute,
      parameters: [NAME_PARAM],
      ok: json('the image record'),
      async handler(r) {
        return r.c.json(await backend.as(r.actor).getImage(refOf(r.params)));
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'point this tag at the image another name:tag points at (tags move; history is kept)',
      action: 'image.tag',
      image: imageRoute,
      parameters: [NAME_PARAM],
      body: {
        contentType: JSON_TYPE,
        description: '{ source: { name, tag } } (the caller must be able to read it)',
      },
      ok: json('the image record under its new tag'),
      async handler(r) {
        const body = await jsonBody(r);
        const src = (body.source ?? {}) as Record<string, unknown>;
        const source = {
          name: validateImageName(stringField(src, 'name')),
          tag: validateTag(stringField(src, 'tag')),
        };
        const principal = r.principal;
        if (principal === undefined || !inScope(principal, source.name)) {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may not read ${source.name}`, {
            hint: 'ask an admin for a scope that covers the source image',
          });
        }
        return r.c.json(await backend.as(r.actor).tag(source, refOf(r.params)));
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/images/{name}/tags/{tag}',
      summary: 'remove a tag (the content goes at the next gc if nothing else references it)',
      action: 'image.remove',
      image: imageRoute,
      parameters: [NAME_PARAM],
      ok: { status: 204, contentType: JSON_TYPE, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).removeTag(refOf(r.params));
        return r.c.body(null, 204);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/images/{name}/tags/{tag}/content',
      summary: 'the image\'s exact bytes; Range supported; If-Match "DIGEST" refuses a tag that moved',
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
      async handler(r) {
        const ref = refOf(r.params);
        const repo = backend.as(r.actor);
        const image = await repo.getImage(ref);
        const ifMatch = r.c.req.header('if-match');
        if (ifMatch !== undefined && ifMatch !== `"${image.digest}"` && ifMatch !== '*') {
          throw new AppError(
            'CONFLICT',
            `${ref.name}:${ref.tag} now points at ${image.digest}, not ${ifMatch}`,
            {
              hint: 'the tag moved while you pulled: pull again',
            },
          );
        }
        const range = parseRangeHeader(r.c.req.header('range'), image.size);
        if (range === 'unsatisfiable') return rangeNotSatisfiable(r, image.size);
        const content = await repo.readContent(ref, image.digest, range ?? undefined);
        const headers: Record<string, string> = {
          'content-type': 'application/octet-stream',
          'content-length': String(range === null ? image.size : range.end - range.start + 1),
          'accept-ranges': 'bytes',
          etag: `"${image.digest}"`,
        };
        if (range !== null) headers['content-range'] = contentRange(range, image.size);
        const status = range === null ? 200 : 206;
        const outgoing = (r.c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
        if (outgoing !== undefined) {
          // On a real socket the bytes go straight to it with Node's own back-pressure (no web
          // stream in between): two reused buffers per pull on a filesystem store. A failure
          // part-way cuts the connection, so the client sees a short body, never a wrong one.
          outgoing.writeHead(status, headers);
          content.writeTo(outgoing).then(
            () => outgoing.end(),
            () => outgoing.destroy(),
          );
          return RESPONSE_ALREADY_SENT;
        }
        return new Response(Readable.toWeb(content.stream) as ReadableStream, {
          status,
          headers,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/store/stats',
      summary: 'logical bytes (sum of artifact sizes), stored bytes, chunks, artifacts',
      action: 'store.read',
      ok: json('{ logicalBytes, storedBytes, chunks, artifacts }'),
      async handler(r) {
        return r.c.json(await backend.as(r.actor).stats());
      },
    },
    {
      method: 'POST',
      path: '/api/v1/store/check',
      summary: 'verify every chunk and manifest (progress on /api/v1/events)',
      action: 'store.check',
      ok: json('the check report'),
      async handler(r) {
        const repo = backend.as(r.actor);
        const audience = { action: 'store.check', image: null } as const;
        return r.c.json(await runJob(events, 'check', audience, (p) => repo.check(p)));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/store/gc',
      summary:
        'delete chunks no manifest references, older than the grace period (progress on /api/v1/events)',
      action: 'store.gc',
      ok: json('the gc report'),
      async handler(r) {
        const repo = backend.as(r.actor);
        const audience = { action: 'store.gc', image: null } as const;
        return r.c.json(await runJob(events, 'gc', audience, (p) => repo.gc(p)));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/users',
      summary: 'the users, their roles and scopes',
      action: 'users.manage',
      ok: json('{ users }'),
      async handler(r) {
        return r.c.json({ users: await backend.listUsers() });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/users',
      summary: 'add a user',
      action: 'users.manage',
      body: {
        contentType: JSON_TYPE,
        description:
          '{ name, password?, role, scopes } (a password is generated and returned once when absent)',
      },
      ok: json('the user (without password)', 201),
      async handler(r) {
        const body = await jsonBody(r);
        const scopes = body.scopes ?? [];
        if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
          throw new AppError('USAGE', 'scopes must be a list of image-name prefixes', {
            hint: 'e.g. ["team-a/"]',
          });
        }
        const user = {
          name: stringField(body, 'name'),
          ...(body.password === undefined ? {} : { password: stringField(body, 'password') }),
          role: stringField(body, 'role'),
          scopes,
        };
        const created = await backend.addUser(r.actor, user);
        const { password, generated, ...shown } = created;
        return r.c.json(generated ? { ...shown, password } : shown, 201);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tokens',
      summary: "create an API token (one's own; an admin's for anyone); shown this once",
      action: 'tokens.own',
      body: { contentType: JSON_TYPE, description: '{ name, user?, expiresInDays? }' },
      ok: json('{ token, expiresAt }', 201),
      async handler(r) {
        const body = await jsonBody(r);
        const user = typeof body.user === 'string' ? body.user : r.actor.user;
        if (user !== r.actor.user && r.principal?.role !== 'admin') {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may create tokens only for themselves`, {
            hint: 'leave out user, or ask an admin',
          });
        }
        const days = body.expiresInDays;
        if (days !== undefined && days !== null && typeof days !== 'number') {
          throw new AppError('INVALID_ARGUMENT', 'expiresInDays must be a number of days', {
            hint: 'e.g. 90',
          });
        }
        const name = typeof body.name === 'string' ? body.name : 'api';
        return r.c.json(await backend.createToken(r.actor, { name, user, expiresInDays: days ?? null }), 201);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit',
      summary: 'the audit log, newest first: who changed what, when, from where',
      action: 'audit.read',
      parameters: [
        { name: 'limit', in: 'query', description: `entries, at most ${MAX_AUDIT_ENTRIES} (default 100)` },
      ],
      ok: json('{ entries }'),
      async handler(r) {
        const limit = Math.min(MAX_AUDIT_ENTRIES, Math.max(1, Number(r.c.req.query('limit') ?? 100) || 100));
        return r.c.json({ entries: await backend.listAudit(limit) });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/events',
      summary:
        'server-sent events: progress of long jobs (store check, gc) the caller may run or whose image it may read',
      action: 'store.read',
      ok: {
        status: 200,
        contentType: 'text/event-stream',
        description: 'one event per progress step, done or failure',
      },
      handler(r) {
        return streamSSE(r.c, async (stream) => {
          const queue: JobEvent[] = [];
          let wake: (() => void) | null = null;
          const unsubscribe = events.subscribe((e) => {
            if (!authorize(r.principal, e.audience.action, e.audience.image ?? undefined)) return;
            queue.push(e);
            wake?.();
          });
          const state = { open: true };
          const isOpen = (): boolean => state.open;
          stream.onAbort(() => {
            state.open = false;
            wake?.();
          });
          try {
            await stream.writeSSE({ event: 'ready', data: '{}' });
            while (isOpen()) {
              const next = queue.shift();
              if (next === undefined) {
                await new Promise<void>((resolve) => {
                  wake = resolve;
                  setTimeout(resolve, 15_000).unref();
                });
                wake = null;
                if (queue.length === 0 && isOpen()) await stream.writeSSE({ event: 'ping', data: '{}' });
                continue;
              }
              await stream.writeSSE({ event: next.kind, data: JSON.stringify(next) });
            }
          } finally {
            unsubscribe();
          }
        });
      },
    },
  ];
}
