// Password login: rate-limited, the same error for an unknown user, a wrong password and a
// disabled account, and the same work for each (an unknown user is checked against a dummy hash),
// so neither the answer nor its timing tells which names exist.

import { AppError } from '../core/errors.ts';
import type { AccountStore } from './account-store.ts';
import { DEFAULT_ARGON2, hashPassword, verifyPassword } from './passwords.ts';
import type { LoginRateLimiter } from './rate-limit.ts';
import type { Principal } from './roles.ts';
import { principalOf } from './users.ts';

let dummyHash: Promise<string> | undefined;

function loginFailed(): AppError {
  return new AppError('UNAUTHORIZED', 'wrong user name or password', {
    hint: 'check the user name and password; an admin can reset them',
  });
}

export interface LoginRequest {
  readonly name: string;
  readonly password: string;
  /** The client's address, for rate limiting. */
  readonly client: string;
}

/** The principal for a correct name and password; UNAUTHORIZED or RATE_LIMITED otherwise. */
export async function authenticatePassword(
  accounts: AccountStore,
  limiter: LoginRateLimiter,
  request: LoginRequest,
): Promise<Principal> {
  limiter.assertAllowed(request.name, request.client);
  const user = await accounts.getUser(request.name);
  dummyHash ??= hashPassword('winsmith dummy password', DEFAULT_ARGON2);
  const ok = await verifyPassword(request.password, user?.passwordHash ?? (await dummyHash));
  if (user === undefined || !ok || user.disabled) {
    limiter.recordFailure(request.name, request.client);
    throw loginFailed();
  }
  limiter.recordSuccess(request.name, request.client);
  return principalOf(user);
}
