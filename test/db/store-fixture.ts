// The fixture every store's contract runs on: a fresh, migrated database with each domain's store
// on it, made by the runner of one dialect (catalog-sqlite.test.ts, catalog-postgres.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { AppError } from '../../src/core/errors.ts';
import type { Database } from '../../src/db/database.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';
import { ImageCatalog } from '../../src/store/image-catalog.ts';

export interface StoreFixture {
  readonly database: Database;
  readonly images: ImageCatalog;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly machines: MachineStore;
  /** Opens the same database again (as another server, or after a restart); the caller closes it. */
  readonly reopen: () => Promise<Database>;
  /**
   * Whether two connections in one process may hold transactions at the same time. node:sqlite
   * is synchronous: a second connection waiting for the write lock blocks the event loop the first
   * needs to commit, so SQLite is one connection a process (several processes do wait in turn).
   */
  readonly concurrentConnections: boolean;
}

/** What a dialect's runner gives: a fresh database, and how to open it again. */
export type DatabaseFactory = () => Promise<{
  readonly database: Database;
  readonly reopen: () => Promise<Database>;
  readonly concurrentConnections: boolean;
}>;

/** Registers one contract test, run on a fresh fixture that is closed after. */
export type StoreTest = (name: string, fn: (fixture: StoreFixture) => Promise<void>) => void;

export function storeTests(label: string, factory: DatabaseFactory): StoreTest {
  return (name, fn) => {
    test(`${label}: ${name}`, { timeout: 60_000 }, async () => {
      const { database, reopen, concurrentConnections } = await factory();
      try {
        await fn({
          database,
          images: new ImageCatalog(database),
          accounts: new AccountStore(database),
          audit: new AuditLog(database),
          machines: new MachineStore(database),
          reopen,
          concurrentConnections,
        });
      } finally {
        await database.close();
      }
    });
  };
}

export const hex = (c: string): string => c.repeat(64);

export function hasCode(code: string) {
  return (e: unknown): boolean => e instanceof AppError && e.code === code;
}

/**
 * Every record of a listing read a page of at most `limit` at a time, from the first page to the one
 * with no next (each page checked to hold at most `limit`), and how many pages that took.
 */
export async function walkPages<T>(
  limit: number,
  read: (cursor: string | null) => Promise<{ readonly records: readonly T[]; readonly next: string | null }>,
): Promise<{ seen: T[]; pages: number }> {
  const seen: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { readonly records: readonly T[]; readonly next: string | null } = await read(cursor);
    assert.ok(page.records.length <= limit, `a page of ${page.records.length}, more than ${limit}`);
    seen.push(...page.records);
    cursor = page.next;
    pages++;
  } while (cursor !== null);
  return { seen, pages };
}
