// What the HTTP API needs from the application (src/app/local-app.ts provides it): a Session for
// each caller it authenticated, the operations that come before there is a caller, and the limits
// it announces.

import type { Session, Actor, IssuedToken, ServerFigures } from '../app/session.ts';
import type { DirectoryPage, ImageDiffAnswer } from '../app/image-inspect.ts';
import type { ImageRef } from '../core/names.ts';
import type { Principal } from '../auth/roles.ts';
import type { ChunkerOptions } from '../store/chunker.ts';
import type { EventHub } from '../app/events.ts';
import type { AgentSession } from '../app/deployments.ts';
import type { ServiceStatuses } from './service-status.ts';
import type { ServerMetrics } from './metrics.ts';
import type { MetricsSettings } from '../config/server-config.ts';

export interface ServerBackend {
  /** What `actor` can do; every change is audited under its name and address. */
  as(actor: Actor): Session;
  /** The principal of a token, or null when it is unknown, revoked or expired. */
  authenticate(token: string): Promise<Principal | null>;
  /** A new token for a user whose password is right; rate-limited per user and client. */
  login(user: string, password: string, client: string): Promise<IssuedToken>;
  /** The image name an open upload is for (NOT_FOUND when there is no such upload). */
  uploadImageName(uploadId: string): Promise<string>;
  /** What the deploy agent holding `token` may do (UNAUTHORIZED when it opens no deployment under way). */
  agent(token: string, client: string): Promise<AgentSession>;
  /** The image name a deployment request, or a deployment, is of: for the caller's scope check. */
  deploymentImage(
    of: { readonly profile: string; readonly image?: string } | { readonly deployment: string },
  ): Promise<string>;
  /** The output image name of a build, for the caller's scope check. */
  buildImage(id: string): Promise<string>;
  /** The image name a build recipe's text stores into (no file looked at), for the caller's rights. */
  buildRecipeOutput(text: string, file: string): string | null;
  /** A page of one directory of a stored WIM image (the caller may read it: the route checked). */
  listImageDirectory(
    ref: ImageRef,
    index: number,
    path: string,
    page: { readonly offset: number; readonly limit: number },
  ): Promise<DirectoryPage>;
  /** What differs between two stored WIM images; NOT_FOUND, unnamed, for one `actor` may not read. */
  diffImages(
    actor: Actor,
    a: ImageRef & { readonly index: number },
    b: ImageRef & { readonly index: number },
  ): Promise<ImageDiffAnswer>;
  /** Deployments by state and the store's size, for GET /metrics. */
  figures(): Promise<ServerFigures>;
  /** Throws when the catalog or the blob store cannot be reached. */
  health(): Promise<void>;
  readonly chunking: ChunkerOptions;
  readonly maxChunkBytes: number;
  /** Chunks a manifest may list: the begin-upload body is limited to what that many take. */
  readonly maxManifestChunks: number;
}

/** What every route module is made from. */
export interface RouteContext {
  readonly backend: ServerBackend;
  readonly events: EventHub;
  readonly version: string;
  /** The state of each service of the server (/api/health). */
  readonly statuses: ServiceStatuses;
  /** What GET /metrics shows, and who may read it. */
  readonly metrics: ServerMetrics;
  readonly metricsAccess: MetricsSettings;
  /** The OpenAPI document, made once the whole table is known. */
  readonly document: () => unknown;
}
