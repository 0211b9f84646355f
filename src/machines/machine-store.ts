// The machines' part of the catalog: machines seen on the network (`pending` until approved) or
// registered by an operator (`ready`), with MAC, SMBIOS UUID, name, labels, inventory and state,
// and the DHCP leases of full mode. It implements the boot services' lease port
// (LeaseStore); boot-registry.ts makes their machine port of it, so boot/ never sees it.

import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { AppError } from '../core/errors.ts';
import { normalizeMac } from '../core/names.ts';
import { kyselyOf, type Database } from '../db/database.ts';
import {
  batches,
  decodePageCursor,
  nowIso,
  pageOf,
  parseObject,
  parseStringArray,
  Refused,
  toNumber,
} from '../db/rows.ts';
import { validateLabels, validateMachineName } from './machine-names.ts';
import type { CatalogSchema, DatabaseKind, LeasesTable, MachinesTable } from '../db/schema.ts';

export interface Machine {
  readonly id: string;
  /** Null for a machine registered by its SMBIOS UUID that has not booted yet. */
  readonly mac: string | null;
  readonly smbiosUuid: string | null;
  /** The name an operator gave it (unique), or null. */
  readonly name: string | null;
  readonly labels: readonly string[];
  readonly serial: string | null;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly arch: string | null;
  readonly platform: string | null;
  readonly inventory: Readonly<Record<string, unknown>>;
  /** Whether Secure Boot was on when it last told (its agent, or GRUB's check-in); null: never told. */
  readonly secureBoot: SecureBootState | null;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** 'pending' when it registered itself by booting, until approved ('ready'). */
  readonly state: MachineState;
}

/** A machine's Secure Boot state as last reported, kept in its inventory under SECURE_BOOT_KEY. */
export interface SecureBootState {
  readonly on: boolean;
  /** Who told: the deploy agent (the SecureBoot UEFI variable) or GRUB (its `lockdown`). */
  readonly source: 'agent' | 'grub';
  readonly at: string;
}

export const SECURE_BOOT_KEY = 'secureBoot';

/** The state stored in an inventory, or null when there is none (or it is not one). */
function secureBootOf(inventory: Readonly<Record<string, unknown>>): SecureBootState | null {
  const v = inventory[SECURE_BOOT_KEY] as Partial<Record<string, unknown>> | null | undefined;
  if (typeof v !== 'object' || v === null) return null;
  const { on, source, at } = v;
  if (typeof on !== 'boolean' || (source !== 'agent' && source !== 'grub') || typeof at !== 'string')
    return null;
  return { on, source, at };
}

export const MACHINE_STATES = ['pending', 'ready'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

/** A machine an operator registers before it boots: by MAC, SMBIOS UUID or both, with a name. */
export interface NewMachine {
  readonly mac?: string;
  readonly smbiosUuid?: string;
  readonly name: string;
  readonly labels?: readonly string[];
}

export interface MachineChanges {
  readonly name?: string;
  readonly labels?: readonly string[];
}

export interface MachineFilter {
  readonly state?: MachineState;
  /** Machines that carry this label. */
  readonly label?: string;
}

/** Machines one page of a listing holds at most, and by default. */
export const MACHINE_PAGE_MAX = 1000;
export const MACHINE_PAGE_DEFAULT = 100;

export interface MachinePageQuery extends MachineFilter {
  readonly limit: number;
  /** The `next` of the previous page; null for the first. */
  readonly cursor: string | null;
}

/** One page of a listing; `next` is the cursor of the page after it, null on the last page. */
export interface MachinePage<M> {
  readonly machines: M[];
  readonly next: string | null;
}

export interface MachineSighting {
  readonly mac: string;
  readonly smbiosUuid?: string | null;
  readonly serial?: string | null;
  readonly manufacturer?: string | null;
  readonly product?: string | null;
  readonly arch?: string | null;
  readonly platform?: string | null;
  /** Merged over the stored inventory (keys given replace stored ones). */
  readonly inventory?: Readonly<Record<string, unknown>>;
  readonly now?: string;
}

export interface Lease {
  readonly ip: string;
  readonly mac: string;
  readonly expiresAt: string;
  readonly updatedAt: string;
}

function toMachine(row: Selectable<MachinesTable>): Machine {
  const inventory = parseObject(row.inventory, 'machine inventory');
  return {
    id: row.id,
    mac: row.mac,
    smbiosUuid: row.smbios_uuid,
    name: row.name,
    labels: parseStringArray(row.labels, 'machine labels'),
    serial: row.serial,
    manufacturer: row.manufacturer,
    product: row.product,
    arch: row.arch,
    platform: row.platform,
    inventory,
    secureBoot: secureBootOf(inventory),
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    state: row.state === 'ready' ? 'ready' : 'pending',
  };
}

function toLease(row: Selectable<LeasesTable>): Lease {
  return { ip: row.ip, mac: row.mac, expiresAt: row.expires_at, updatedAt: row.updated_at };
}

/** The machine columns a sighting gives (those it leaves out stay as stored). */
function sightingFields(seen: MachineSighting) {
  return {
    ...(seen.smbiosUuid === undefined ? {} : { smbios_uuid: seen.smbiosUuid?.toLowerCase() ?? null }),
    ...(seen.serial === undefined ? {} : { serial: seen.serial }),
    ...(seen.manufacturer === undefined ? {} : { manufacturer: seen.manufacturer }),
    ...(seen.product === undefined ? {} : { product: seen.product }),
    ...(seen.arch === undefined ? {} : { arch: seen.arch }),
    ...(seen.platform === undefined ? {} : { platform: seen.platform }),
  };
}

function noMachine(key: string): AppError {
  return new AppError('NOT_FOUND', `no machine ${JSON.stringify(key.slice(0, 80))}`, {
    hint: "list machines with 'winsmith machines'",
  });
}

function macOrNull(text: string): string | null {
  try {
    return normalizeMac(text);
  } catch {
    return null;
  }
}

/** An SMBIOS UUID (8-4-4-4-12 hex) in lower case; INVALID_ARGUMENT otherwise. */
function validateUuid(uuid: string): string {
  const lower = uuid.trim().toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(lower)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `SMBIOS UUID ${JSON.stringify(uuid.slice(0, 80))} is not 8-4-4-4-12 hex digits`,
      {
        hint: 'give the UUID as the firmware shows it, e.g. 4c4c4544-0042-3510-8051-c2c04f4d4d32',
      },
    );
  }
  return lower;
}

export class MachineStore {
  readonly #db: Kysely<CatalogSchema>;
  readonly #kind: DatabaseKind;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
    this.#kind = database.kind;
  }

  // ---- machines --------------------------------------------------------------------------

  /**
   * Registers a machine seen on the network, or refreshes one already known by its MAC: the
   * fields given replace the stored ones, the inventory is merged, lastSeen moves. One statement,
   * so two servers seeing the same machine at once make one row.
   */
  async recordMachineSeen(seen: MachineSighting): Promise<{ machine: Machine; created: boolean }> {
    const mac = normalizeMac(seen.mac);
    const now = seen.now ?? nowIso();
    return this.#db.transaction().execute(async (trx) => {
      let existingQuery = trx.selectFrom('machines').selectAll().where('mac', '=', mac);
      if (this.#kind === 'postgres') existingQuery = existingQuery.forUpdate();
      const existing = await existingQuery.executeTakeFirst();
      const fields = sightingFields(seen);
      if (existing !== undefined) {
        const inventory = { ...parseObject(existing.inventory, 'machine inventory'), ...seen.inventory };
        const row = await trx
          .updateTable('machines')
          .set({ ...fields, inventory: JSON.stringify(inventory), last_seen: now })
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { machine: toMachine(row), created: false };
      }
      const inserted = await trx
        .insertInto('machines')
        .values({
          id: randomUUID(),
          mac,
          smbios_uuid: null,
          serial: null,
          manufacturer: null,
          product: null,
          arch: null,
          platform: null,
          ...fields,
          inventory: JSON.stringify(seen.inventory ?? {}),
          first_seen: now,
          last_seen: now,
        })
        .onConflict((oc) => oc.column('mac').doUpdateSet({ ...fields, last_seen: now }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return {
        machine: toMachine(inserted),
        created: inserted.first_seen === now && inserted.last_seen === now,
      };
    });
  }

  /**
   * Refreshes a machine already known by its MAC (fields replaced, inventory merged, lastSeen
   * moved); undefined, and nothing written, when no machine has that MAC.
   */
  async updateMachineSeen(seen: MachineSighting): Promise<Machine | undefined> {
    const mac = normalizeMac(seen.mac);
    const now = seen.now ?? nowIso();
    return this.#db.transaction().execute(async (trx) => {
      let existingQuery = trx.selectFrom('machines').select(['id', 'inventory']).where('mac', '=', mac);
      if (this.#kind === 'postgres') existingQuery = existingQuery.forUpdate();
      const existing = await existingQuery.executeTakeFirst();
      if (existing === undefined) return undefined;
      const inventory = { ...parseObject(existing.inventory, 'machine inventory'), ...seen.inventory };
      const row = await trx
        .updateTable('machines')
        .set({ ...sightingFields(seen), inventory: JSON.stringify(inventory), last_seen: now })
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toMachine(row);
    });
  }

  /** How many machines are in `state`. */
  async countMachines(state: MachineState): Promise<number> {
    const row = await this.#db
      .selectFrom('machines')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  async getMachine(id: string): Promise<Machine | undefined> {
    const row = await this.#db.selectFrom('machines').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  /** The machines of `ids` that exist, by id: one query per batch, not one per machine. */
  async getMachines(ids: readonly string[]): Promise<Map<string, Machine>> {
    const found = new Map<string, Machine>();
    for (const batch of batches([...new Set(ids)])) {
      const rows = await this.#db.selectFrom('machines').selectAll().where('id', 'in', batch).execute();
      for (const row of rows) found.set(row.id, toMachine(row));
    }
    return found;
  }

  async getMachineByMac(mac: string): Promise<Machine | undefined> {
    const row = await this.#db
      .selectFrom('machines')
      .selectAll()
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  /** By SMBIOS UUID (compared in lower case); the most recently seen when several NICs share it. */
  async getMachineByUuid(uuid: string): Promise<Machine | undefined> {
    const row = await this.#db
      .selectFrom('machines')
      .selectAll()
      .where('smbios_uuid', '=', uuid.toLowerCase())
      .orderBy('last_seen', 'desc')
      .executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  /** Machines, oldest first; with a filter, those in its state and carrying its label only. */
  async listMachines(filter: MachineFilter = {}): Promise<Machine[]> {
    const rows = await this.#filtered(filter).orderBy('first_seen').orderBy('id').execute();
    return rows.map(toMachine);
  }

  /**
   * One page of the machines `listMachines` gives, those after the page `cursor` ended only (null:
   * the first page); at most `limit` of them, and the cursor of the next page (null: the last).
   */
  async listMachinePage(query: MachinePageQuery): Promise<MachinePage<Machine>> {
    const limit = Math.min(MACHINE_PAGE_MAX, Math.max(1, Math.floor(query.limit)));
    let q = this.#filtered(query);
    if (query.cursor !== null) {
      const [firstSeen = '', id = ''] = decodePageCursor(query.cursor, 2);
      q = q.where((eb) =>
        eb.or([
          eb('first_seen', '>', firstSeen),
          eb.and([eb('first_seen', '=', firstSeen), eb('id', '>', id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('first_seen')
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    const page = pageOf(rows, limit, toMachine, (m) => [m.firstSeen, m.id]);
    return { machines: page.records, next: page.next };
  }

  /** The machines in `filter`'s state and carrying its label. */
  #filtered(filter: MachineFilter) {
    let query = this.#db.selectFrom('machines').selectAll();
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.label !== undefined) {
      // Labels are stored as a JSON array of strings with no quote or backslash (validateLabels):
      // the label as JSON text is in the array's text exactly when it is one of its elements.
      // SQLite's LIKE ignores case, hence instr (strpos on PostgreSQL).
      const find = this.#kind === 'postgres' ? sql.raw('strpos') : sql.raw('instr');
      query = query.where(sql<boolean>`${find}(${sql.ref('labels')}, ${JSON.stringify(filter.label)}) > 0`);
    }
    return query;
  }

  /** A machine by id, MAC or name; undefined when none has it. */
  async findMachine(key: string): Promise<Machine | undefined> {
    const byId = await this.getMachine(key);
    if (byId !== undefined) return byId;
    const mac = macOrNull(key);
    if (mac !== null) return this.getMachineByMac(mac);
    const row = await this.#db.selectFrom('machines').selectAll().where('name', '=', key).executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  /**
   * Registers a machine before it boots, `ready` at once: by MAC, SMBIOS UUID or both, with a
   * name. ALREADY_EXISTS when a machine has that MAC or name.
   */
  async addMachine(machine: NewMachine, now = nowIso()): Promise<Machine> {
    const mac = machine.mac === undefined ? null : normalizeMac(machine.mac);
    const uuid = machine.smbiosUuid === undefined ? null : validateUuid(machine.smbiosUuid);
    if (mac === null && uuid === null) {
      throw new AppError('USAGE', 'a machine is registered by its MAC, its SMBIOS UUID or both', {
        hint: 'give --mac, --uuid or both',
      });
    }
    const inserted = await this.#db
      .insertInto('machines')
      .values({
        id: randomUUID(),
        mac,
        smbios_uuid: uuid,
        name: validateMachineName(machine.name),
        labels: JSON.stringify(validateLabels(machine.labels ?? [])),
        serial: null,
        manufacturer: null,
        product: null,
        arch: null,
        platform: null,
        inventory: JSON.stringify({ source: 'operator' }),
        first_seen: now,
        last_seen: now,
        state: 'ready',
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined) {
      throw new AppError('ALREADY_EXISTS', `a machine already has the name ${machine.name} or that MAC`, {
        hint: "see 'winsmith machines'; change the existing machine instead",
      });
    }
    return toMachine(inserted);
  }

  /** Renames or relabels a machine; NOT_FOUND, or ALREADY_EXISTS for a name another machine has. */
  async updateMachine(id: string, changes: MachineChanges): Promise<Machine> {
    const set = {
      ...(changes.name === undefined ? {} : { name: validateMachineName(changes.name) }),
      ...(changes.labels === undefined ? {} : { labels: JSON.stringify(validateLabels(changes.labels)) }),
    };
    if (changes.name !== undefined) {
      const holder = await this.findMachine(changes.name);
      if (holder !== undefined && holder.id !== id) {
        throw new AppError('ALREADY_EXISTS', `machine ${holder.id} already has the name ${changes.name}`, {
          hint: 'choose another name',
        });
      }
    }
    const row =
      Object.keys(set).length === 0
        ? await this.#db.selectFrom('machines').selectAll().where('id', '=', id).executeTakeFirst()
        : await this.#db
            .updateTable('machines')
            .set(set)
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirst();
    if (row === undefined) throw noMachine(id);
    return toMachine(row);
  }

  /** Gives a MAC to a machine registered by its SMBIOS UUID alone, when it first boots. */
  async attachMac(id: string, mac: string): Promise<void> {
    await this.#db
      .updateTable('machines')
      .set({ mac: normalizeMac(mac) })
      .where('id', '=', id)
      .where('mac', 'is', null)
      .execute();
  }

  /** Approves a machine that registered itself by booting (`pending` → `ready`); NOT_FOUND when unknown. */
  async approveMachine(id: string): Promise<Machine> {
    const row = await this.#db
      .updateTable('machines')
      .set({ state: 'ready' })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw noMachine(id);
    return toMachine(row);
  }

  async deleteMachine(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('machines').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- DHCP leases -----------------------------------------------------------------------

  /**
   * Gives `ip` to `mac` until `expiresAt` unless another MAC holds an unexpired lease on it.
   * A MAC holds one lease: its lease on another address is dropped. Returns whether it was given;
   * atomic across servers sharing the database.
   */
  async claimLease(ip: string, macAddress: string, expiresAt: string, now = nowIso()): Promise<boolean> {
    const mac = normalizeMac(macAddress);
    try {
      await this.#db.transaction().execute(async (trx) => {
        await trx.deleteFrom('leases').where('mac', '=', mac).where('ip', '<>', ip).execute();
        const result = await trx
          .insertInto('leases')
          .values({ ip, mac, expires_at: expiresAt, updated_at: now })
          .onConflict((oc) =>
            oc
              .column('ip')
              .doUpdateSet({ mac, expires_at: expiresAt, updated_at: now })
              .where((eb) => eb.or([eb('leases.mac', '=', mac), eb('leases.expires_at', '<=', now)])),
          )
          .executeTakeFirst();
        if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) throw new Refused();
      });
      return true;
    } catch (e) {
      if (e instanceof Refused) return false;
      throw e;
    }
  }

  async getLeaseByIp(ip: string): Promise<Lease | undefined> {
    const row = await this.#db.selectFrom('leases').selectAll().where('ip', '=', ip).executeTakeFirst();
    return row === undefined ? undefined : toLease(row);
  }

  async getLeaseByMac(mac: string): Promise<Lease | undefined> {
    const row = await this.#db
      .selectFrom('leases')
      .selectAll()
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return row === undefined ? undefined : toLease(row);
  }

  /** Leases by address; with `activeAt`, only those not expired at that time. */
  async listLeases(activeAt?: string): Promise<Lease[]> {
    let query = this.#db.selectFrom('leases').selectAll();
    if (activeAt !== undefined) query = query.where('expires_at', '>', activeAt);
    const rows = await query.orderBy('ip').execute();
    return rows.map(toLease);
  }

  /** Releases the lease of `ip` if `mac` holds it (DHCPRELEASE). */
  async releaseLease(ip: string, mac: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('leases')
      .where('ip', '=', ip)
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredLeases(now = nowIso()): Promise<number> {
    const result = await this.#db.deleteFrom('leases').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
