// Accounts as the application offers them: password login (rate-limited), token authentication,
// users and tokens, the first admin of a new repository, and the audit log, each change recorded
// under the actor that made it.

import type { AccountStore } from '../auth/account-store.ts';
import { authenticatePassword } from '../auth/login.ts';
import { LoginRateLimiter } from '../auth/rate-limit.ts';
import { isRole, type Principal } from '../auth/roles.ts';
import { authenticateToken, issueToken } from '../auth/tokens.ts';
import { addUser, createFirstAdmin, type KeepPassword } from '../auth/users.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { AppError } from '../core/errors.ts';
import { recorderFor } from './audit-trail.ts';
import type { Accounts, Actor, IssuedToken } from './session.ts';

export class AccountService {
  readonly #store: AccountStore;
  readonly #audit: AuditLog;
  readonly #limiter = new LoginRateLimiter();

  constructor(store: AccountStore, audit: AuditLog) {
    this.#store = store;
    this.#audit = audit;
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
    return {
      addUser: async (request) => {
        if (!isRole(request.role)) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `role ${JSON.stringify(request.role)} is not admin, builder, operator or viewer`,
            { hint: 'give one of admin, builder, operator, viewer' },
          );
        }
        const { user, password, generated } = await addUser(this.#store, {
          name: request.name,
          role: request.role,
          scopes: request.scopes,
          ...(request.password === undefined ? {} : { password: request.password }),
        });
        await record('user.add', user.name, { role: user.role, scopes: user.scopes });
        return { name: user.name, role: user.role, scopes: user.scopes, ...(generated ? { password } : {}) };
      },
      listUsers: async () =>
        (await this.#store.listUsers()).map((u) => ({
          name: u.name,
          role: u.role,
          scopes: u.scopes,
          disabled: u.disabled,
        })),
      createToken: async (request) => {
        if (request.user === undefined && actor.client === 'local') {
          throw new AppError('USAGE', 'on a data directory, --user names who the token acts as', {
            hint: 'add --user NAME',
          });
        }
        const userName = request.user ?? actor.user;
        const { token, record: stored } = await issueToken(this.#store, {
          userName,
          name: request.name,
          ...(request.expiresInDays === null
            ? {}
            : { lifetimeSeconds: Math.round(request.expiresInDays * 86_400) }),
        });
        await record('token.create', userName, {
          token: stored.id,
          name: stored.name,
          expiresAt: stored.expiresAt,
        });
        return { token, expiresAt: stored.expiresAt };
      },
      listAudit: (limit) => this.#audit.listAudit({ limit }),
    };
  }
}
