// The token of a request's `Authorization: Bearer …` header: a user's API token, or a deploy
// agent's deployment token.

import type { Context } from 'hono';
import { AppError } from '../core/errors.ts';

/** The token sent, or null when there is no Authorization header; UNAUTHORIZED when it is not Bearer. */
export function bearer(c: Context): string | null {
  const header = c.req.header('authorization');
  if (header === undefined) return null;
  const m = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,512})$/.exec(header);
  if (m === null) {
    throw new AppError('UNAUTHORIZED', 'the Authorization header is not "Bearer TOKEN"', {
      hint: "run 'winsmith login URL' to get a token",
    });
  }
  return m[1] ?? null;
}
