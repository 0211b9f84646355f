// Whole numbers a query gives: the `limit` of a listing's page, an index, an offset; each within
// its bounds, its default when absent.

import { AppError } from '../core/errors.ts';

/** The whole number `text` gives query value `name`, within [min, max], `fallback` when absent; INVALID_ARGUMENT otherwise. */
export function wholeNumberIn(
  name: string,
  text: string | undefined,
  bounds: { readonly min: number; readonly max: number; readonly default: number },
  hint = `see ${name} in /api/openapi.json`,
): number {
  const value = text === undefined ? bounds.default : Number(text);
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${name} must be ${bounds.min} to ${bounds.max}, found ${JSON.stringify(text)}`,
      {
        hint,
      },
    );
  }
  return value;
}

/** The limit `text` asks of a listing of `what` (a plural noun) with `bounds`; INVALID_ARGUMENT otherwise. */
export function pageLimit(
  text: string | undefined,
  what: string,
  bounds: { readonly default: number; readonly max: number },
): number {
  return wholeNumberIn(
    'limit',
    text,
    { ...bounds, min: 1 },
    `ask for at most ${bounds.max} ${what} a page and follow next`,
  );
}
