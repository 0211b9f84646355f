// The accounts' part of the catalog: users (role, scopes, password hash, disabled) and API tokens
// (stored as hashes, with scopes, expiry, last use and revocation). A repository that has an
// enabled admin keeps one: the change or removal that would leave none is refused in the
// transaction that would make it, with the admins locked, so two at once cannot both pass.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { AppError } from '../core/errors.ts';
import { validateUserName } from '../core/names.ts';
import { kyselyOf, type Database } from '../db/database.ts';
import { nowIso, parseStringArray, toNumber } from '../db/rows.ts';
import type { CatalogSchema, DatabaseKind, TokensTable, UsersTable } from '../db/schema.ts';
import { isRole, type Role } from './roles.ts';

export interface User {
  readonly name: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
  readonly now?: string;
}

export interface UserChanges {
  readonly passwordHash?: string;
  readonly role?: Role;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
}

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly userName: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  /** Image-name prefixes the token is limited to, within its user's; empty: the user's. */
  readonly scopes: readonly string[];
  readonly kind: TokenKind;
}

/** A session a user opened with a password ('login'), or a token made on purpose ('api'). */
export type TokenKind = 'login' | 'api';

export interface NewToken {
  readonly id?: string;
  readonly name: string;
  readonly userName: string;
  /** sha256 hex of the token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly expiresAt: string | null;
  readonly scopes?: readonly string[];
  readonly kind?: TokenKind;
  readonly now?: string;
}

function toUser(row: Selectable<UsersTable>): User {
  if (!isRole(row.role)) {
    throw new AppError(
      'FORMAT_INVALID',
      `user ${row.name} has the unknown role ${JSON.stringify(row.role)}`,
      {
        hint: 'set a role with winsmith user set-role NAME ROLE: admin, builder, operator or viewer',
      },
    );
  }
  return {
    name: row.name,
    passwordHash: row.password_hash,
    role: row.role,
    scopes: parseStringArray(row.scopes, 'scopes'),
    disabled: toNumber(row.disabled) !== 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toToken(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    userName: row.user_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    scopes: parseStringArray(row.scopes, 'token scopes'),
    kind: row.kind === 'login' ? 'login' : 'api',
  };
}

/** What a change does to a user, for the refusal of the one that would leave no enabled admin. */
function changeVerb(changes: UserChanges | 'remove'): string {
  if (changes === 'remove') return 'removed';
  return changes.disabled === true ? 'disabled' : 'given another role';
}

export class AccountStore {
  readonly #db: Kysely<CatalogSchema>;
  readonly #kind: DatabaseKind;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
    this.#kind = database.kind;
  }

  /**
   * Runs `change` on user `name` in a transaction that first locks the enabled admins (PostgreSQL;
   * SQLite's write transactions run one at a time), and rolls it back with CONFLICT when `name`
   * was one of them and none is left after it. A change that cannot take an admin away (a
   * password, scopes, enabling, the admin role) runs as it is, with no lock.
   */
  async #keepingAnAdmin<T>(
    name: string,
    what: UserChanges | 'remove',
    change: (db: Kysely<CatalogSchema>) => Promise<T>,
  ): Promise<T> {
    if (what !== 'remove' && what.disabled !== true && (what.role ?? 'admin') === 'admin') {
      return change(this.#db);
    }
    return this.#db.transaction().execute(async (trx) => {
      const enabledAdmins = trx
        .selectFrom('users')
        .select('name')
        .where('role', '=', 'admin')
        .where('disabled', '=', 0);
      const before = await (this.#kind === 'postgres' ? enabledAdmins.forUpdate() : enabledAdmins).execute();
      const result = await change(trx);
      if (before.some((a) => a.name === name) && (await enabledAdmins.execute()).length === 0) {
        throw new AppError(
          'CONFLICT',
          `user ${name} is the last enabled admin and cannot be ${changeVerb(what)}`,
          { hint: 'make another user an admin first: winsmith user set-role NAME admin' },
        );
      }
      return result;
    });
  }

  // ---- users -----------------------------------------------------------------------------

  /** Creates a user; ALREADY_EXISTS when the name is taken. */
  async createUser(user: NewUser): Promise<User> {
    validateUserName(user.name);
    const now = user.now ?? nowIso();
    const inserted = await this.#db
      .insertInto('users')
      .values({
        name: user.name,
        password_hash: user.passwordHash,
        role: user.role,
        scopes: JSON.stringify(user.scopes ?? []),
        disabled: user.disabled === true ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined) {
      throw new AppError('ALREADY_EXISTS', `user ${user.name} already exists`, {
        hint: 'choose another name, or change the existing user',
      });
    }
    return toUser(inserted);
  }

  async getUser(name: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.#db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  /**
   * Changes a user; NOT_FOUND when there is none of that name, CONFLICT when it is the last
   * enabled admin and the change would disable or demote it.
   */
  async updateUser(name: string, changes: UserChanges, now = nowIso()): Promise<User> {
    const row = await this.#keepingAnAdmin(name, changes, (trx) =>
      trx
        .updateTable('users')
        .set({
          updated_at: now,
          ...(changes.passwordHash === undefined ? {} : { password_hash: changes.passwordHash }),
          ...(changes.role === undefined ? {} : { role: changes.role }),
          ...(changes.scopes === undefined ? {} : { scopes: JSON.stringify(changes.scopes) }),
          ...(changes.disabled === undefined ? {} : { disabled: changes.disabled ? 1 : 0 }),
        })
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirst(),
    );
    if (row === undefined)
      throw new AppError('NOT_FOUND', `no user ${name}`, { hint: 'list users with winsmith user list' });
    return toUser(row);
  }

  /** Deletes a user and their tokens. Returns false when there was none; CONFLICT for the last enabled admin. */
  async deleteUser(name: string): Promise<boolean> {
    const result = await this.#keepingAnAdmin(name, 'remove', (trx) =>
      trx.deleteFrom('users').where('name', '=', name).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  // ---- tokens ----------------------------------------------------------------------------

  async createToken(token: NewToken): Promise<TokenRecord> {
    const row = await this.#db
      .insertInto('tokens')
      .values({
        id: token.id ?? randomUUID(),
        token_hash: token.tokenHash,
        name: token.name,
        user_name: token.userName,
        created_at: token.now ?? nowIso(),
        expires_at: token.expiresAt,
        last_used_at: null,
        revoked_at: null,
        scopes: JSON.stringify(token.scopes ?? []),
        kind: token.kind ?? 'api',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  /** The token with this sha256 hash and its user, whatever its state (the caller checks expiry). */
  async findTokenByHash(tokenHash: string): Promise<{ token: TokenRecord; user: User } | undefined> {
    const token = await this.#db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (token === undefined) return undefined;
    const user = await this.getUser(token.user_name);
    return user === undefined ? undefined : { token: toToken(token), user };
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = await this.#db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toToken(row);
  }

  /** Tokens of one user, or of everyone; newest first. */
  async listTokens(userName?: string): Promise<TokenRecord[]> {
    let query = this.#db.selectFrom('tokens').selectAll();
    if (userName !== undefined) query = query.where('user_name', '=', userName);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toToken);
  }

  async touchToken(id: string, now = nowIso()): Promise<void> {
    await this.#db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** Revokes a token (kept for the record). Returns false when it is unknown or already revoked. */
  async revokeToken(id: string, now = nowIso()): Promise<boolean> {
    const result = await this.#db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
