// The audit log: who changed what, when, from where, with details that never keep a secret.
// Append-only; listed newest first, in bounded pages.

import type { Kysely, Selectable } from 'kysely';
import { kyselyOf, type Database } from '../db/database.ts';
import { nowIso, parseObject, toNumber } from '../db/rows.ts';
import type { AuditLogTable, CatalogSchema } from '../db/schema.ts';

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string | null;
  readonly action: string;
  readonly target: string | null;
  /** Where the request came from: a client address, or `local` for the CLI on a data directory. */
  readonly client: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface NewAuditEntry {
  readonly actor: string | null;
  readonly action: string;
  readonly target?: string | null;
  readonly client?: string | null;
  /** Never secrets: values under secret-looking keys are redacted (see redactSecrets). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly at?: string;
}

export interface AuditQuery {
  readonly limit?: number;
  /** Entries with an id below this one (paging backwards). */
  readonly beforeId?: number;
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  /** Entries at or after this time (ISO 8601, UTC: as `at` is written). */
  readonly since?: string;
  /** Entries before this time (ISO 8601, UTC). */
  readonly until?: string;
}

/** A page of the audit log, and the `beforeId` of the next one (null: this is the last). */
export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly next: number | null;
}

/** Audit log pages are at most this long: listings stay bounded whatever the caller asks. */
export const MAX_AUDIT_PAGE = 1000;

function toAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: toNumber(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    client: row.client,
    details: parseObject(row.details, 'audit details'),
  };
}

const SECRET_KEY = /password|secret|^(token|tokenhash|authorization|cookie|credentials?)$/i;
/** Nesting kept in audit details; deeper values are dropped (details are short summaries). */
const MAX_AUDIT_DETAIL_DEPTH = 8;

/**
 * Audit details with every value under a secret-looking key (password, secret, token,
 * authorization, ...) replaced by "[redacted]", at any depth: a careless caller cannot put a
 * secret in the log.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_AUDIT_DETAIL_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v, depth + 1),
      ]),
    );
  }
  return value;
}

export class AuditLog {
  readonly #db: Kysely<CatalogSchema>;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
  }

  // ---- audit log -------------------------------------------------------------------------

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.#db
      .insertInto('audit_log')
      .values({
        at: entry.at ?? nowIso(),
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        client: entry.client ?? null,
        details: JSON.stringify(redactSecrets(entry.details ?? {})),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAudit(row);
  }

  /** Audit entries, newest first, at most MAX_AUDIT_PAGE. */
  async listAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return (await this.#select(query, auditLimit(query))).map(toAudit);
  }

  /** A page of audit entries, newest first, at most MAX_AUDIT_PAGE, and whether more follow. */
  async listAuditPage(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = auditLimit(query);
    // One more than the page, to know whether another follows without a second query.
    const rows = (await this.#select(query, limit + 1)).map(toAudit);
    const entries = rows.slice(0, limit);
    return { entries, next: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
  }

  #select(query: AuditQuery, rows: number) {
    let q = this.#db.selectFrom('audit_log').selectAll();
    if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.target !== undefined) q = q.where('target', '=', query.target);
    if (query.since !== undefined) q = q.where('at', '>=', query.since);
    if (query.until !== undefined) q = q.where('at', '<', query.until);
    return q.orderBy('id', 'desc').limit(rows).execute();
  }
}

function auditLimit(query: AuditQuery): number {
  return Math.max(1, Math.min(query.limit ?? 100, MAX_AUDIT_PAGE));
}
