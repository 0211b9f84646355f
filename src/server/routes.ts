// The shape of an API route: one table both the hono app and the OpenAPI document are made from,
// so the two cannot drift. A route names its request body's and query's schemas (src/server/
// schemas.ts) and its answer's: the app validates what comes in against them and hands the handler
// typed values; the document writes them out as JSON Schema. Other parts of the server (the
// network-boot routes of src/boot) are hono apps mounted beside the table.

import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Action, Principal } from '../auth/roles.ts';
import type { AppError } from '../core/errors.ts';
import type { Actor } from '../app/session.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteRequest<Body = unknown, Query = unknown> {
  readonly c: Context;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Undefined on public routes. */
  readonly principal: Principal | undefined;
  readonly actor: Actor;
  /** The JSON body, validated (undefined for a route without one, or with bytes). */
  readonly body: Body;
  /** The query, validated. */
  readonly query: Query;
}

export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'header';
  readonly description: string;
}

/** A JSON body, or raw bytes of one content type. */
export type RouteBody =
  | { readonly json: z.ZodType; readonly description?: string; readonly maxBytes?: number }
  | { readonly bytes: string; readonly description: string; readonly maxBytes: number };

export interface RouteAnswer {
  readonly status: number;
  readonly description: string;
  /** A JSON answer's schema; absent for an empty answer, bytes or an event stream. */
  readonly json?: z.ZodType;
  /** The content type when not JSON. */
  readonly contentType?: string;
}

export interface ApiRoute<Body = unknown, Query = unknown> {
  readonly method: HttpMethod;
  /** OpenAPI form: '/api/v1/images/{name}/tags/{tag}'. */
  readonly path: string;
  readonly summary: string;
  /** What authorize() is asked; null for public routes (health, OpenAPI, login) and the agent's. */
  readonly action: Action | null;
  /**
   * 'agent': only a deploy agent calls it, with its deployment's token (not a user's); the handler
   * opens the agent's session with that token.
   */
  readonly caller?: 'agent';
  /** The image the request concerns, for scope checks; undefined when none. */
  readonly image?: (request: RouteRequest<Body, Query>) => string | Promise<string>;
  /**
   * What a caller who may not act on the route's image is answered instead of FORBIDDEN: an
   * upload a caller may not see is NOT_FOUND, so that its id alone tells nothing of its image.
   */
  readonly refusal?: (request: RouteRequest<Body, Query>) => AppError;
  /** Path and header parameters, described. */
  readonly parameters?: readonly OpenApiParameter[];
  readonly query?: z.ZodType<Query>;
  readonly body?: RouteBody;
  readonly ok: RouteAnswer;
  /** A value to answer as JSON with `ok.status`, or a whole Response (bytes, 204, a stream). */
  handler(request: RouteRequest<Body, Query>): unknown;
}

/**
 * A route whose handler is typed by its schemas: the body and query it receives are what the
 * schemas parse, and a JSON answer is what the answer's schema describes.
 */
export function defineRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  R extends z.ZodType = z.ZodUndefined,
>(
  route: Omit<ApiRoute<z.output<B>, z.output<Q>>, 'body' | 'query' | 'ok' | 'handler'> & {
    readonly query?: Q;
    readonly body?: (RouteBody & { readonly json: B }) | (RouteBody & { readonly bytes: string });
    readonly ok: RouteAnswer & { readonly json?: R };
    handler(
      request: RouteRequest<z.output<B>, z.output<Q>>,
    ): Promise<z.input<R> | Response> | z.input<R> | Response;
  },
): ApiRoute {
  return route as unknown as ApiRoute;
}

/**
 * A hono sub-app mounted at the root (the network-boot routes of src/boot: machines fetch them
 * before they have any token, so they are public). Its routes are listed in the OpenAPI document
 * from `app.routes`.
 */
export interface MountedApp {
  readonly name: string;
  readonly app: Hono;
}

/** A route as the OpenAPI document describes it. */
export type DocumentedRoute = Pick<
  ApiRoute,
  'method' | 'path' | 'summary' | 'action' | 'caller' | 'parameters' | 'query' | 'body' | 'ok'
>;

/** '/boot/files/:name' → '/boot/files/{name}' (OpenAPI's syntax). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
}

/** The routes of a mounted app, for the OpenAPI document (methods hono adds for ALL are left out). */
export function mountedRoutes(mount: MountedApp): DocumentedRoute[] {
  const seen = new Set<string>();
  const out: DocumentedRoute[] = [];
  for (const r of mount.app.routes) {
    const method = r.method.toUpperCase();
    if (!['GET', 'POST', 'PUT', 'DELETE', 'HEAD'].includes(method)) continue;
    const key = `${method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      method: method as HttpMethod,
      path: openApiPath(r.path),
      summary: `${mount.name}: ${method} ${r.path}`,
      action: null,
      ok: { status: 200, contentType: 'application/octet-stream', description: 'see the module' },
    });
  }
  return out;
}

/**
 * `value` without its undefined fields: an optional field a schema parsed is absent, as the
 * application's types (exactOptionalPropertyTypes) want it, not present and undefined.
 */
export function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** '/api/v1/images/{name}' → '/api/v1/images/:name' (hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}
