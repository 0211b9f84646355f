// The routes about the server itself: health (with each service's state), metrics, this document,
// password login, and how pushes are cut (chunk sizes and limits).

import { bearer } from '../bearer.ts';
import { metricsGate } from '../metrics-access.ts';
import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { Health, IssuedToken, LoginRequest, RepositoryInfo } from '../schemas.ts';

export function metaRoutes(context: RouteContext): ApiRoute[] {
  const { backend, version, document, statuses, metrics } = context;
  const mayScrape = metricsGate(context.metricsAccess);
  return [
    defineRoute({
      method: 'GET',
      path: '/api/health',
      summary: "whether the server, its catalog and its blob store answer; each service's state",
      action: null,
      ok: { status: 200, description: 'the server answers', json: Health },
      async handler() {
        await backend.health();
        return { status: 'ok' as const, version, services: statuses.all() };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/metrics',
      summary:
        "the server's metrics in Prometheus's text format (to the addresses of metrics.allow, or with the metrics token)",
      action: null,
      ok: { status: 200, contentType: 'text/plain; version=0.0.4', description: 'the metrics' },
      async handler(r) {
        mayScrape(r.actor.client, bearer(r.c));
        return r.c.body(await metrics.text(), 200, { 'content-type': metrics.contentType });
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
