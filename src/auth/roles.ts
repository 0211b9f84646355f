// Who may do what: the one place the rules live. Four roles, each a fixed set of actions; image
// actions are further limited by the user's scopes (image-name prefixes such as `team-a/`). Admins
// are never scoped. `authorize` is pure: the server's middleware, the CLI on a local data directory
// and the RBAC-matrix test all call it, and ACTIONS is that matrix's list of rows.

import { nameInScope } from '../core/names.ts';

export const ROLES = ['admin', 'builder', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  /** List images, read manifests, pull blobs, read tag history. */
  'image.read',
  /** Open uploads, send chunks, commit an upload (creates or moves its tag). */
  'image.push',
  /** Create or move a tag onto an existing digest. */
  'image.tag',
  /** Remove a tag (`image rm`). */
  'image.remove',
  /** Import the images of an installation ISO. */
  'image.import',
  /** Build an image from a recipe. */
  'image.build',
  /** Customize an image (the output is pushed under a name). */
  'image.customize',
  /** Deploy an image to a machine; cancel and retry its deployments. */
  'deploy.run',
  /** Apply and remove deployment profiles (they may hold passwords). */
  'profiles.write',
  /** Read the administrator password a deployment set on a machine (audited). */
  'secrets.read',
  /** List machines, their deployments and logs, and profiles (passwords masked). */
  'machines.read',
  /** Register, approve, edit and remove machines. */
  'machines.write',
  /** Read store statistics. */
  'store.read',
  /** Verify every chunk and manifest. */
  'store.check',
  /** Collect garbage: delete unreferenced chunks. */
  'store.gc',
  /** Read the audit log. */
  'audit.read',
  /** Create, edit, disable and delete users; see and revoke anyone's tokens. */
  'users.manage',
  /** Create, list and revoke one's own tokens. */
  'tokens.own',
  /** Change one's own password, giving the current one. */
  'password.own',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions on a named image: these are the ones scopes restrict. */
export const IMAGE_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'image.read',
  'image.push',
  'image.tag',
  'image.remove',
  'image.import',
  'image.build',
  'image.customize',
  'deploy.run',
]);

const READ: readonly Action[] = ['image.read', 'machines.read', 'store.read', 'tokens.own', 'password.own'];

export const ROLE_ACTIONS: Readonly<Record<Role, ReadonlySet<Action>>> = {
  admin: new Set(ACTIONS),
  builder: new Set<Action>([
    ...READ,
    'image.push',
    'image.tag',
    'image.remove',
    'image.import',
    'image.build',
    'image.customize',
  ]),
  operator: new Set<Action>([...READ, 'deploy.run', 'machines.write', 'profiles.write', 'secrets.read']),
  viewer: new Set<Action>(READ),
};

export interface Principal {
  readonly name: string;
  readonly role: Role;
  /** Image-name prefixes (normalized, ending in `/`); empty means every name. */
  readonly scopes: readonly string[];
  readonly disabled?: boolean;
  /** When the API token it authenticated with expires (absent: a login session, a password, none). */
  readonly tokenExpiresAt?: string;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether an image name lies within the principal's scopes (admins and unscoped users: always). */
export function inScope(principal: Principal, imageName: string): boolean {
  if (principal.role === 'admin' || principal.scopes.length === 0) return true;
  return principal.scopes.some((scope) => nameInScope(imageName, scope));
}

/**
 * Whether `principal` may perform `action`, on `imageName` when the action concerns one image.
 * For an image action given without a name (a route-level check, such as listing images), only
 * the role is checked: the caller must then filter each item with `inScope`.
 */
export function authorize(principal: Principal | undefined, action: Action, imageName?: string): boolean {
  if (principal === undefined || principal.disabled === true) return false;
  if (!ROLE_ACTIONS[principal.role].has(action)) return false;
  if (imageName !== undefined && IMAGE_ACTIONS.has(action)) return inScope(principal, imageName);
  return true;
}

/** Whether every name scope `inner` covers, scope `outer` covers too. */
function scopeWithin(inner: string, outer: string): boolean {
  return nameInScope(inner.slice(0, -1), outer);
}

/**
 * The scopes a token acts within: its user's when the token has none; otherwise the names both
 * cover, as scopes (each token scope within one of the user's, and each of the user's within one
 * of the token's). Null when they have no name in common: such a token may do nothing, which an
 * empty list (every name) must not say.
 */
export function narrowScopes(
  userScopes: readonly string[],
  tokenScopes: readonly string[],
): readonly string[] | null {
  if (tokenScopes.length === 0) return userScopes;
  if (userScopes.length === 0) return tokenScopes;
  const common = new Set([
    ...tokenScopes.filter((t) => userScopes.some((u) => scopeWithin(t, u))),
    ...userScopes.filter((u) => tokenScopes.some((t) => scopeWithin(u, t))),
  ]);
  return common.size === 0 ? null : [...common];
}
