// The catalog: every query the repository, the server and the boot services make, over one Kysely
// instance that is either SQLite or PostgreSQL. Rows become plain records here (camelCase, numbers,
// parsed JSON, booleans); nothing above this file sees a row. Changes that must happen together
// (a tag move and its history row; the commit of an upload) run in one transaction.

import { randomUUID } from 'node:crypto';
import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool, Transaction } from 'kysely';
import { AppError } from '../../core/errors.ts';
import { isRole, type Role } from '../../auth/roles.ts';
import { openDatabase, type DatabaseConfig, type DatabaseKind } from './database.ts';
import { normalizeMac, validateImageName, validateTag, validateUserName } from './names.ts';
import type {
  ArtifactsTable,
  AuditLogTable,
  CatalogSchema,
  LeasesTable,
  MachinesTable,
  TokensTable,
  UploadsTable,
  UsersTable,
} from './schema.ts';

export interface Artifact {
  /** sha256 hex of the manifest's canonical bytes. */
  readonly digest: string;
  readonly mediaType: string;
  /** Bytes of the content the manifest describes. */
  readonly size: number;
  /** sha256 hex of the whole content. */
  readonly sha256: string;
  /** The editions of a WIM as `image info` reports them (JSON values); empty for other media. */
  readonly editions: readonly unknown[];
  readonly pushedBy: string | null;
  readonly pushedAt: string;
  readonly parentDigest: string | null;
  /** The recipe that made this artifact from its parent (JSON), if any. */
  readonly recipe: unknown;
  readonly sourceIsoSha256: string | null;
}

export interface NewArtifact {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly sha256: string;
  readonly editions?: readonly unknown[];
  readonly pushedBy?: string | null;
  readonly pushedAt?: string;
  readonly parentDigest?: string | null;
  readonly recipe?: unknown;
  readonly sourceIsoSha256?: string | null;
  /** The chunk digests its manifest references, recorded with a new artifact. */
  readonly chunks?: readonly string[];
}

export interface ImageEntry extends Artifact {
  readonly name: string;
  readonly tag: string;
  readonly tagUpdatedAt: string;
  readonly tagUpdatedBy: string | null;
}

export interface TagChange {
  readonly name: string;
  readonly tag: string;
  /** Null when the tag was removed. */
  readonly digest: string | null;
  readonly previousDigest: string | null;
  readonly changedBy: string | null;
  readonly changedAt: string;
}

export type UploadState = 'open' | 'committed' | 'aborted';

export interface Upload {
  readonly id: string;
  readonly name: string;
  readonly tag: string;
  readonly manifestDigest: string;
  /** The manifest's canonical JSON text. */
  readonly manifest: string;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly state: UploadState;
}

export interface NewUpload {
  readonly id?: string;
  readonly name: string;
  readonly tag: string;
  readonly manifestDigest: string;
  readonly manifest: string;
  readonly createdBy?: string | null;
  readonly now?: string;
}

export interface User {
  readonly name: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
  readonly now?: string;
}

export interface UserChanges {
  readonly passwordHash?: string;
  readonly role?: Role;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
}

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly userName: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface NewToken {
  readonly id?: string;
  readonly name: string;
  readonly userName: string;
  /** sha256 hex of the token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly expiresAt: string | null;
  readonly now?: string;
}

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
}

export interface Machine {
  readonly id: string;
  readonly mac: string;
  readonly smbiosUuid: string | null;
  readonly serial: string | null;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly arch: string | null;
  readonly platform: string | null;
  readonly inventory: Readonly<Record<string, unknown>>;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly deploymentId: string | null;
  /** 'pending' when it registered itself by booting, until approved ('ready'). */
  readonly state: MachineState;
}

export type MachineState = 'pending' | 'ready';

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

export interface CatalogStats {
  /** Sum of the sizes of every artifact (the bytes a pull of each would give). */
  readonly logicalBytes: number;
  readonly artifacts: number;
  readonly tags: number;
}

/** Digests per `in (...)` list: well under every dialect's limit on parameters. */
const DIGESTS_PER_QUERY = 500;

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Audit log pages are at most this long: listings stay bounded whatever the caller asks. */
export const MAX_AUDIT_PAGE = 1000;

const nowIso = (): string => new Date().toISOString();

function toNumber(value: number | string | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new AppError('INTERNAL', `catalog value ${String(value)} is not a safe integer`);
  }
  return n;
}

function parseJson(text: string | null, what: string): unknown {
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

function parseObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function parseStringArray(text: string, what: string): string[] {
  const value = parseJson(text, what);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toArtifact(row: Selectable<ArtifactsTable>): Artifact {
  const editions = parseJson(row.editions, 'editions');
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: toNumber(row.size),
    sha256: row.sha256,
    editions: Array.isArray(editions) ? editions : [],
    pushedBy: row.pushed_by,
    pushedAt: row.pushed_at,
    parentDigest: row.parent_digest,
    recipe: parseJson(row.recipe, 'recipe'),
    sourceIsoSha256: row.source_iso_sha256,
  };
}

function toUpload(row: Selectable<UploadsTable>): Upload {
  const state = row.state === 'committed' || row.state === 'aborted' ? row.state : 'open';
  return {
    id: row.id,
    name: row.name,
    tag: row.tag,
    manifestDigest: row.manifest_digest,
    manifest: row.manifest,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    state,
  };
}

function toUser(row: Selectable<UsersTable>): User {
  if (!isRole(row.role)) {
    throw new AppError(
      'FORMAT_INVALID',
      `user ${row.name} has the unknown role ${JSON.stringify(row.role)}`,
      {
        hint: 'set a role with winsmith user add/edit: admin, builder, operator or viewer',
      },
    );
  }
  return {
    name: row.name,
    passwordHash: row.password_hash,
    role: row.role,
    scopes: parseStringArray(row.scopes, 'scopes'),
    disabled: toNumber(row.disabled) !== 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toToken(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    userName: row.user_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

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

function toMachine(row: Selectable<MachinesTable>): Machine {
  return {
    id: row.id,
    mac: row.mac,
    smbiosUuid: row.smbios_uuid,
    serial: row.serial,
    manufacturer: row.manufacturer,
    product: row.product,
    arch: row.arch,
    platform: row.platform,
    inventory: parseObject(row.inventory, 'machine inventory'),
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    deploymentId: row.deployment_id,
    state: row.state === 'ready' ? 'ready' : 'pending',
  };
}

function toLease(row: Selectable<LeasesTable>): Lease {
  return { ip: row.ip, mac: row.mac, expiresAt: row.expires_at, updatedAt: row.updated_at };
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

type Db = Kysely<CatalogSchema> | Transaction<CatalogSchema>;

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

/**
 * `tags.name` within one of `scopes` (image-name prefixes; null: any name), as `nameInScope` says:
 * the scope itself or a name under it. Compared with substr, not LIKE, so `_` and `%` in a scope
 * are plain characters.
 */
function tagNameWithin(
  eb: ExpressionBuilder<CatalogSchema, 'tags'>,
  scopes: readonly string[] | null,
): Expression<SqlBool> {
  if (scopes === null) return eb.lit(true);
  return eb.or(
    scopes.flatMap((scope) => {
      const bare = scope.replace(/\/$/, '');
      const under = `${bare}/`;
      return [
        eb('tags.name', '=', bare),
        eb(eb.fn('substr', ['tags.name', eb.val(1), eb.val(under.length)]), '=', under),
      ];
    }),
  );
}

/** Thrown inside a transaction to roll it back when a conditional write found its condition false. */
class Refused extends Error {}

export class Catalog {
  readonly db: Kysely<CatalogSchema>;
  readonly kind: DatabaseKind;

  constructor(db: Kysely<CatalogSchema>, kind: DatabaseKind) {
    this.db = db;
    this.kind = kind;
  }

  /** Opens (and migrates) the database named by `config`. */
  static async open(config: DatabaseConfig): Promise<Catalog> {
    return new Catalog(await openDatabase(config), config.kind);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- artifacts -------------------------------------------------------------------------

  /**
   * Records an artifact. Digests are immutable: when the digest is already stored, the stored
   * record is kept and returned unchanged.
   */
  async putArtifact(artifact: NewArtifact): Promise<Artifact> {
    return this.putArtifactIn(this.db, artifact);
  }

  private async putArtifactIn(db: Db, artifact: NewArtifact): Promise<Artifact> {
    const inserted = await db
      .insertInto('artifacts')
      .values({
        digest: artifact.digest,
        media_type: artifact.mediaType,
        size: artifact.size,
        sha256: artifact.sha256,
        editions: JSON.stringify(artifact.editions ?? []),
        pushed_by: artifact.pushedBy ?? null,
        pushed_at: artifact.pushedAt ?? nowIso(),
        parent_digest: artifact.parentDigest ?? null,
        recipe:
          artifact.recipe === undefined || artifact.recipe === null ? null : JSON.stringify(artifact.recipe),
        source_iso_sha256: artifact.sourceIsoSha256 ?? null,
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) {
      await this.indexChunksIn(db, artifact.digest, artifact.chunks ?? []);
    }
    const stored = await db
      .selectFrom('artifacts')
      .selectAll()
      .where('digest', '=', artifact.digest)
      .executeTakeFirstOrThrow();
    return toArtifact(stored);
  }

  async getArtifact(digest: string): Promise<Artifact | undefined> {
    const row = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row === undefined ? undefined : toArtifact(row);
  }

  async listArtifacts(): Promise<Artifact[]> {
    const rows = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .orderBy('pushed_at')
      .orderBy('digest')
      .execute();
    return rows.map(toArtifact);
  }

  private async indexChunksIn(db: Db, digest: string, chunks: readonly string[]): Promise<void> {
    for (const batch of batches([...new Set(chunks)], DIGESTS_PER_QUERY)) {
      await db
        .insertInto('artifact_chunks')
        .values(batch.map((chunk) => ({ artifact_digest: digest, chunk_digest: chunk })))
        .onConflict((oc) => oc.columns(['artifact_digest', 'chunk_digest']).doNothing())
        .execute();
    }
  }

  /** Records the chunks an artifact's manifest references (for artifacts stored before they were). */
  async indexArtifactChunks(digest: string, chunks: readonly string[]): Promise<void> {
    await this.db.transaction().execute((trx) => this.indexChunksIn(trx, digest, chunks));
  }

  /** Artifacts with no chunk recorded: stored before chunks were, or of empty content. */
  async artifactsWithoutChunks(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('artifacts')
      .select('digest')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('artifact_chunks')
              .select('artifact_chunks.chunk_digest')
              .whereRef('artifact_chunks.artifact_digest', '=', 'artifacts.digest'),
          ),
        ),
      )
      .orderBy('digest')
      .execute();
    return rows.map((r) => r.digest);
  }

  /**
   * Those of `chunks` that an image within `scopes` references (image-name prefixes; null means
   * every image). A name is within a scope when it is the scope or lies under it (`nameInScope`).
   */
  async chunksReadableIn(chunks: readonly string[], scopes: readonly string[] | null): Promise<Set<string>> {
    const found = new Set<string>();
    if (scopes !== null && scopes.length === 0) return found;
    for (const batch of batches([...new Set(chunks)], DIGESTS_PER_QUERY)) {
      const rows = await this.db
        .selectFrom('artifact_chunks')
        .innerJoin('tags', 'tags.digest', 'artifact_chunks.artifact_digest')
        .select('artifact_chunks.chunk_digest')
        .distinct()
        .where('artifact_chunks.chunk_digest', 'in', batch)
        .where((eb) => tagNameWithin(eb, scopes))
        .execute();
      for (const r of rows) found.add(r.chunk_digest);
    }
    return found;
  }

  /** Artifacts no tag points at (candidates for removal; their lineage stays in their children). */
  async listUntaggedArtifacts(): Promise<Artifact[]> {
    const rows = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('tags').select('tags.digest').whereRef('tags.digest', '=', 'artifacts.digest'),
          ),
        ),
      )
      .orderBy('digest')
      .execute();
    return rows.map(toArtifact);
  }

  /** The artifacts made from `digest` (one level of lineage). */
  async listChildren(digest: string): Promise<Artifact[]> {
    const rows = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .where('parent_digest', '=', digest)
      .orderBy('digest')
      .execute();
    return rows.map(toArtifact);
  }

  /**
   * Deletes an artifact record no tag points at. Returns false when it is absent; throws
   * CONFLICT when a tag still points at it.
   */
  async deleteArtifact(digest: string): Promise<boolean> {
    const tagged = await this.db
      .selectFrom('tags')
      .select(['name', 'tag'])
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (tagged !== undefined) {
      throw new AppError('CONFLICT', `artifact ${digest} is still tagged ${tagged.name}:${tagged.tag}`, {
        hint: 'remove its tags first (winsmith image rm NAME:TAG)',
      });
    }
    const result = await this.db.deleteFrom('artifacts').where('digest', '=', digest).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Manifest digests that must not be collected: every artifact, and the manifest of every open
   * upload (its chunks may be half sent).
   */
  async liveManifestDigests(): Promise<Set<string>> {
    const artifacts = await this.db.selectFrom('artifacts').select('digest').execute();
    const uploads = await this.db
      .selectFrom('uploads')
      .select('manifest_digest')
      .where('state', '=', 'open')
      .execute();
    return new Set([...artifacts.map((r) => r.digest), ...uploads.map((r) => r.manifest_digest)]);
  }

  // ---- tags and images -------------------------------------------------------------------

  /**
   * Points `name:tag` at `digest` (creating or moving the tag) and records the change in the
   * tag's history, in one transaction. Returns the change.
   */
  async setTag(
    name: string,
    tag: string,
    digest: string,
    changedBy: string | null,
    now = nowIso(),
  ): Promise<TagChange> {
    validateImageName(name);
    validateTag(tag);
    return this.db.transaction().execute((trx) => this.setTagIn(trx, name, tag, digest, changedBy, now));
  }

  private async setTagIn(
    trx: Transaction<CatalogSchema>,
    name: string,
    tag: string,
    digest: string,
    changedBy: string | null,
    now: string,
  ): Promise<TagChange> {
    const artifact = await trx
      .selectFrom('artifacts')
      .select('digest')
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (artifact === undefined) {
      throw new AppError('NOT_FOUND', `no artifact with digest ${digest}`, {
        hint: 'push the image first, or give the digest of an image listed by winsmith images',
      });
    }
    let current = trx.selectFrom('tags').select('digest').where('name', '=', name).where('tag', '=', tag);
    if (this.kind === 'postgres') current = current.forUpdate();
    const previous = (await current.executeTakeFirst())?.digest ?? null;
    await trx
      .insertInto('tags')
      .values({ name, tag, digest, updated_by: changedBy, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['name', 'tag']).doUpdateSet({ digest, updated_by: changedBy, updated_at: now }),
      )
      .execute();
    const change: TagChange = { name, tag, digest, previousDigest: previous, changedBy, changedAt: now };
    if (previous !== digest) await this.recordTagChange(trx, change);
    return change;
  }

  private async recordTagChange(trx: Transaction<CatalogSchema>, change: TagChange): Promise<void> {
    await trx
      .insertInto('tag_history')
      .values({
        name: change.name,
        tag: change.tag,
        digest: change.digest,
        previous_digest: change.previousDigest,
        changed_by: change.changedBy,
        changed_at: change.changedAt,
      })
      .execute();
  }

  /** Removes `name:tag` (the artifact stays); history keeps the removal. NOT_FOUND when absent. */
  async removeTag(name: string, tag: string, changedBy: string | null, now = nowIso()): Promise<TagChange> {
    return this.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom('tags')
        .where('name', '=', name)
        .where('tag', '=', tag)
        .returning('digest')
        .executeTakeFirst();
      if (removed === undefined) {
        throw new AppError('NOT_FOUND', `no image ${name}:${tag}`, {
          hint: 'list images with winsmith images',
        });
      }
      const change: TagChange = {
        name,
        tag,
        digest: null,
        previousDigest: removed.digest,
        changedBy,
        changedAt: now,
      };
      await this.recordTagChange(trx, change);
      return change;
    });
  }

  /** The image `name:tag` points at, or undefined. */
  async getImage(name: string, tag: string): Promise<ImageEntry | undefined> {
    const rows = await this.imageQuery().where('tags.name', '=', name).where('tags.tag', '=', tag).execute();
    const row = rows[0];
    return row === undefined ? undefined : this.toImage(row);
  }

  /** Every tagged image, by name then tag; with `name`, only that image's tags. */
  async listImages(name?: string): Promise<ImageEntry[]> {
    let query = this.imageQuery();
    if (name !== undefined) query = query.where('tags.name', '=', name);
    const rows = await query.orderBy('tags.name').orderBy('tags.tag').execute();
    return rows.map((r) => this.toImage(r));
  }

  /**
   * One page of tagged images within `scopes` (null: every image), by name then tag, those after
   * `after` (the last of the previous page) only; at most `limit`.
   */
  async listImagePage(query: {
    readonly scopes: readonly string[] | null;
    readonly after: { readonly name: string; readonly tag: string } | null;
    readonly limit: number;
  }): Promise<ImageEntry[]> {
    const { after } = query;
    let q = this.imageQuery().where((eb) => tagNameWithin(eb, query.scopes));
    if (after !== null) {
      q = q.where((eb) =>
        eb.or([
          eb('tags.name', '>', after.name),
          eb.and([eb('tags.name', '=', after.name), eb('tags.tag', '>', after.tag)]),
        ]),
      );
    }
    const rows = await q.orderBy('tags.name').orderBy('tags.tag').limit(query.limit).execute();
    return rows.map((r) => this.toImage(r));
  }

  /** The digests of the artifacts a tag within `scopes` points at. */
  async artifactsWithin(scopes: readonly string[]): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('tags')
      .select('tags.digest')
      .distinct()
      .where((eb) => tagNameWithin(eb, scopes))
      .execute();
    return new Set(rows.map((r) => r.digest));
  }

  /** The tags pointing at `digest`. */
  async tagsOf(digest: string): Promise<{ name: string; tag: string }[]> {
    return this.db
      .selectFrom('tags')
      .select(['name', 'tag'])
      .where('digest', '=', digest)
      .orderBy('name')
      .orderBy('tag')
      .execute()
      .then((rows) => rows.map((r) => ({ name: r.name, tag: r.tag })));
  }

  /** The changes of `name:tag`, newest first. */
  async tagHistory(name: string, tag: string): Promise<TagChange[]> {
    const rows = await this.db
      .selectFrom('tag_history')
      .selectAll()
      .where('name', '=', name)
      .where('tag', '=', tag)
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      tag: r.tag,
      digest: r.digest,
      previousDigest: r.previous_digest,
      changedBy: r.changed_by,
      changedAt: r.changed_at,
    }));
  }

  private imageQuery() {
    return this.db
      .selectFrom('tags')
      .innerJoin('artifacts', 'artifacts.digest', 'tags.digest')
      .selectAll('artifacts')
      .select([
        'tags.name as name',
        'tags.tag as tag',
        'tags.updated_at as tag_updated_at',
        'tags.updated_by as tag_updated_by',
      ]);
  }

  private toImage(
    row: Selectable<ArtifactsTable> & {
      name: string;
      tag: string;
      tag_updated_at: string;
      tag_updated_by: string | null;
    },
  ): ImageEntry {
    return {
      ...toArtifact(row),
      name: row.name,
      tag: row.tag,
      tagUpdatedAt: row.tag_updated_at,
      tagUpdatedBy: row.tag_updated_by,
    };
  }

  // ---- uploads ---------------------------------------------------------------------------

  async createUpload(upload: NewUpload): Promise<Upload> {
    validateImageName(upload.name);
    validateTag(upload.tag);
    const now = upload.now ?? nowIso();
    const row = await this.db
      .insertInto('uploads')
      .values({
        id: upload.id ?? randomUUID(),
        name: upload.name,
        tag: upload.tag,
        manifest_digest: upload.manifestDigest,
        manifest: upload.manifest,
        created_by: upload.createdBy ?? null,
        created_at: now,
        updated_at: now,
        state: 'open',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUpload(row);
  }

  async getUpload(id: string): Promise<Upload | undefined> {
    const row = await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toUpload(row);
  }

  /** The newest open upload of the same manifest to the same `name:tag`, to resume it. */
  async findOpenUpload(name: string, tag: string, manifestDigest: string): Promise<Upload | undefined> {
    const row = await this.db
      .selectFrom('uploads')
      .selectAll()
      .where('name', '=', name)
      .where('tag', '=', tag)
      .where('manifest_digest', '=', manifestDigest)
      .where('state', '=', 'open')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row === undefined ? undefined : toUpload(row);
  }

  async listUploads(state?: UploadState): Promise<Upload[]> {
    let query = this.db.selectFrom('uploads').selectAll();
    if (state !== undefined) query = query.where('state', '=', state);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toUpload);
  }

  /**
   * Records chunks as accounted for by an open upload (sent, or reused within its caller's
   * scopes), and marks activity on it so stale-upload clean-up spares it.
   */
  async accountUploadChunks(id: string, chunks: readonly string[], now = nowIso()): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('uploads')
        .set({ updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .execute();
      for (const batch of batches([...new Set(chunks)], DIGESTS_PER_QUERY)) {
        await trx
          .insertInto('upload_chunks')
          .values(batch.map((chunk) => ({ upload_id: id, chunk_digest: chunk })))
          .onConflict((oc) => oc.columns(['upload_id', 'chunk_digest']).doNothing())
          .execute();
      }
    });
  }

  /** The chunks an upload has accounted for. */
  async uploadChunks(id: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('upload_chunks')
      .select('chunk_digest')
      .where('upload_id', '=', id)
      .execute();
    return new Set(rows.map((r) => r.chunk_digest));
  }

  /**
   * Commits an open upload in one transaction: the artifact is recorded (kept if the digest is
   * already known), `name:tag` points at it with a history row, and the upload is closed. Throws
   * NOT_FOUND for an unknown upload, CONFLICT when it is not open, INVALID_ARGUMENT when the
   * artifact's digest is not the upload's manifest digest.
   */
  async commitUpload(
    id: string,
    artifact: NewArtifact,
    committedBy: string | null,
    now = nowIso(),
  ): Promise<{ artifact: Artifact; tag: TagChange }> {
    return this.db.transaction().execute(async (trx) => {
      const upload = await trx.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
      if (upload === undefined) {
        throw new AppError('NOT_FOUND', `no upload ${id}`, { hint: 'start the push again' });
      }
      if (upload.manifest_digest !== artifact.digest) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `upload ${id} is for manifest ${upload.manifest_digest}, not ${artifact.digest}`,
          { hint: 'commit the upload with the manifest it was opened with' },
        );
      }
      const closed = await trx
        .updateTable('uploads')
        .set({ state: 'committed', updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .executeTakeFirst();
      if (closed.numUpdatedRows === 0n) {
        throw new AppError('CONFLICT', `upload ${id} is ${upload.state}, not open`, {
          hint: 'start a new push; a committed upload is already listed',
        });
      }
      const stored = await this.putArtifactIn(trx, { pushedBy: committedBy, pushedAt: now, ...artifact });
      const tag = await this.setTagIn(trx, upload.name, upload.tag, stored.digest, committedBy, now);
      return { artifact: stored, tag };
    });
  }

  /** Closes an open upload without committing it. Returns false when it was not open. */
  async abortUpload(id: string, now = nowIso()): Promise<boolean> {
    const result = await this.db
      .updateTable('uploads')
      .set({ state: 'aborted', updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Aborts open uploads with no activity since `before`; returns their ids. */
  async abortStaleUploads(before: string, now = nowIso()): Promise<string[]> {
    const rows = await this.db
      .updateTable('uploads')
      .set({ state: 'aborted', updated_at: now })
      .where('state', '=', 'open')
      .where('updated_at', '<', before)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Deletes closed (committed or aborted) uploads last changed before `before`; returns the count. */
  async deleteClosedUploads(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom('uploads')
      .where('state', '<>', 'open')
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- users -----------------------------------------------------------------------------

  /** Creates a user; ALREADY_EXISTS when the name is taken. */
  async createUser(user: NewUser): Promise<User> {
    validateUserName(user.name);
    const now = user.now ?? nowIso();
    const inserted = await this.db
      .insertInto('users')
      .values({
        name: user.name,
        password_hash: user.passwordHash,
        role: user.role,
        scopes: JSON.stringify(user.scopes ?? []),
        disabled: user.disabled === true ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined) {
      throw new AppError('ALREADY_EXISTS', `user ${user.name} already exists`, {
        hint: 'choose another name, or change the existing user',
      });
    }
    return toUser(inserted);
  }

  async getUser(name: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  /** Changes a user; NOT_FOUND when there is none of that name. */
  async updateUser(name: string, changes: UserChanges, now = nowIso()): Promise<User> {
    const row = await this.db
      .updateTable('users')
      .set({
        updated_at: now,
        ...(changes.passwordHash === undefined ? {} : { password_hash: changes.passwordHash }),
        ...(changes.role === undefined ? {} : { role: changes.role }),
        ...(changes.scopes === undefined ? {} : { scopes: JSON.stringify(changes.scopes) }),
        ...(changes.disabled === undefined ? {} : { disabled: changes.disabled ? 1 : 0 }),
      })
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined)
      throw new AppError('NOT_FOUND', `no user ${name}`, { hint: 'list users with winsmith user list' });
    return toUser(row);
  }

  /** Deletes a user and their tokens. Returns false when there was none. */
  async deleteUser(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- tokens ----------------------------------------------------------------------------

  async createToken(token: NewToken): Promise<TokenRecord> {
    const row = await this.db
      .insertInto('tokens')
      .values({
        id: token.id ?? randomUUID(),
        token_hash: token.tokenHash,
        name: token.name,
        user_name: token.userName,
        created_at: token.now ?? nowIso(),
        expires_at: token.expiresAt,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  /** The token with this sha256 hash and its user, whatever its state (the caller checks expiry). */
  async findTokenByHash(tokenHash: string): Promise<{ token: TokenRecord; user: User } | undefined> {
    const token = await this.db
      .selectFrom('tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (token === undefined) return undefined;
    const user = await this.getUser(token.user_name);
    return user === undefined ? undefined : { token: toToken(token), user };
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = await this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toToken(row);
  }

  /** Tokens of one user, or of everyone; newest first. */
  async listTokens(userName?: string): Promise<TokenRecord[]> {
    let query = this.db.selectFrom('tokens').selectAll();
    if (userName !== undefined) query = query.where('user_name', '=', userName);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toToken);
  }

  async touchToken(id: string, now = nowIso()): Promise<void> {
    await this.db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** Revokes a token (kept for the record). Returns false when it is unknown or already revoked. */
  async revokeToken(id: string, now = nowIso()): Promise<boolean> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // ---- audit log -------------------------------------------------------------------------

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.db
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
    const limit = Math.max(1, Math.min(query.limit ?? 100, MAX_AUDIT_PAGE));
    let q = this.db.selectFrom('audit_log').selectAll();
    if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.target !== undefined) q = q.where('target', '=', query.target);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toAudit);
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
    return this.db.transaction().execute(async (trx) => {
      let existingQuery = trx.selectFrom('machines').selectAll().where('mac', '=', mac);
      if (this.kind === 'postgres') existingQuery = existingQuery.forUpdate();
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
          deployment_id: null,
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
    return this.db.transaction().execute(async (trx) => {
      let existingQuery = trx.selectFrom('machines').select(['id', 'inventory']).where('mac', '=', mac);
      if (this.kind === 'postgres') existingQuery = existingQuery.forUpdate();
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
    const row = await this.db
      .selectFrom('machines')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  async getMachine(id: string): Promise<Machine | undefined> {
    const row = await this.db.selectFrom('machines').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  async getMachineByMac(mac: string): Promise<Machine | undefined> {
    const row = await this.db
      .selectFrom('machines')
      .selectAll()
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  /** By SMBIOS UUID (compared in lower case); the most recently seen when several NICs share it. */
  async getMachineByUuid(uuid: string): Promise<Machine | undefined> {
    const row = await this.db
      .selectFrom('machines')
      .selectAll()
      .where('smbios_uuid', '=', uuid.toLowerCase())
      .orderBy('last_seen', 'desc')
      .executeTakeFirst();
    return row === undefined ? undefined : toMachine(row);
  }

  async listMachines(): Promise<Machine[]> {
    const rows = await this.db
      .selectFrom('machines')
      .selectAll()
      .orderBy('first_seen')
      .orderBy('mac')
      .execute();
    return rows.map(toMachine);
  }

  /** Assigns a deployment to a machine, or clears it with null; NOT_FOUND for an unknown machine. */
  async assignDeployment(machineId: string, deploymentId: string | null): Promise<Machine> {
    const row = await this.db
      .updateTable('machines')
      .set({ deployment_id: deploymentId })
      .where('id', '=', machineId)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) {
      throw new AppError('NOT_FOUND', `no machine ${machineId}`, {
        hint: 'list machines with winsmith machines',
      });
    }
    return toMachine(row);
  }

  async deleteMachine(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('machines').where('id', '=', id).executeTakeFirst();
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
      await this.db.transaction().execute(async (trx) => {
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
    const row = await this.db.selectFrom('leases').selectAll().where('ip', '=', ip).executeTakeFirst();
    return row === undefined ? undefined : toLease(row);
  }

  async getLeaseByMac(mac: string): Promise<Lease | undefined> {
    const row = await this.db
      .selectFrom('leases')
      .selectAll()
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return row === undefined ? undefined : toLease(row);
  }

  /** Leases by address; with `activeAt`, only those not expired at that time. */
  async listLeases(activeAt?: string): Promise<Lease[]> {
    let query = this.db.selectFrom('leases').selectAll();
    if (activeAt !== undefined) query = query.where('expires_at', '>', activeAt);
    const rows = await query.orderBy('ip').execute();
    return rows.map(toLease);
  }

  /** Releases the lease of `ip` if `mac` holds it (DHCPRELEASE). */
  async releaseLease(ip: string, mac: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('leases')
      .where('ip', '=', ip)
      .where('mac', '=', normalizeMac(mac))
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredLeases(now = nowIso()): Promise<number> {
    const result = await this.db.deleteFrom('leases').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- stats -----------------------------------------------------------------------------

  async stats(): Promise<CatalogStats> {
    const artifacts = await this.db
      .selectFrom('artifacts')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('n'),
        eb.fn.sum<number | string | null>('size').as('bytes'),
      ])
      .executeTakeFirstOrThrow();
    const tags = await this.db
      .selectFrom('tags')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return {
      logicalBytes: toNumber(artifacts.bytes),
      artifacts: toNumber(artifacts.n),
      tags: toNumber(tags.n),
    };
  }
}
