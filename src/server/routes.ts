// The shape of an API route: one table both the hono app and the OpenAPI document are made from,
// so the two cannot drift. Other parts of the server (the network-boot routes of src/boot) bring
// their own tables as RouteModules.

import type { Context, Hono } from 'hono';
import type { Action, Principal } from '../auth/roles.ts';
import type { AppError } from '../core/errors.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** Who is asking: for the audit log, and for what a push may reuse. */
export interface Actor {
  readonly user: string;
  readonly client: string;
  /** Image-name prefixes the caller may read; absent: every image. */
  readonly readScopes?: readonly string[];
}

export interface RouteRequest {
  readonly c: Context;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Undefined on public routes. */
  readonly principal: Principal | undefined;
  readonly actor: Actor;
}

export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required?: boolean;
  readonly description: string;
}

export interface ApiRoute {
  readonly method: HttpMethod;
  /** OpenAPI form: '/api/v1/images/{name}/tags/{tag}'. */
  readonly path: string;
  readonly summary: string;
  /** What authorize() is asked; null for public routes (health, OpenAPI, login, boot). */
  readonly action: Action | null;
  /** The image the request concerns, for scope checks; undefined when none. */
  readonly image?: (request: RouteRequest) => string | Promise<string>;
  /**
   * What a caller who may not act on the route's image is answered instead of FORBIDDEN: an
   * upload a caller may not see is NOT_FOUND, so that its id alone tells nothing of its image.
   */
  readonly refusal?: (request: RouteRequest) => AppError;
  readonly parameters?: readonly OpenApiParameter[];
  /**
   * OpenAPI requestBody content types and a description, and the most bytes the body may have
   * (default: the server's JSON limit). A longer body is refused before the handler runs.
   */
  readonly body?: { readonly contentType: string; readonly description: string; readonly maxBytes?: number };
  /** Successful status and what it returns. */
  readonly ok: { readonly status: number; readonly contentType: string; readonly description: string };
  handler(request: RouteRequest): Promise<Response> | Response;
}

export interface RouteModule {
  readonly name: string;
  readonly routes: readonly ApiRoute[];
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
export type DocumentedRoute = Omit<ApiRoute, 'handler' | 'image' | 'refusal'>;

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

/** '/api/v1/images/{name}' → '/api/v1/images/:name' (hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}
