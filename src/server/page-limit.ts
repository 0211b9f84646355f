// The `limit` of a listing's page as a query gives it: a whole number from 1 to the listing's
// maximum, its default when absent.

import { AppError } from '../core/errors.ts';

/** The limit `text` asks of a listing of `what` (a plural noun) with `bounds`; INVALID_ARGUMENT otherwise. */
export function pageLimit(
  text: string | undefined,
  what: string,
  bounds: { readonly default: number; readonly max: number },
): number {
  const limit = text === undefined ? bounds.default : Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > bounds.max) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `limit must be 1 to ${bounds.max}, found ${JSON.stringify(text)}`,
      {
        hint: `ask for at most ${bounds.max} ${what} a page and follow next`,
      },
    );
  }
  return limit;
}
