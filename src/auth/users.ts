// Local users: adding one (with a generated password when none is given, shown once), changing
// one's role, scopes, state or password, the first admin of a new repository, and the Principal a
// user acts as.

import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { AccountStore, User, UserChanges } from './account-store.ts';
import { normalizeScope, validateUserName } from '../core/names.ts';
import { DEFAULT_ARGON2, MAX_PASSWORD_BYTES, hashPassword, type Argon2Params } from './passwords.ts';
import type { Principal, Role } from './roles.ts';

/** Shorter passwords are refused: below this, an offline guess of a stolen hash is cheap. */
export const MIN_PASSWORD_LENGTH = 12;

export function principalOf(user: User): Principal {
  return { name: user.name, role: user.role, scopes: user.scopes, disabled: user.disabled };
}

/** 24 characters of base64url (144 random bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export function validatePassword(password: string): string {
  const length = Array.from(password).length;
  if (length < MIN_PASSWORD_LENGTH || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the password has ${length} characters; expected ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_BYTES}`,
      {
        hint: `choose a password of at least ${MIN_PASSWORD_LENGTH} characters, or let winsmith generate one`,
      },
    );
  }
  return password;
}

/** `scopes` normalized and each once; INVALID_ARGUMENT when an admin would get any. */
function scopesFor(role: Role, scopes: readonly string[]): string[] {
  const normalized = [...new Set(scopes.map(normalizeScope))];
  if (role === 'admin' && normalized.length > 0) {
    throw new AppError('INVALID_ARGUMENT', 'an admin cannot be limited to scopes', {
      hint: 'give scopes to builder, operator or viewer users only; to make a scoped user an admin, clear its scopes first (winsmith user set-scope NAME)',
    });
  }
  return normalized;
}

export interface AddUserOptions {
  readonly name: string;
  readonly role: Role;
  readonly scopes?: readonly string[];
  /** Generated (and returned) when absent. */
  readonly password?: string;
  readonly argon2?: Argon2Params;
  readonly now?: string;
}

/**
 * Adds a user. Scopes are normalized (`team-a` → `team-a/`); admins are never scoped. Returns the
 * password, which is the generated one when none was given: show it once, it is not stored.
 */
export async function addUser(
  accounts: AccountStore,
  options: AddUserOptions,
): Promise<{ user: User; password: string; generated: boolean }> {
  validateUserName(options.name);
  const scopes = scopesFor(options.role, options.scopes ?? []);
  const generated = options.password === undefined;
  const password = options.password === undefined ? generatePassword() : validatePassword(options.password);
  const user = await accounts.createUser({
    name: options.name,
    role: options.role,
    scopes,
    passwordHash: await hashPassword(password, options.argon2 ?? DEFAULT_ARGON2),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { user, password, generated };
}

/** What may change of a user besides its password. */
export interface UserEdit {
  readonly role?: Role;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
}

/**
 * Changes a user's role, scopes or state: scopes normalized, an admin never scoped (the role and
 * scopes it ends with are checked together), the last enabled admin kept (CONFLICT).
 */
export async function editUser(accounts: AccountStore, name: string, edit: UserEdit): Promise<User> {
  const user = await accounts.getUser(name);
  if (user === undefined) {
    throw new AppError('NOT_FOUND', `no user ${name}`, { hint: 'list users with winsmith user list' });
  }
  const role = edit.role ?? user.role;
  const scopes = scopesFor(role, edit.scopes ?? user.scopes);
  const changes: UserChanges = {
    ...(edit.role === undefined ? {} : { role }),
    ...(edit.scopes === undefined ? {} : { scopes }),
    ...(edit.disabled === undefined ? {} : { disabled: edit.disabled }),
  };
  return accounts.updateUser(name, changes);
}

/**
 * Sets a user's password: the one given, or a generated one (returned: show it once). NOT_FOUND
 * when there is no such user.
 */
export async function setPassword(
  accounts: AccountStore,
  name: string,
  options: { readonly password?: string; readonly argon2?: Argon2Params } = {},
): Promise<{ user: User; password: string; generated: boolean }> {
  const generated = options.password === undefined;
  const password = options.password === undefined ? generatePassword() : validatePassword(options.password);
  const user = await accounts.updateUser(name, {
    passwordHash: await hashPassword(password, options.argon2 ?? DEFAULT_ARGON2),
  });
  return { user, password, generated };
}

/**
 * Keeps a generated first-admin password before the account is made (e.g. in a file), and returns
 * the password to use: the one given, or one an earlier start kept.
 */
export type KeepPassword = (generated: string) => Promise<string>;

/**
 * Creates the first admin of a repository that has no user yet, with a generated password to
 * print once (or kept by `keep` first, so that a start that fails later loses nothing). Returns
 * undefined when there already is a user (also when another server created the first admin at
 * the same moment).
 */
export async function createFirstAdmin(
  accounts: AccountStore,
  options: { readonly name?: string; readonly argon2?: Argon2Params; readonly keep?: KeepPassword } = {},
): Promise<{ user: User; password: string } | undefined> {
  if ((await accounts.countUsers()) > 0) return undefined;
  const kept = options.keep === undefined ? undefined : await options.keep(generatePassword());
  try {
    const { user, password } = await addUser(accounts, {
      name: options.name ?? 'admin',
      role: 'admin',
      ...(kept === undefined ? {} : { password: kept }),
      ...(options.argon2 === undefined ? {} : { argon2: options.argon2 }),
    });
    return { user, password };
  } catch (e) {
    if (e instanceof AppError && e.code === 'ALREADY_EXISTS') return undefined;
    throw e;
  }
}
