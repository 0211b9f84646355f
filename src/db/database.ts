// Opens the catalog database and brings its schema to the latest version. Two dialects, one set of
// queries (Kysely): SQLite through node:sqlite (built into Node 24) for the embedded single-server
// set-up, PostgreSQL through pg for several servers sharing one catalog. The database is handed
// around as an opaque Database; only the stores of each domain (images, accounts, audit, machines)
// reach its Kysely handle, through kyselyOf: nothing above a store sees a row or a query.

import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Migration,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import { AppError } from '../core/errors.ts';
import { initialMigration } from './migrations/0001-initial.ts';
import { scopedDedupMigration } from './migrations/0002-scoped-dedup.ts';
import { machineNamesMigration } from './migrations/0003-machine-names.ts';
import { deploymentsMigration } from './migrations/0004-deployments.ts';
import { capturesMigration } from './migrations/0006-captures.ts';
import { multicastMigration } from './migrations/0007-multicast.ts';
import { tokenScopesMigration } from './migrations/0008-token-scopes.ts';
import { machinePagesMigration } from './migrations/0009-machine-pages.ts';
import { tokenKindsMigration } from './migrations/0010-token-kinds.ts';
import type { CatalogSchema, DatabaseKind } from './schema.ts';

export type { DatabaseKind };

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly maxConnections?: number };

/** How long a writer waits for another process's lock on the SQLite file before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/** Pool size per server process; several servers share one PostgreSQL. */
const POSTGRES_DEFAULT_POOL = 10;

/** Every schema version, oldest first. Names sort in the order they apply. */
export function catalogMigrations(kind: DatabaseKind): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(kind),
    '0002-scoped-dedup': scopedDedupMigration(),
    '0003-machine-names': machineNamesMigration(),
    '0004-deployments': deploymentsMigration(kind),
    '0006-captures': capturesMigration(),
    '0007-multicast': multicastMigration(),
    '0008-token-scopes': tokenScopesMigration(),
    '0009-machine-pages': machinePagesMigration(),
    '0010-token-kinds': tokenKindsMigration(),
  };
}

/** Prepared statements kept per database, least recently used dropped first. */
const STATEMENTS_KEPT = 256;

/**
 * Kysely's SqliteDialect drives any object shaped like better-sqlite3's Database; this is that
 * shape over node:sqlite's DatabaseSync. A statement is prepared once per query text and kept: the
 * catalog asks the same few queries for every chunk pushed, and preparing cost more than running.
 * (Kysely runs one query at a time on the connection, and this code never streams a query.)
 */
export function sqliteAdapter(database: DatabaseSync): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  const prepare = (query: string): SqliteStatement => {
    // Every catalog transaction writes. A deferred `begin` takes the write lock only at the first
    // write, and a reader that must upgrade while another connection writes fails at once with
    // SQLITE_BUSY (the busy timeout does not apply); `begin immediate` waits for the lock.
    const statement = database.prepare(query === 'begin' ? 'begin immediate' : query);
    const params = (values: readonly unknown[]): SQLInputValue[] => values as SQLInputValue[];
    return {
      reader: statement.columns().length > 0,
      all: (values) => statement.all(...params(values)),
      run: (values) => {
        const result = statement.run(...params(values));
        return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
      },
      iterate: (values) => statement.iterate(...params(values)),
    };
  };
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (query: string): SqliteStatement => {
      const kept = statements.get(query) ?? prepare(query);
      statements.delete(query);
      statements.set(query, kept);
      for (const oldest of statements.keys()) {
        if (statements.size <= STATEMENTS_KEPT) break;
        statements.delete(oldest);
      }
      return kept;
    },
  };
}

/** Strips the password from a connection URL before it reaches a message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function openSqlite(path: string): Kysely<CatalogSchema> {
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    database.exec('PRAGMA journal_mode = WAL');
    // A commit appends to the WAL without waiting for the disk (checkpoints still sync): node:sqlite
    // runs on the event loop, and an fsync per commit there stalls every request while the disk is
    // busy. A power cut may lose the last commits; the catalog stays consistent (WAL).
    database.exec('PRAGMA synchronous = NORMAL');
    database.exec('PRAGMA foreign_keys = ON');
    database.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  } catch (cause) {
    throw new AppError('IO_ERROR', `cannot open the SQLite catalog ${path}: ${String(cause)}`, {
      hint: 'check that the data directory exists and is writable',
      cause,
    });
  }
  return new Kysely<CatalogSchema>({ dialect: new SqliteDialect({ database: sqliteAdapter(database) }) });
}

/** pg is loaded only for a PostgreSQL catalog: a SQLite one (every command on a data directory) never pays for it. */
async function openPostgres(url: string, maxConnections: number): Promise<Kysely<CatalogSchema>> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  // An idle connection that the server closes (restart, failover, admin command) emits 'error'
  // on the pool; unhandled, that would end the process. The pool drops that connection and the
  // next query opens a new one, so there is nothing else to do.
  pool.on('error', () => undefined);
  return new Kysely<CatalogSchema>({ dialect: new PostgresDialect({ pool }) });
}

/** Applies every migration not yet applied. Safe to run from several servers at once. */
export async function migrateCatalog(db: Kysely<CatalogSchema>, kind: DatabaseKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(catalogMigrations(kind)) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new AppError('IO_ERROR', `catalog migration ${failed} failed: ${messageOf(error)}`, {
      hint: 'the catalog database may be newer than this winsmith, or unreachable; check the database config',
      cause: error,
    });
  }
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : JSON.stringify(cause);
}

/** The catalog database, open and migrated; its stores reach it through kyselyOf. */
export class Database {
  readonly kind: DatabaseKind;

  constructor(db: Kysely<CatalogSchema>, kind: DatabaseKind) {
    this.kind = kind;
    handles.set(this, db);
  }

  async close(): Promise<void> {
    await kyselyOf(this).destroy();
  }
}

const handles = new WeakMap<Database, Kysely<CatalogSchema>>();

/** The Kysely handle of a database: for the stores (src/{store,auth,audit,machines}/*-store.ts) only. */
export function kyselyOf(database: Database): Kysely<CatalogSchema> {
  const db = handles.get(database);
  if (db === undefined) throw new AppError('INTERNAL', 'a Database made outside openDatabase');
  return db;
}

/** Opens the catalog database and migrates it to the latest schema version. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const db =
    config.kind === 'sqlite'
      ? openSqlite(config.path)
      : await openPostgres(config.url, config.maxConnections ?? POSTGRES_DEFAULT_POOL);
  const where = config.kind === 'sqlite' ? config.path : redactUrl(config.url);
  try {
    await sql`select 1`.execute(db);
  } catch (cause) {
    await db.destroy();
    throw new AppError('IO_ERROR', `cannot reach the catalog database ${where}: ${messageOf(cause)}`, {
      hint: 'check the catalog settings of the config (url, user, password) and that the database server is running',
      cause,
    });
  }
  try {
    await migrateCatalog(db, config.kind);
  } catch (cause) {
    await db.destroy();
    throw cause;
  }
  return new Database(db, config.kind);
}
