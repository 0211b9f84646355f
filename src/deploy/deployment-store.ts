// The deployments' part of the catalog: profiles (their YAML sealed, a summary for listings),
// deployments (state and history, the image resolved, the agent's token hashed, the sealed
// secrets, progress, the disk, the error) and the log lines agents send. A machine has one active
// deployment at most: the database refuses a second (a unique index over the rows not ended).

import type { Kysely, Selectable } from 'kysely';
import { AppError } from '../core/errors.ts';
import { kyselyOf, type Database } from '../db/database.ts';
import {
  batches,
  decodePageCursor,
  nameWithin,
  nowIso,
  pageOf,
  parseJson,
  parseObject,
  stateIn,
  toNumber,
} from '../db/rows.ts';
import type { CatalogSchema, DeploymentsTable, ProfilesTable } from '../db/schema.ts';
import { DEPLOYMENT_STATES, type DeploymentState } from './agent-protocol.ts';

export interface StoredProfile {
  readonly name: string;
  /** The YAML text, sealed. */
  readonly sealed: string;
  readonly summary: Readonly<Record<string, unknown>>;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedBy: string | null;
  readonly updatedAt: string;
}

/** A deployment writes an image to a machine's disk; a capture reads a machine's Windows into an image. */
export type DeploymentKind = 'deploy' | 'capture';

export interface Deployment {
  readonly id: string;
  readonly kind: DeploymentKind;
  readonly machineId: string;
  readonly profile: string;
  readonly image: {
    readonly name: string;
    readonly tag: string;
    readonly digest: string;
    readonly size: number;
    readonly edition: number;
  };
  readonly state: DeploymentState;
  readonly history: readonly { readonly state: DeploymentState; readonly at: string }[];
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Sealed secrets and answer file; the application opens them. */
  readonly sealed: string;
  readonly unattendFetchedAt: string | null;
  readonly progress: { readonly done: number; readonly total: number };
  readonly disk: string | null;
  readonly inventory: unknown;
  readonly error: { readonly message: string; readonly step: string } | null;
  readonly lastReportAt: string | null;
  /** A capture's partition (null: the agent finds the Windows partition); null for a deployment. */
  readonly capturePartition: number | null;
  /** The upload a capture's agent streams into, once it has begun. */
  readonly uploadId: string | null;
}

export interface NewDeployment {
  readonly id: string;
  readonly machineId: string;
  readonly profile: string;
  readonly image: Deployment['image'];
  readonly sealed: string;
  readonly createdBy: string;
  /** A capture: the image is the target NAME:TAG (its digest empty until committed). */
  readonly capture?: { readonly partition: number | null };
}

/** States a deployment no longer moves from. */
/** Deployments one page of a listing holds at most, and by default (the newest first). */
export const DEPLOYMENT_PAGE_MAX = 1000;
export const DEPLOYMENT_PAGE_DEFAULT = 100;

export interface DeploymentFilter {
  /** One machine's only. */
  readonly machineId?: string;
  /** true: those not ended only. */
  readonly active?: boolean;
}

const ENDED_STATES: readonly DeploymentState[] = ['done', 'failed', 'cancelled'];

export function isEnded(state: DeploymentState): boolean {
  return ENDED_STATES.includes(state);
}

/** States in which a machine works on its deployment (booted, not ended): it must be heard from. */
const WORKING_STATES = DEPLOYMENT_STATES.filter((s) => s !== 'queued' && !isEnded(s));

function stateOf(text: string): DeploymentState {
  return stateIn(DEPLOYMENT_STATES, text, 'deployment');
}

function toProfile(row: Selectable<ProfilesTable>): StoredProfile {
  return {
    name: row.name,
    sealed: row.sealed,
    summary: parseObject(row.summary, 'profile summary'),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

function toDeployment(row: Selectable<DeploymentsTable>): Deployment {
  const history = parseJson(row.history, 'deployment history');
  return {
    id: row.id,
    kind: row.kind === 'capture' ? 'capture' : 'deploy',
    machineId: row.machine_id,
    profile: row.profile,
    image: {
      name: row.image_name,
      tag: row.image_tag,
      digest: row.image_digest,
      size: toNumber(row.image_size),
      edition: row.edition,
    },
    state: stateOf(row.state),
    history: (Array.isArray(history) ? history : []).map((h: { state: string; at: string }) => ({
      state: stateOf(h.state),
      at: h.at,
    })),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sealed: row.sealed,
    unattendFetchedAt: row.unattend_fetched_at,
    progress: { done: toNumber(row.progress_done), total: toNumber(row.progress_total) },
    disk: row.disk,
    inventory: parseJson(row.inventory, 'deployment inventory'),
    error:
      row.error_message === null ? null : { message: row.error_message, step: row.error_step ?? 'unknown' },
    lastReportAt: row.last_report_at,
    capturePartition: row.capture_partition,
    uploadId: row.upload_id,
  };
}

export function noDeployment(id: string): AppError {
  return new AppError('NOT_FOUND', `no deployment ${JSON.stringify(id.slice(0, 80))}`, {
    hint: "list deployments with 'winsmith deployments'",
  });
}

/** Log lines kept per deployment; an agent's lines past these are dropped. */
export const MAX_DEPLOYMENT_LOG_LINES = 20_000;

/** What a report changes on a deployment. */
export interface DeploymentReport {
  readonly state?: DeploymentState;
  readonly progress?: { readonly done: number; readonly total: number };
  readonly disk?: string;
  readonly inventory?: unknown;
  readonly error?: { readonly message: string; readonly step: string };
  readonly lines?: readonly string[];
}

export class DeploymentStore {
  readonly #db: Kysely<CatalogSchema>;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
  }

  // ---- profiles --------------------------------------------------------------------------

  /** Creates or replaces a profile; the previous one's creation time is kept. */
  async putProfile(
    profile: { readonly name: string; readonly sealed: string; readonly summary: Record<string, unknown> },
    by: string,
    now = nowIso(),
  ): Promise<StoredProfile> {
    const row = await this.#db
      .insertInto('profiles')
      .values({
        name: profile.name,
        sealed: profile.sealed,
        summary: JSON.stringify(profile.summary),
        created_by: by,
        created_at: now,
        updated_by: by,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          sealed: profile.sealed,
          summary: JSON.stringify(profile.summary),
          updated_by: by,
          updated_at: now,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toProfile(row);
  }

  async getProfile(name: string): Promise<StoredProfile | undefined> {
    const row = await this.#db.selectFrom('profiles').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toProfile(row);
  }

  async listProfiles(): Promise<StoredProfile[]> {
    const rows = await this.#db.selectFrom('profiles').selectAll().orderBy('name').execute();
    return rows.map(toProfile);
  }

  async deleteProfile(name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('profiles').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- deployments -----------------------------------------------------------------------

  /** A new deployment, `queued`; CONFLICT when the machine has one not ended. */
  async createDeployment(deployment: NewDeployment, now = nowIso()): Promise<Deployment> {
    try {
      const row = await this.#db
        .insertInto('deployments')
        .values({
          id: deployment.id,
          machine_id: deployment.machineId,
          profile: deployment.profile,
          image_name: deployment.image.name,
          image_tag: deployment.image.tag,
          image_digest: deployment.image.digest,
          image_size: deployment.image.size,
          edition: deployment.image.edition,
          state: 'queued',
          history: JSON.stringify([{ state: 'queued', at: now }]),
          created_by: deployment.createdBy,
          created_at: now,
          updated_at: now,
          token_hash: null,
          sealed: deployment.sealed,
          kind: deployment.capture === undefined ? 'deploy' : 'capture',
          capture_partition: deployment.capture?.partition ?? null,
          upload_id: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toDeployment(row);
    } catch (e) {
      if ((await this.activeFor(deployment.machineId)) !== undefined) {
        throw new AppError('CONFLICT', `machine ${deployment.machineId} already has a deployment under way`, {
          hint: "wait for it to end, or cancel it with 'winsmith deployment cancel ID'",
        });
      }
      throw e;
    }
  }

  /** Records the upload a capture streams into (kept when one is already recorded); the upload's id. */
  async setUpload(id: string, uploadId: string): Promise<string> {
    await this.#db
      .updateTable('deployments')
      .set({ upload_id: uploadId })
      .where('id', '=', id)
      .where('upload_id', 'is', null)
      .execute();
    return (await this.requireDeployment(id)).uploadId ?? uploadId;
  }

  /** A capture's image once committed: its digest and size. */
  async setCapturedImage(id: string, digest: string, size: number, now = nowIso()): Promise<void> {
    await this.#db
      .updateTable('deployments')
      .set({ image_digest: digest, image_size: size, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = await this.#db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toDeployment(row);
  }

  async requireDeployment(id: string): Promise<Deployment> {
    const found = await this.getDeployment(id);
    if (found === undefined) throw noDeployment(id);
    return found;
  }

  /** The machine's deployment not yet ended, if it has one. */
  async activeFor(machineId: string): Promise<Deployment | undefined> {
    const row = await this.#db
      .selectFrom('deployments')
      .selectAll()
      .where('machine_id', '=', machineId)
      .where('state', 'not in', [...ENDED_STATES])
      .executeTakeFirst();
    return row === undefined ? undefined : toDeployment(row);
  }

  /** How many deployments are in each state (every state, 0 for those none is in). */
  async countByState(): Promise<Record<DeploymentState, number>> {
    const rows = await this.#db
      .selectFrom('deployments')
      .select((eb) => ['state', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('state')
      .execute();
    const counts = Object.fromEntries(DEPLOYMENT_STATES.map((s) => [s, 0])) as Record<
      DeploymentState,
      number
    >;
    for (const row of rows) counts[stateOf(row.state)] = Number(row.n);
    return counts;
  }

  /** Deployments, newest first; with a machine, its own only; with `active`, those not ended. */
  async listDeployments(filter: DeploymentFilter = {}): Promise<Deployment[]> {
    const rows = await this.#filtered(filter)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(DEPLOYMENT_PAGE_MAX)
      .execute();
    return rows.map(toDeployment);
  }

  /**
   * One page of the deployments `listDeployments` gives whose image is within `scopes` (image-name
   * prefixes, as `nameInScope` says; null: any image), those after the page `cursor` ended only
   * (null: the first); at most `limit`, and the cursor of the next page (null: the last).
   */
  async listDeploymentPage(
    query: DeploymentFilter & {
      readonly scopes: readonly string[] | null;
      readonly limit: number;
      readonly cursor: string | null;
    },
  ): Promise<{ deployments: Deployment[]; next: string | null }> {
    const limit = Math.min(DEPLOYMENT_PAGE_MAX, Math.max(1, Math.floor(query.limit)));
    let q = this.#filtered(query);
    if (query.scopes !== null) q = q.where((eb) => nameWithin(eb, 'image_name', query.scopes));
    if (query.cursor !== null) {
      const [createdAt = '', id = ''] = decodePageCursor(query.cursor, 2);
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const page = pageOf(rows, limit, toDeployment, (d) => [d.createdAt, d.id]);
    return { deployments: page.records, next: page.next };
  }

  #filtered(filter: DeploymentFilter) {
    let query = this.#db.selectFrom('deployments').selectAll();
    if (filter.machineId !== undefined) query = query.where('machine_id', '=', filter.machineId);
    if (filter.active === true) query = query.where('state', 'not in', [...ENDED_STATES]);
    return query;
  }

  /** The deployments of `ids` that exist, in the order of `ids`. */
  async getDeployments(ids: readonly string[]): Promise<Deployment[]> {
    const found = new Map<string, Deployment>();
    for (const batch of batches([...new Set(ids)])) {
      const rows = await this.#db.selectFrom('deployments').selectAll().where('id', 'in', batch).execute();
      for (const row of rows) found.set(row.id, toDeployment(row));
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /** The deployment whose agent holds the token of this hash, while it is not ended. */
  async findByTokenHash(tokenHash: string): Promise<Deployment | undefined> {
    const row = await this.#db
      .selectFrom('deployments')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('state', 'not in', [...ENDED_STATES])
      .executeTakeFirst();
    return row === undefined ? undefined : toDeployment(row);
  }

  /**
   * Moves a deployment to `state` if it is in one of `from` (CONFLICT otherwise), appending to its
   * history, with the other changes given. Returns the deployment as it now is.
   */
  async transition(
    id: string,
    from: readonly DeploymentState[],
    state: DeploymentState,
    changes: Partial<Pick<DeploymentsTable, 'token_hash' | 'error_message' | 'error_step'>> = {},
    now = nowIso(),
  ): Promise<Deployment> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) throw noDeployment(id);
      const current = toDeployment(row);
      if (!from.includes(current.state)) {
        throw new AppError('CONFLICT', `deployment ${id} is ${current.state}, not ${from.join(' or ')}`, {
          hint: "see 'winsmith deployment show ID'",
        });
      }
      const history = [...current.history, { state, at: now }];
      const updated = await trx
        .updateTable('deployments')
        .set({ ...changes, state, history: JSON.stringify(history), updated_at: now })
        .where('id', '=', id)
        .where('state', '=', current.state)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toDeployment(updated);
    });
  }

  /**
   * What an agent reported: progress, disk, inventory, error, log lines; it is also a heartbeat.
   * Returns the deployment as it now is.
   */
  async recordReport(id: string, report: DeploymentReport, now = nowIso()): Promise<Deployment> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('deployments')
        .set({
          last_report_at: now,
          updated_at: now,
          ...(report.progress === undefined
            ? {}
            : { progress_done: report.progress.done, progress_total: report.progress.total }),
          ...(report.disk === undefined ? {} : { disk: report.disk }),
          ...(report.inventory === undefined ? {} : { inventory: JSON.stringify(report.inventory) }),
          ...(report.error === undefined
            ? {}
            : { error_message: report.error.message, error_step: report.error.step }),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) throw noDeployment(id);
      let lines = report.lines ?? [];
      if (lines.length > 0) {
        const kept = await trx
          .selectFrom('deployment_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('deployment_id', '=', id)
          .executeTakeFirstOrThrow();
        lines = lines.slice(0, Math.max(0, MAX_DEPLOYMENT_LOG_LINES - toNumber(kept.n)));
      }
      if (lines.length > 0) {
        await trx
          .insertInto('deployment_log')
          .values(lines.map((line) => ({ deployment_id: id, at: now, line })))
          .execute();
      }
      return toDeployment(row);
    });
  }

  /** Marks the answer file fetched; false when it already was (it is served once). */
  async takeUnattend(id: string, now = nowIso()): Promise<boolean> {
    const result = await this.#db
      .updateTable('deployments')
      .set({ unattend_fetched_at: now })
      .where('id', '=', id)
      .where('unattend_fetched_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The log lines of a deployment, oldest first, after line `afterId` (0: from the start). */
  async logLines(
    id: string,
    afterId = 0,
    limit = 10_000,
  ): Promise<{ id: number; at: string; line: string }[]> {
    const rows = await this.#db
      .selectFrom('deployment_log')
      .select(['id', 'at', 'line'])
      .where('deployment_id', '=', id)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: toNumber(r.id), at: r.at, line: r.line }));
  }

  /**
   * Deployments under way whose agent has gone silent: booting ones whose last change of state (the
   * boot script's start of the deploy environment) is older than `bootingBefore`; the others, whose
   * last report (or, with none, last change of state) is older than `before`.
   */
  async silentSince(before: string, bootingBefore: string): Promise<Deployment[]> {
    const rows = await this.#db
      .selectFrom('deployments')
      .selectAll()
      .where('state', 'in', [...WORKING_STATES])
      .where((eb) => {
        const lastSign = eb.fn.coalesce('last_report_at', 'updated_at');
        return eb.or([
          eb.and([eb('state', '=', 'booting'), eb(lastSign, '<', bootingBefore)]),
          eb.and([eb('state', '!=', 'booting'), eb(lastSign, '<', before)]),
        ]);
      })
      .execute();
    return rows.map(toDeployment);
  }
}
