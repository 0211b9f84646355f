// Accounts as the application offers them: password login (rate-limited), token authentication,
// users (added, changed, disabled, removed, their passwords set) and tokens (issued, listed,
// revoked), the first admin of a new repository, and the audit log, each change recorded under the
// actor that made it.

import type { AccountStore, TokenRecord, User } from '../auth/account-store.ts';
import { authenticatePassword } from '../auth/login.ts';
import { LoginRateLimiter } from '../auth/rate-limit.ts';
import { authorize, isRole, narrowScopes, type Principal, type Role } from '../auth/roles.ts';
import { authenticateToken, issueToken } from '../auth/tokens.ts';
import { addUser, createFirstAdmin, editUser, setPassword, type KeepPassword } from '../auth/users.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { AppError } from '../core/errors.ts';
import { normalizeScope } from '../core/names.ts';
import { recorderFor } from './audit-trail.ts';
import {
  actorOf,
  type Accounts,
  type Actor,
  type ActorNeeds,
  type IssuedToken,
  type TokenView,
  type UserView,
} from './session.ts';

function roleOf(text: string): Role {
  if (!isRole(text)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `role ${JSON.stringify(text)} is not admin, builder, operator or viewer`,
      {
        hint: 'give one of admin, builder, operator, viewer',
      },
    );
  }
  return text;
}

function userView(u: User): UserView {
  return {
    name: u.name,
    role: u.role,
    scopes: u.scopes,
    disabled: u.disabled,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

function tokenView(t: TokenRecord, now: string): TokenView {
  const state =
    t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
  return {
    id: t.id,
    name: t.name,
    user: t.userName,
    scopes: t.scopes,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    state,
    kind: t.kind,
  };
}

export class AccountService {
  readonly #store: AccountStore;
  readonly #audit: AuditLog;
  readonly #limiter = new LoginRateLimiter();

  constructor(store: AccountStore, audit: AuditLog) {
    this.#store = store;
    this.#audit = audit;
  }

  /**
   * `actor` as its user's rights stand now, for work it started that goes on (a build runs for
   * hours): the user must still exist, be enabled and be allowed each of `needs`, its scopes being
   * the user's of now, narrowed as the actor's were (by the token it came with). FORBIDDEN
   * otherwise. The local CLI's actor (no user of the catalog) stays as it is.
   */
  async actorNow(actor: Actor, needs: ActorNeeds): Promise<Actor> {
    if (actor.client === 'local') return actor;
    const user = await this.#store.getUser(actor.user);
    if (user === undefined || user.disabled) {
      throw new AppError(
        'FORBIDDEN',
        `user ${actor.user} ${user === undefined ? 'was removed' : 'is disabled'}`,
        {
          hint: 'an admin can resume the build as themselves',
        },
      );
    }
    const scopes = user.role === 'admin' ? [] : narrowScopes(user.scopes, actor.readScopes ?? []);
    const principal = { name: user.name, role: user.role, scopes: scopes ?? [] };
    // Scopes with no name in common allow nothing (an empty list would allow everything).
    const refused = needs.find((n) => scopes === null || !authorize(principal, n.action, n.image));
    if (refused !== undefined) {
      throw new AppError(
        'FORBIDDEN',
        `user ${actor.user} (${user.role}) may no longer ${refused.action} on ${refused.image}`,
        { hint: 'ask an admin for a role or scope that allows it, or to resume the build as themselves' },
      );
    }
    return actorOf(principal, actor.client);
  }

  /** The principal of a token, or null when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | null> {
    try {
      return (await authenticateToken(this.#store, token)).principal;
    } catch (e) {
      if (e instanceof AppError && e.code === 'UNAUTHORIZED') return null;
      throw e;
    }
  }

  /** A token for a correct user name and password, rate-limited per user and client address. */
  async login(user: string, password: string, client: string): Promise<IssuedToken> {
    let principal: Principal;
    try {
      principal = await authenticatePassword(this.#store, this.#limiter, { name: user, password, client });
    } catch (e) {
      if (e instanceof AppError) {
        await recorderFor(this.#audit, { user: user.slice(0, 64), client })('user.login.failed', null, {
          code: e.code,
        });
      }
      throw e;
    }
    const { token, record } = await issueToken(this.#store, {
      userName: principal.name,
      name: `login from ${client}`,
      kind: 'login',
    });
    await recorderFor(this.#audit, { user: principal.name, client })('user.login', principal.name, {
      token: record.id,
    });
    return { token, expiresAt: record.expiresAt };
  }

  /**
   * On a repository without users: creates 'admin' with a generated password, returned once (and
   * first handed to `keep`, which may give back one an earlier start kept).
   */
  async ensureFirstAdmin(
    actor: Actor,
    keep?: KeepPassword,
  ): Promise<{ name: string; password: string } | null> {
    const created = await createFirstAdmin(this.#store, keep === undefined ? {} : { keep });
    if (created === undefined) return null;
    await recorderFor(this.#audit, actor)('user.add', created.user.name, { role: 'admin', first: true });
    return { name: created.user.name, password: created.password };
  }

  /** The account operations of `actor` (whose rights the caller has checked). */
  for(actor: Actor): Accounts {
    const record = recorderFor(this.#audit, actor);
    const store = this.#store;
    return {
      addUser: async (request) => {
        const { user, password, generated } = await addUser(this.#store, {
          name: request.name,
          role: roleOf(request.role),
          scopes: request.scopes,
          ...(request.password === undefined ? {} : { password: request.password }),
        });
        await record('user.add', user.name, { role: user.role, scopes: user.scopes });
        return { name: user.name, role: user.role, scopes: user.scopes, ...(generated ? { password } : {}) };
      },
      listUsers: async () => (await this.#store.listUsers()).map(userView),
      async showUser(name) {
        const user = await store.getUser(name);
        if (user === undefined) {
          throw new AppError('NOT_FOUND', `no user ${name}`, { hint: 'list users with winsmith user list' });
        }
        return userView(user);
      },
      async changeUser(name, changes) {
        if (changes.role === undefined && changes.scopes === undefined && changes.disabled === undefined) {
          throw new AppError('USAGE', `nothing to change of user ${name}`, {
            hint: 'give a role, scopes or whether the user is disabled',
          });
        }
        const user = await editUser(store, name, {
          ...(changes.role === undefined ? {} : { role: roleOf(changes.role) }),
          ...(changes.scopes === undefined ? {} : { scopes: changes.scopes }),
          ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
        });
        await record('user.change', name, {
          ...changes,
          ...(changes.scopes === undefined ? {} : { scopes: user.scopes }),
        });
        return userView(user);
      },
      setPassword: async (name, request) => {
        if (request.currentPassword !== undefined) {
          await authenticatePassword(this.#store, this.#limiter, {
            name,
            password: request.currentPassword,
            client: actor.client,
          });
        }
        const { password, generated } = await setPassword(store, name, {
          ...(request.password === undefined ? {} : { password: request.password }),
        });
        await record('user.password', name, { own: request.currentPassword !== undefined, generated });
        return { name, ...(generated ? { password } : {}) };
      },
      async removeUser(name) {
        if (!(await store.deleteUser(name))) {
          throw new AppError('NOT_FOUND', `no user ${name}`, { hint: 'list users with winsmith user list' });
        }
        await record('user.remove', name);
      },
      createToken: async (request) => {
        if (request.user === undefined && actor.client === 'local') {
          throw new AppError('USAGE', 'on a data directory, --user names who the token acts as', {
            hint: 'add --user NAME',
          });
        }
        const userName = request.user ?? actor.user;
        // A caller limited to scopes (a scoped user, or a token made with scopes) makes tokens
        // limited to them at most: a scoped token cannot make itself a wider one.
        const scopes =
          actor.readScopes === undefined
            ? request.scopes
            : narrowScopes(actor.readScopes, (request.scopes ?? []).map(normalizeScope));
        if (scopes === null) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `scopes ${(request.scopes ?? []).join(', ')} lie outside ${actor.readScopes?.join(', ') ?? ''}`,
            {
              hint: `give scopes within ${actor.readScopes?.join(' or ') ?? ''}`,
            },
          );
        }
        const { token, record: stored } = await issueToken(this.#store, {
          userName,
          name: request.name,
          ...(request.expiresInDays === null
            ? {}
            : { lifetimeSeconds: Math.round(request.expiresInDays * 86_400) }),
          ...(scopes === undefined ? {} : { scopes }),
          // Made with an API token: no longer-lived than it (a login session may make any).
          ...(actor.tokenExpiresAt === undefined ? {} : { notAfter: actor.tokenExpiresAt }),
        });
        await record('token.create', userName, {
          token: stored.id,
          name: stored.name,
          expiresAt: stored.expiresAt,
          scopes: stored.scopes,
        });
        return { token, expiresAt: stored.expiresAt };
      },
      async listTokens(filter) {
        if (filter.all !== true && filter.user === undefined && actor.client === 'local') {
          throw new AppError('USAGE', 'on a data directory, name whose tokens to list', {
            hint: 'add --all, or --user NAME',
          });
        }
        const now = new Date().toISOString();
        const tokens = await store.listTokens(filter.all === true ? undefined : (filter.user ?? actor.user));
        return tokens.map((t) => tokenView(t, now));
      },
      async revokeToken(id, ownedBy) {
        const token = await store.getToken(id);
        // Another user's token is not found, as one that does not exist: its id tells nothing.
        if (token === undefined || (ownedBy !== undefined && token.userName !== ownedBy)) {
          throw new AppError('NOT_FOUND', `no token ${id}`, { hint: 'list tokens with winsmith token list' });
        }
        if (await store.revokeToken(id))
          await record('token.revoke', token.userName, { token: id, name: token.name });
      },
      listAudit: (limit) => this.#audit.listAudit({ limit }),
      auditPage: (query) => this.#audit.listAuditPage(query),
    };
  }
}
