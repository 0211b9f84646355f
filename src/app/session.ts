// What one caller can do with winsmith, whoever serves it: a Session is the same set of operations
// on a data directory (the stores, acting for the local user) and on a `winsmith server` (over its
// HTTP API, acting for the token's user). The CLI works on a Session and does not know which;
// the server builds one per request for the caller it authenticated.

import type { AuditEntry, AuditPage, AuditQuery } from '../audit/audit-log.ts';
import type { Action, Principal } from '../auth/roles.ts';
import type { TokenKind } from '../auth/account-store.ts';
import type { ProgressEvent } from '../core/progress.ts';
import type { Repository, StoreStats } from '../store/repository.ts';

export { IMAGE_PAGE_DEFAULT, IMAGE_PAGE_MAX } from '../store/repository.ts';
export { MACHINE_PAGE_DEFAULT, MACHINE_PAGE_MAX, MACHINE_STATES } from '../machines/machine-store.ts';
export type { MachinePage } from '../machines/machine-store.ts';
export {
  AGENT_PATHS,
  AgentReport,
  AgentTask,
  AnyAgentTask,
  CaptureChunkAnswer,
  CaptureChunkQuery,
  CaptureResult,
  DEPLOYMENT_STATES,
  MULTICAST_RECEIVER_STATES,
  MulticastJoin,
  ShareFiles,
} from '../deploy/agent-protocol.ts';
export { MULTICAST_SESSION_STATES } from '../deploy/multicast-store.ts';
export { MAX_MULTICAST_MACHINES } from './deployments.ts';
export { DEPLOYMENT_PAGE_DEFAULT, DEPLOYMENT_PAGE_MAX } from '../deploy/deployment-store.ts';
export { BUILD_STATES } from './builds.ts';
export { PROFILE_SECRET_MASK } from '../deploy/profile.ts';
import type { BuildView } from './builds.ts';
import type { DeploymentState } from '../deploy/agent-protocol.ts';
import {
  MACHINE_PAGE_MAX,
  type Machine,
  type MachineChanges,
  type MachineFilter,
  type MachinePage,
  type MachinePageQuery,
  type NewMachine,
} from '../machines/machine-store.ts';
import type {
  CaptureRequest,
  DeploymentRequest,
  DeploymentView,
  MulticastRequest,
  ProfileView,
} from './deployments.ts';

/** What a server's metrics show of its application: deployments by state, the store's size. */
export interface ServerFigures {
  readonly deployments: Readonly<Record<DeploymentState, number>>;
  readonly store: StoreStats;
}

/** Who acts: the name the audit log records, where from, and what the actor may read. */
export interface Actor {
  readonly user: string;
  /** A client address, or `local` for the CLI on a data directory. */
  readonly client: string;
  /**
   * Image-name prefixes the actor may read, which bound what a push may reuse and what listings,
   * checks and events show; absent: every image (admins, unscoped users, the local CLI).
   */
  readonly readScopes?: readonly string[];
  /** When the API token the actor holds expires: tokens it makes expire by then (absent: no bound). */
  readonly tokenExpiresAt?: string;
}

/** What work an actor started needs to go on: an action on an image, and any more (at least one). */
export type ActorNeeds = readonly [ActorNeed, ...ActorNeed[]];
export interface ActorNeed {
  readonly action: Action;
  readonly image: string;
}

/** The actor of `principal` (anonymous when there is none) calling from `client`; admins read every image. */
export function actorOf(principal: Principal | undefined, client: string): Actor {
  const scopes = principal?.role === 'admin' ? [] : (principal?.scopes ?? []);
  return {
    user: principal?.name ?? 'anonymous',
    client,
    ...(scopes.length > 0 ? { readScopes: scopes } : {}),
    ...(principal?.tokenExpiresAt === undefined ? {} : { tokenExpiresAt: principal.tokenExpiresAt }),
  };
}

export interface NewUserRequest {
  readonly name: string;
  /** Generated (and returned once) when absent. */
  readonly password?: string;
  readonly role: string;
  readonly scopes: readonly string[];
}

export interface CreatedUser {
  readonly name: string;
  readonly role: string;
  readonly scopes: readonly string[];
  /** Present only when it was generated: shown this once. */
  readonly password?: string;
}

export interface UserView {
  readonly name: string;
  readonly role: string;
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What changes of a user; what is absent stays. */
export interface UserChangeRequest {
  readonly role?: string;
  /** Replaces them all; empty: every image name. */
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
}

export interface PasswordRequest {
  /** Generated (and returned once) when absent. */
  readonly password?: string;
  /** The user's current password, checked (rate-limited as a login is) when given. */
  readonly currentPassword?: string;
}

export interface PasswordChange {
  readonly name: string;
  /** Present only when it was generated: shown this once. */
  readonly password?: string;
}

export interface TokenRequest {
  readonly name: string;
  /** The caller itself when absent. */
  readonly user?: string;
  /** The default lifetime when null. */
  readonly expiresInDays: number | null;
  /** Image-name prefixes within the user's scopes that the token is limited to. */
  readonly scopes?: readonly string[];
}

/** Whose tokens a listing shows: `all`, one user's, or (neither given) the caller's own. */
export interface TokenFilter {
  readonly all?: boolean;
  readonly user?: string;
}

export const TOKEN_STATES = ['active', 'expired', 'revoked'] as const;

/** A token as listings show it: never its secret, which is not stored. */
export interface TokenView {
  readonly id: string;
  readonly name: string;
  readonly user: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly state: (typeof TOKEN_STATES)[number];
  /** A session opened with a password ('login'), or a token made on purpose ('api'). */
  readonly kind: TokenKind;
}

export interface IssuedToken {
  /** Shown this once. */
  readonly token: string;
  readonly expiresAt: string | null;
}

export interface Accounts {
  addUser(request: NewUserRequest): Promise<CreatedUser>;
  listUsers(): Promise<UserView[]>;
  showUser(name: string): Promise<UserView>;
  /** CONFLICT when it would disable or demote the last enabled admin. */
  changeUser(name: string, changes: UserChangeRequest): Promise<UserView>;
  setPassword(name: string, request: PasswordRequest): Promise<PasswordChange>;
  /** Removes a user and their tokens; CONFLICT for the last enabled admin. */
  removeUser(name: string): Promise<void>;
  createToken(request: TokenRequest): Promise<IssuedToken>;
  /** Newest first. */
  listTokens(filter: TokenFilter): Promise<TokenView[]>;
  /**
   * Revoked tokens are refused from the next request on; revoking one again changes nothing. With
   * `ownedBy`, another user's token is NOT_FOUND, as one that does not exist.
   */
  revokeToken(id: string, ownedBy?: string): Promise<void>;
  /** The audit log, newest first. */
  listAudit(limit: number): Promise<AuditEntry[]>;
  /** A page of the audit log, newest first, narrowed by actor, action, target and time. */
  auditPage(query: AuditQuery): Promise<AuditPage>;
}

/** A machine as it is shown: its record and its deployment under way, if any. */
export type MachineView = Machine & {
  readonly deployment: { readonly id: string; readonly state: DeploymentState } | null;
};

export interface Machines {
  /** One page of the machines, oldest first, in the filter's state and with its label. */
  listPage(query: MachinePageQuery): Promise<MachinePage<MachineView>>;
  /** By id, MAC or name. */
  get(key: string): Promise<MachineView>;
  add(request: NewMachine): Promise<MachineView>;
  set(key: string, changes: MachineChanges): Promise<MachineView>;
  remove(key: string): Promise<void>;
  /** Makes a machine that registered itself by booting `ready` to be deployed. */
  approve(key: string): Promise<MachineView>;
  /** The administrator password its last deployment set (audited). */
  password(
    key: string,
  ): Promise<{ readonly machine: string; readonly deployment: string; readonly password: string }>;
}

/** Every machine in `filter`'s state and with its label, page after page. */
export async function listAllMachines(
  machines: Pick<Machines, 'listPage'>,
  filter: MachineFilter,
): Promise<MachineView[]> {
  const all: MachineView[] = [];
  let cursor: string | null = null;
  do {
    const page: MachinePage<MachineView> = await machines.listPage({
      ...filter,
      limit: MACHINE_PAGE_MAX,
      cursor,
    });
    all.push(...page.machines);
    cursor = page.next;
  } while (cursor !== null);
  return all;
}

export interface Profiles {
  /**
   * Checks a profile's YAML and stores it; `file` names it in errors. A password written as the
   * mask `show` gives keeps the stored one.
   */
  apply(text: string, file: string): Promise<ProfileView>;
  /** As apply, for the profile `name` only: a YAML naming another profile is refused. */
  edit(name: string, text: string, file: string): Promise<ProfileView>;
  list(): Promise<ProfileView[]>;
  /** With its YAML, passwords masked. */
  show(name: string): Promise<ProfileView & { readonly yaml: string }>;
  remove(name: string): Promise<void>;
}

export interface DeploymentPageQuery {
  readonly machine?: string;
  readonly active?: boolean;
  readonly limit: number;
  readonly cursor: string | null;
}

/** One page of a listing; `next` is the cursor of the page after it, null on the last page. */
export interface DeploymentPage {
  readonly deployments: DeploymentView[];
  readonly next: string | null;
}

export interface Deployments {
  create(request: DeploymentRequest): Promise<DeploymentView>;
  /** A capture of the machine's Windows into an image, queued until the machine network-boots. */
  capture(request: CaptureRequest): Promise<DeploymentView>;
  /** Deployments to several machines whose image one multicast session sends. */
  createMulticast(request: MulticastRequest): Promise<DeploymentView[]>;
  /** The newest deployments (1000 at most); of one machine (id, MAC or name), or under way. */
  list(filter: { readonly machine?: string; readonly active?: boolean }): Promise<DeploymentView[]>;
  /** One page of the deployments `list` gives, after the page `cursor` ended (null: the first). */
  listPage(query: DeploymentPageQuery): Promise<DeploymentPage>;
  show(id: string): Promise<DeploymentView>;
  /** The agent's log lines after line `after`. */
  logs(id: string, after: number): Promise<{ id: number; at: string; line: string }[]>;
  cancel(id: string): Promise<DeploymentView>;
  retry(id: string): Promise<DeploymentView>;
  /**
   * Calls `onChange` with each deployment as it changes (state, progress), until `signal` aborts:
   * from the server's events, or by looking at a data directory every second. `onWatching` is
   * called each time the watch (re)starts: changes from before it are read again then.
   */
  watch(
    onChange: (deployment: DeploymentView) => void,
    signal: AbortSignal,
    onWatching?: () => void,
  ): Promise<void>;
}

export interface BuildRequest {
  /** The recipe's YAML text. */
  readonly recipe: string;
  /** Its name, for messages (FILE:LINE:COLUMN). */
  readonly file: string;
}

export interface Builds {
  /** Checks the recipe (its host paths relative to the server's deployment share) and queues the build. */
  start(request: BuildRequest): Promise<BuildView>;
  /** Newest first. */
  list(): Promise<BuildView[]>;
  show(id: string): Promise<BuildView>;
  /** The build's log lines after line `after`. */
  logs(id: string, after: number): Promise<{ id: number; at: string; line: string }[]>;
  /** The VM's serial log from byte `offset` (a part of it), and where the next part starts. */
  serial(id: string, offset: number): Promise<{ offset: number; next: number; text: string }>;
  /** The VM's latest screenshot, a PNG. */
  screenshot(id: string): Promise<Uint8Array>;
  /** Cancels a queued build or stops a running one (it can be resumed). */
  cancel(id: string): Promise<BuildView>;
  /** Queues a failed or cancelled build again, to go on from its last finished phase. */
  resume(id: string): Promise<BuildView>;
  /** Removes a build that is over, with its folder (the VM's disks, log, screenshots). */
  remove(id: string): Promise<void>;
  /**
   * Calls `onChange` with each build as it changes (state, phase, step) and `onProgress` with the
   * progress of its long steps, until `signal` aborts.
   */
  watch(
    onChange: (build: BuildView) => void,
    signal: AbortSignal,
    onProgress?: (build: string, progress: ProgressEvent) => void,
  ): Promise<void>;
}

export interface Session {
  /** Where it works, for messages (a path, or a URL without credentials). */
  readonly location: string;
  readonly images: Repository;
  readonly accounts: Accounts;
  readonly machines: Machines;
  readonly profiles: Profiles;
  readonly deployments: Deployments;
  readonly builds: Builds;
  close(): Promise<void>;
}
