// The HTTP API of `winsmith server` as a hono app. Every route comes from a table (routes/), which
// also makes the OpenAPI document. A request's body is limited before it is read; each non-public
// route needs a Bearer token and passes authorize() (src/auth/roles.ts) for its action, then its
// body and query are validated against the route's schemas, then, when it concerns one image, the
// caller's scopes are checked on that image's name. Errors are AppErrors answered as
// { error: { code, message, hint } } with httpStatusOf(code).

import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { bodyLimit } from 'hono/body-limit';
import type { Principal } from '../auth/roles.ts';
import { authorize } from '../auth/roles.ts';
import {
  DEFAULT_MAX_JSON_BODY_BYTES,
  DEFAULT_METRICS_ALLOW,
  type MetricsSettings,
} from '../config/server-config.ts';
import { httpStatusOf } from '../core/error-codes.ts';
import { AppError, isAppError } from '../core/errors.ts';
import { actorOf } from '../app/session.ts';
import type { ServerBackend } from './backend.ts';
import { apiRoutes } from './routes/index.ts';
import type { EventHub } from '../app/events.ts';
import type { Logger } from './log.ts';
import { openApiDocument } from './openapi.ts';
import { bearer } from './bearer.ts';
import { declaredLengthLimit, incomingOf } from './receive-bytes.ts';
import { routePath } from 'hono/route';
import { ServerMetrics } from './metrics.ts';
import { ServiceStatuses } from './service-status.ts';
import {
  honoPath,
  mountedRoutes,
  openApiPath,
  type ApiRoute,
  type DocumentedRoute,
  type MountedApp,
  type RouteRequest,
} from './routes.ts';

export interface AppOptions {
  readonly backend: ServerBackend;
  readonly events: EventHub;
  readonly logger: Logger;
  /** Hono sub-apps mounted at the root (network-boot routes), public, documented from their routes. */
  readonly mounts?: readonly MountedApp[];
  readonly version: string;
  /**
   * The most bytes a request body may have unless its route says otherwise (default 1 MiB: JSON
   * requests are small; the routes that take more, manifests and chunks, say how much).
   */
  readonly maxJsonBodyBytes?: number;
  /** The state of each service, for /api/health; a new one (nothing started) when absent. */
  readonly statuses?: ServiceStatuses;
  /** What GET /metrics shows; new ones (without the process's figures) when absent. */
  readonly metrics?: ServerMetrics;
  /** Who may read GET /metrics; this machine only when absent. */
  readonly metricsAccess?: MetricsSettings;
}

export interface ServerApp {
  readonly app: Hono;
  /** Every route served (the OpenAPI document lists the same). */
  readonly routes: readonly DocumentedRoute[];
}

export function errorResponse(c: Context, e: AppError): Response {
  if (e.retryAfterSeconds !== undefined) c.header('retry-after', String(e.retryAfterSeconds));
  return c.json(
    { error: { code: e.code, message: e.message, hint: e.hint ?? null } },
    httpStatusOf(e.code) as 400,
  );
}

/** The client's address as the socket saw it ('unknown' in-process). */
function clientOf(c: Context): string {
  return incomingOf(c)?.socket.remoteAddress ?? 'unknown';
}

/**
 * The route a request matched, as the OpenAPI document names it ('/api/v1/images/{name}/tags/{tag}'),
 * for the metrics' labels: a pattern, not the path, so that their number stays small.
 */
function routeLabel(c: Context): string {
  const path = routePath(c, -1);
  return path === '' || path.endsWith('*') ? 'unmatched' : openApiPath(path);
}

/** `value` as `schema` parses it; USAGE naming the first field found wrong otherwise. */
function parsed(schema: z.ZodType | undefined, value: unknown, what: string): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  throw new AppError('USAGE', `${what}${where}: ${issue?.message ?? 'not valid'}`, {
    hint: 'see the request schema in /api/openapi.json',
  });
}

/** The route's JSON body, parsed and validated; undefined for a route without one, or with bytes. */
async function bodyOf(c: Context, route: ApiRoute): Promise<unknown> {
  const body = route.body;
  if (body === undefined || !('json' in body)) return undefined;
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new AppError('USAGE', 'the request body is not JSON', {
      hint: 'send a JSON object with content-type application/json',
    });
  }
  return parsed(body.json, value, 'the request body');
}

export function createApp(options: AppOptions): ServerApp {
  const { backend, logger } = options;
  const app = new Hono();
  /** Who made each request, for the request log. */
  const userOf = new WeakMap<Request, string>();
  const routes: ApiRoute[] = [];
  const documented: DocumentedRoute[] = [];
  const metrics = options.metrics ?? new ServerMetrics({ figures: () => backend.figures() });
  routes.push(
    ...apiRoutes({
      backend,
      events: options.events,
      version: options.version,
      statuses: options.statuses ?? new ServiceStatuses(),
      metrics,
      metricsAccess: options.metricsAccess ?? { token: null, allow: DEFAULT_METRICS_ALLOW },
      document: () => openApiDocument(documented, options.version),
    }),
  );
  documented.push(...routes, ...(options.mounts ?? []).flatMap(mountedRoutes));

  /** The caller of a route that needs one, from its Bearer token; undefined on a public route. */
  const authenticated = async (c: Context, route: ApiRoute): Promise<Principal | undefined> => {
    if (route.action === null) return undefined;
    const token = bearer(c);
    if (token === null) {
      throw new AppError('UNAUTHORIZED', `${route.method} ${route.path} needs a token`, {
        hint: "send 'Authorization: Bearer TOKEN'; run 'winsmith login URL' to get one",
      });
    }
    const found = await backend.authenticate(token);
    if (found === null) {
      throw new AppError('UNAUTHORIZED', 'the token is unknown, revoked or expired', {
        hint: "run 'winsmith login URL' again",
      });
    }
    return found;
  };

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    metrics.request(c.req.method, routeLabel(c), c.res.status, ms / 1000);
    logger.log('info', 'request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(ms),
      client: clientOf(c),
      user: userOf.get(c.req.raw) ?? null,
    });
  });

  const jsonLimit = options.maxJsonBodyBytes ?? DEFAULT_MAX_JSON_BODY_BYTES;
  for (const route of routes) {
    // A body over the limit is refused as soon as its declared length says so, or as soon as that
    // many bytes have come when no length was declared, before authentication and before the
    // handler: nothing past the limit is ever held. The connection is closed with the answer, so
    // the rest of the body is not read either. A body of bytes (a chunk) must declare its length:
    // Node's parser then ends it there, and it is read straight from the connection (hono's
    // limit would read it through a web stream, which cost as much CPU as storing the chunk).
    const maxSize = route.body?.maxBytes ?? jsonLimit;
    const tooBig = (c: Context): Response => {
      c.header('connection', 'close');
      return errorResponse(
        c,
        new AppError(
          'LIMIT_EXCEEDED',
          `the request body is over ${maxSize} bytes, the limit of ${route.method} ${route.path}`,
          { hint: 'send a smaller body' },
        ),
      );
    };
    const readByHono = bodyLimit({ maxSize, onError: tooBig });
    const limit =
      route.body !== undefined && 'bytes' in route.body
        ? declaredLengthLimit(`${route.method} ${route.path}`, maxSize, tooBig, readByHono)
        : readByHono;
    app.on(route.method, honoPath(route.path), limit, async (c) => {
      const principal = await authenticated(c, route);
      if (principal !== undefined) userOf.set(c.req.raw, principal.name);
      const actor = actorOf(principal, clientOf(c));
      // The role first (it needs no body), then the body and query, then the image's scope (its
      // name may be in the body).
      const base = { c, params: c.req.param(), principal, actor };
      const refuse = (request: RouteRequest, image?: string): AppError =>
        route.refusal?.(request) ??
        new AppError(
          'FORBIDDEN',
          `user ${actor.user} (${principal?.role ?? 'none'}) may not ${route.action ?? ''}${image === undefined ? '' : ` on ${image}`}`,
          { hint: 'ask an admin for a role or scope that allows it' },
        );
      if (route.action !== null && !authorize(principal, route.action)) {
        throw refuse({ ...base, body: undefined, query: undefined });
      }
      const request: RouteRequest = {
        ...base,
        body: await bodyOf(c, route),
        query: parsed(route.query, c.req.query(), 'the query'),
      };
      if (route.action !== null && route.image !== undefined) {
        const image = await route.image(request);
        if (!authorize(principal, route.action, image)) throw refuse(request, image);
      }
      const answer = await route.handler(request);
      return answer instanceof Response ? answer : c.json(answer as object, route.ok.status as 200);
    });
  }

  for (const mount of options.mounts ?? []) app.route('/', mount.app);

  app.notFound((c) =>
    errorResponse(
      c,
      new AppError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`, { hint: 'see /api/openapi.json' }),
    ),
  );
  app.onError((e, c) => {
    if (isAppError(e)) return errorResponse(c, e);
    logger.log('error', 'unexpected failure', { path: c.req.path, error: e.message, stack: e.stack ?? null });
    return errorResponse(
      c,
      new AppError('INTERNAL', 'unexpected failure in the server', { hint: 'see the server log' }),
    );
  });
  return { app, routes: documented };
}
