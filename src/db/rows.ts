// What every store needs to turn rows into records: numbers from either dialect's integers, JSON
// text parsed (a value that does not parse says the database was changed by something else),
// times as ISO 8601 strings, and long `in (...)` lists cut into batches.

import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SqlBool,
  type Transaction,
} from 'kysely';
import { AppError } from '../core/errors.ts';
import type { CatalogSchema } from './schema.ts';

/** A store's handle, or a transaction of it: the same queries run on both. */
export type Db = Kysely<CatalogSchema> | Transaction<CatalogSchema>;

/** Values per `in (...)` list: well under every dialect's limit on parameters. */
export const VALUES_PER_QUERY = 500;

export const nowIso = (): string => new Date().toISOString();

/** `items` in lists of at most `size`. */
export function batches<T>(items: readonly T[], size: number = VALUES_PER_QUERY): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A count or size as a number (PostgreSQL's bigint arrives as a string); 0 for null. */
export function toNumber(value: number | string | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new AppError('INTERNAL', `catalog value ${String(value)} is not a safe integer`);
  }
  return n;
}

export function parseJson(text: string | null, what: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new AppError('FORMAT_INVALID', `catalog ${what} is not valid JSON`, {
      hint: 'the catalog database was changed by something other than winsmith',
      cause,
    });
  }
}

export function parseObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function parseStringArray(text: string, what: string): string[] {
  const value = parseJson(text, what);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Thrown inside a transaction to roll it back when a conditional write found its condition false. */
/** A row's state, one of `states`; another is an error saying the database was changed outside winsmith. */
export function stateIn<T extends string>(states: readonly T[], text: string, what: string): T {
  const state = states.find((s) => s === text);
  if (state === undefined) {
    throw new AppError('FORMAT_INVALID', `a ${what} has the unknown state ${JSON.stringify(text)}`, {
      hint: 'the catalog database was changed by something other than winsmith',
    });
  }
  return state;
}

export class Refused extends Error {}

/**
 * The cursor of a listing's page that ends at the record whose sort key is `key` (its columns'
 * values in the listing's order): opaque to clients, base64url of their JSON.
 */
export function encodePageCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key of `columns` values a cursor holds; INVALID_ARGUMENT for one encodePageCursor did not make. */
export function decodePageCursor(cursor: string, columns: number): string[] {
  let value: unknown = null;
  if (/^[A-Za-z0-9_-]{1,600}$/.test(cursor)) {
    try {
      value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    } catch {
      value = null;
    }
  }
  if (Array.isArray(value) && value.length === columns && value.every((v) => typeof v === 'string')) {
    return value;
  }
  throw refusedCursor(cursor);
}

/** The error of a cursor no page of this server ended with. */
export function refusedCursor(cursor: string): AppError {
  return new AppError(
    'INVALID_ARGUMENT',
    `cursor ${JSON.stringify(cursor.slice(0, 80))} is not one this server gave`,
    { hint: 'pass the next cursor of the previous page' },
  );
}

/**
 * A page of a listing from the rows its query read with `limit + 1`: the first `limit` made records,
 * and the cursor of the next page (the last record's sort key) when there was one row more.
 */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  toRecord: (row: R) => T,
  keyOf: (record: T) => readonly string[],
): { records: T[]; next: string | null } {
  const records = rows.slice(0, limit).map(toRecord);
  const last = records.at(-1);
  return { records, next: rows.length > limit && last !== undefined ? encodePageCursor(keyOf(last)) : null };
}

/**
 * The image name in `column` within one of `scopes` (image-name prefixes; null: any name), as
 * `nameInScope` says: the scope itself or a name under it. Compared with substr, not LIKE, so `_`
 * and `%` in a scope are plain characters.
 */
export function nameWithin<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  column: string,
  scopes: readonly string[] | null,
): Expression<SqlBool> {
  if (scopes === null) return eb.lit(true);
  const name = sql.ref<string>(column);
  return eb.or(
    scopes.flatMap((scope) => {
      const bare = scope.replace(/\/$/, '');
      const under = `${bare}/`;
      return [
        eb(name, '=', bare),
        eb(eb.fn<string>('substr', [name, eb.val(1), eb.val(under.length)]), '=', under),
      ];
    }),
  );
}
