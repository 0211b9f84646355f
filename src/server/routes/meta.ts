// The routes about the server itself: health, this document, password login, and how pushes are
// cut (chunk sizes and limits).

import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { Health, IssuedToken, LoginRequest, RepositoryInfo } from '../schemas.ts';

export function metaRoutes({ backend, version, document }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/health',
      summary: 'whether the server, its catalog and its blob store answer',
      action: null,
      ok: { status: 200, description: 'the server answers', json: Health },
      async handler() {
        await backend.health();
        return { status: 'ok' as const, version };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/openapi.json',
      summary: 'this document',
      action: null,
      ok: { status: 200, description: 'the OpenAPI 3.1 document' },
      handler: (r) => r.c.json(document() as object),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/login',
      summary: 'exchange a user name and password for a token (rate-limited)',
      action: null,
      body: { json: LoginRequest },
      ok: { status: 200, description: 'the token, shown this once', json: IssuedToken },
      handler: (r) => backend.login(r.body.user, r.body.password, r.actor.client),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/repository',
      summary: 'how pushes are cut into chunks, and the limits of a push',
      action: 'image.read',
      ok: { status: 200, description: 'chunk sizes and limits', json: RepositoryInfo },
      handler: () => ({
        chunking: backend.chunking,
        maxChunkBytes: backend.maxChunkBytes,
        maxManifestChunks: backend.maxManifestChunks,
      }),
    }),
  ];
}
