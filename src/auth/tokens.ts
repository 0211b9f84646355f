// API tokens: 32 random bytes shown once as `wsm_<base64url>`; only their sha256 is stored, so a
// copy of the catalog gives no usable token. Each token has a name, an owner, an expiry and
// optionally scopes of its own within its owner's, and can be revoked. Authentication turns a
// presented token into the owner's Principal (its scopes narrowed by the token's) or fails with
// UNAUTHORIZED, the same message whatever the reason so a guess learns nothing. It reads the
// token and its owner on every request: a revoked token, or a disabled user's, fails at once.

import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { normalizeScope } from '../core/names.ts';
import type { AccountStore, TokenKind, TokenRecord } from './account-store.ts';
import { narrowScopes, type Principal } from './roles.ts';
import { principalOf } from './users.ts';

export const TOKEN_PREFIX = 'wsm_';
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^wsm_[A-Za-z0-9_-]{43}$/;
/** Lifetime when none is asked for. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;
/** Longest lifetime accepted: a leaked token stops working within a year at most. */
export const MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600;
/** lastUsedAt is written at most this often per token (not one write per request). */
const TOUCH_INTERVAL_MS = 60_000;

export function generateToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** sha256 hex of the token text: what the catalog stores and looks up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function looksLikeToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

export interface IssueTokenOptions {
  readonly userName: string;
  readonly name: string;
  readonly lifetimeSeconds?: number;
  /** Image-name prefixes within the user's scopes; the token acts on names under them only. */
  readonly scopes?: readonly string[];
  /** A session opened with a password ('login'), or a token made on purpose ('api', the default). */
  readonly kind?: TokenKind;
  /**
   * The latest the token may expire (ISO time): that of the API token its maker holds. A lifetime
   * asked for that ends later is refused; the default one is cut short.
   */
  readonly notAfter?: string;
  readonly now?: Date;
}

/** Creates a token for a user. The token text is returned here once and never stored. */
export async function issueToken(
  accounts: AccountStore,
  options: IssueTokenOptions,
): Promise<{ token: string; record: TokenRecord }> {
  const lifetime = options.lifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isSafeInteger(lifetime) || lifetime < 60 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `token lifetime ${lifetime} s is outside [60, ${MAX_TOKEN_LIFETIME_SECONDS}] seconds`,
      { hint: 'give a lifetime between one minute and 366 days' },
    );
  }
  const name = options.name.trim();
  if (name === '' || name.length > 100 || /\p{Cc}/u.test(name)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `token name ${JSON.stringify(options.name)} is not 1 to 100 printable characters`,
      {
        hint: 'name the token after where it is used, e.g. ci-runner',
      },
    );
  }
  const user = await accounts.getUser(options.userName);
  if (user === undefined) {
    throw new AppError('NOT_FOUND', `no user ${options.userName}`, { hint: 'create the user first' });
  }
  const scopes = [...new Set((options.scopes ?? []).map(normalizeScope))];
  if (scopes.length > 0 && user.role === 'admin') {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${user.name} is an admin, whose tokens cannot be limited to scopes`,
      {
        hint: 'make the token for a builder, operator or viewer user, who can be scoped',
      },
    );
  }
  const outside = scopes.filter((scope) => narrowScopes(user.scopes, [scope]) === null);
  if (outside.length > 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `scope ${outside.join(', ')} lies outside the scopes of ${user.name} (${user.scopes.join(', ')})`,
      { hint: `give scopes within ${user.scopes.join(' or ')}` },
    );
  }
  const now = options.now ?? new Date();
  let expiresAt = new Date(now.getTime() + lifetime * 1000).toISOString();
  if (options.notAfter !== undefined && expiresAt > options.notAfter) {
    if (options.lifetimeSeconds !== undefined) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `the token would expire at ${expiresAt}, after the token it is made with (${options.notAfter})`,
        {
          hint: `give a lifetime that ends by ${options.notAfter} (--expires-in-days), or make it in a session opened with winsmith login`,
        },
      );
    }
    // No lifetime asked for: the default, cut short where the maker's token ends sooner.
    expiresAt = options.notAfter;
  }
  const { token, hash } = generateToken();
  const record = await accounts.createToken({
    name,
    userName: user.name,
    tokenHash: hash,
    scopes,
    expiresAt,
    kind: options.kind ?? 'api',
    now: now.toISOString(),
  });
  return { token, record };
}

function rejected(): AppError {
  return new AppError('UNAUTHORIZED', 'the token is not valid (unknown, expired or revoked)', {
    hint: 'log in again or create a new token (winsmith login / winsmith token create)',
  });
}

/** The principal a presented token stands for; UNAUTHORIZED when it is not usable. */
export async function authenticateToken(
  accounts: AccountStore,
  token: string,
  now: Date = new Date(),
): Promise<{ principal: Principal; token: TokenRecord }> {
  if (!looksLikeToken(token)) throw rejected();
  const found = await accounts.findTokenByHash(hashToken(token));
  if (found === undefined) throw rejected();
  const { token: record, user } = found;
  const at = now.toISOString();
  if (record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= at) || user.disabled) {
    throw rejected();
  }
  // A scoped token whose user became an admin, or whose scopes no longer meet its user's, is not
  // widened to what the user may do now: it stops working.
  const scopes = narrowScopes(user.scopes, record.scopes);
  if (scopes === null || (record.scopes.length > 0 && user.role === 'admin')) throw rejected();
  if (record.lastUsedAt === null || Date.parse(record.lastUsedAt) + TOUCH_INTERVAL_MS <= now.getTime()) {
    await accounts.touchToken(record.id, at);
  }
  const principal: Principal = { ...principalOf(user), scopes };
  return {
    principal:
      record.kind === 'api' && record.expiresAt !== null
        ? { ...principal, tokenExpiresAt: record.expiresAt }
        : principal,
    token: record,
  };
}
