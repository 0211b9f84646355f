// The multicast part of the catalog: sessions (the group's name, the image and edition sent, the
// multicast address and ports, the rules, state and bytes sent) and each deployment's place in its
// session. The server that runs a session's sender writes its state; every reader (a server, the
// CLI on a data directory) sees it here.

import type { Kysely, Selectable } from 'kysely';
import { kyselyOf, type Database } from '../db/database.ts';
import { batches, nowIso, stateIn, toNumber } from '../db/rows.ts';
import type { CatalogSchema, MulticastReceiversTable, MulticastSessionsTable } from '../db/schema.ts';
import { MULTICAST_RECEIVER_STATES, type MulticastReceiverState } from './agent-protocol.ts';

/**
 * A session's states: queued (no machine asked yet), preparing (the edition made pipable),
 * joining (udp-sender waits for its receivers), sending, then done, failed or cancelled.
 */
export const MULTICAST_SESSION_STATES = [
  'queued',
  'preparing',
  'joining',
  'sending',
  'done',
  'failed',
  'cancelled',
] as const;
export type MulticastSessionState = (typeof MULTICAST_SESSION_STATES)[number];

const ENDED_SESSION_STATES: readonly MulticastSessionState[] = ['done', 'failed', 'cancelled'];

export function sessionEnded(state: MulticastSessionState): boolean {
  return ENDED_SESSION_STATES.includes(state);
}

export interface MulticastSession {
  readonly id: string;
  readonly name: string;
  readonly image: { readonly digest: string; readonly edition: number };
  readonly address: string;
  readonly portBase: number;
  readonly minReceivers: number;
  readonly maxWaitSeconds: number;
  readonly maxBitsPerSecond: number | null;
  readonly state: MulticastSessionState;
  readonly bytesSent: number;
  readonly bytesTotal: number;
  readonly error: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MulticastReceiver {
  readonly deploymentId: string;
  readonly sessionId: string;
  readonly state: MulticastReceiverState;
  readonly reason: string | null;
  readonly updatedAt: string;
}

export type NewMulticastSession = Omit<
  MulticastSession,
  'state' | 'bytesSent' | 'bytesTotal' | 'error' | 'createdAt' | 'updatedAt'
>;

function toSession(row: Selectable<MulticastSessionsTable>): MulticastSession {
  return {
    id: row.id,
    name: row.name,
    image: { digest: row.image_digest, edition: row.edition },
    address: row.address,
    portBase: row.port_base,
    minReceivers: row.min_receivers,
    maxWaitSeconds: row.max_wait_seconds,
    maxBitsPerSecond: row.max_bits_per_second === null ? null : toNumber(row.max_bits_per_second),
    state: stateIn(MULTICAST_SESSION_STATES, row.state, 'multicast session'),
    bytesSent: toNumber(row.bytes_sent),
    bytesTotal: toNumber(row.bytes_total),
    error: row.error,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toReceiver(row: Selectable<MulticastReceiversTable>): MulticastReceiver {
  return {
    deploymentId: row.deployment_id,
    sessionId: row.session_id,
    state: stateIn(MULTICAST_RECEIVER_STATES, row.state, 'multicast receiver'),
    reason: row.reason,
    updatedAt: row.updated_at,
  };
}

export class MulticastStore {
  readonly #db: Kysely<CatalogSchema>;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
  }

  /** A new session, queued, with its deployments waiting. */
  async createSession(
    session: NewMulticastSession,
    deploymentIds: readonly string[],
    now = nowIso(),
  ): Promise<MulticastSession> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('multicast_sessions')
        .values({
          id: session.id,
          name: session.name,
          image_digest: session.image.digest,
          edition: session.image.edition,
          address: session.address,
          port_base: session.portBase,
          min_receivers: session.minReceivers,
          max_wait_seconds: session.maxWaitSeconds,
          max_bits_per_second: session.maxBitsPerSecond,
          state: 'queued',
          created_by: session.createdBy,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      for (const ids of batches(deploymentIds)) {
        await trx
          .insertInto('multicast_receivers')
          .values(
            ids.map((id) => ({
              deployment_id: id,
              session_id: session.id,
              state: 'waiting',
              updated_at: now,
            })),
          )
          .execute();
      }
      return toSession(row);
    });
  }

  async getSession(id: string): Promise<MulticastSession | undefined> {
    const row = await this.#db
      .selectFrom('multicast_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toSession(row);
  }

  /** The sessions not ended. */
  async activeSessions(): Promise<MulticastSession[]> {
    const rows = await this.#db
      .selectFrom('multicast_sessions')
      .selectAll()
      .where('state', 'not in', [...ENDED_SESSION_STATES])
      .execute();
    return rows.map(toSession);
  }

  /** Moves a session to `state` from one of `from` (false when it was in none of them). */
  async setSessionState(
    id: string,
    from: readonly MulticastSessionState[],
    state: MulticastSessionState,
    error: string | null = null,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('multicast_sessions')
      .set({ state, updated_at: nowIso(), ...(error === null ? {} : { error }) })
      .where('id', '=', id)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setSessionProgress(id: string, sent: number, total: number): Promise<void> {
    await this.#db
      .updateTable('multicast_sessions')
      .set({ bytes_sent: sent, bytes_total: total, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  async receiverOf(deploymentId: string): Promise<MulticastReceiver | undefined> {
    const row = await this.#db
      .selectFrom('multicast_receivers')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
    return row === undefined ? undefined : toReceiver(row);
  }

  /** The places of those of `deploymentIds` that are in a session, with their sessions. */
  async receiversAmong(
    deploymentIds: readonly string[],
  ): Promise<{ receivers: MulticastReceiver[]; sessions: Map<string, MulticastSession> }> {
    const receivers: MulticastReceiver[] = [];
    for (const ids of batches(deploymentIds)) {
      const rows = await this.#db
        .selectFrom('multicast_receivers')
        .selectAll()
        .where('deployment_id', 'in', ids)
        .execute();
      receivers.push(...rows.map(toReceiver));
    }
    const sessions = new Map<string, MulticastSession>();
    for (const ids of batches([...new Set(receivers.map((r) => r.sessionId))])) {
      const rows = await this.#db
        .selectFrom('multicast_sessions')
        .selectAll()
        .where('id', 'in', ids)
        .execute();
      for (const row of rows) sessions.set(row.id, toSession(row));
    }
    return { receivers, sessions };
  }

  /** The deployments of a session and their places in it. */
  async receiversOf(sessionId: string): Promise<MulticastReceiver[]> {
    const rows = await this.#db
      .selectFrom('multicast_receivers')
      .selectAll()
      .where('session_id', '=', sessionId)
      .execute();
    return rows.map(toReceiver);
  }

  /** Sets a deployment's place in its session; a receiver done or moved to unicast stays so. */
  async setReceiverState(
    deploymentId: string,
    state: MulticastReceiverState,
    reason: string | null = null,
  ): Promise<void> {
    await this.#db
      .updateTable('multicast_receivers')
      .set({ state, reason, updated_at: nowIso() })
      .where('deployment_id', '=', deploymentId)
      .where('state', 'not in', ['done', 'unicast'])
      .execute();
  }
}
