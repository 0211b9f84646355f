// The images' part of the catalog: artifacts (what each manifest describes, and the chunks it
// references), tags with their history, uploads under way (and the chunks each has accounted for),
// and the counts store stats give. Rows become records here; changes that must happen together (a
// tag move and its history row; the commit of an upload) run in one transaction.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { AppError } from '../core/errors.ts';
import { validateImageName, validateTag, type ImageRef } from '../core/names.ts';
import { kyselyOf, type Database } from '../db/database.ts';
import {
  batches,
  decodePageCursor,
  nameWithin,
  nowIso,
  parseJson,
  refusedCursor,
  toNumber,
  type Db,
} from '../db/rows.ts';
import type { ArtifactsTable, CatalogSchema, DatabaseKind, UploadsTable } from '../db/schema.ts';

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

export interface ImageCatalogStats {
  /** Sum of the sizes of every artifact (the bytes a pull of each would give). */
  readonly logicalBytes: number;
  readonly artifacts: number;
  readonly tags: number;
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

/** The image a cursor of an images page names; INVALID_ARGUMENT for anything a page did not end with. */
export function decodeImageCursor(cursor: string): ImageRef {
  const [name = '', tag = ''] = decodePageCursor(cursor, 2);
  try {
    return { name: validateImageName(name), tag: validateTag(tag) };
  } catch {
    throw refusedCursor(cursor);
  }
}

export class ImageCatalog {
  readonly #db: Kysely<CatalogSchema>;
  readonly #kind: DatabaseKind;

  constructor(database: Database) {
    this.#db = kyselyOf(database);
    this.#kind = database.kind;
  }

  // ---- artifacts -------------------------------------------------------------------------

  /**
   * Records an artifact. Digests are immutable: when the digest is already stored, the stored
   * record is kept and returned unchanged.
   */
  async putArtifact(artifact: NewArtifact): Promise<Artifact> {
    return this.putArtifactIn(this.#db, artifact);
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
    const row = await this.#db
      .selectFrom('artifacts')
      .selectAll()
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row === undefined ? undefined : toArtifact(row);
  }

  async listArtifacts(): Promise<Artifact[]> {
    const rows = await this.#db
      .selectFrom('artifacts')
      .selectAll()
      .orderBy('pushed_at')
      .orderBy('digest')
      .execute();
    return rows.map(toArtifact);
  }

  private async indexChunksIn(db: Db, digest: string, chunks: readonly string[]): Promise<void> {
    for (const batch of batches([...new Set(chunks)])) {
      await db
        .insertInto('artifact_chunks')
        .values(batch.map((chunk) => ({ artifact_digest: digest, chunk_digest: chunk })))
        .onConflict((oc) => oc.columns(['artifact_digest', 'chunk_digest']).doNothing())
        .execute();
    }
  }

  /** Records the chunks an artifact's manifest references (for artifacts stored before they were). */
  async indexArtifactChunks(digest: string, chunks: readonly string[]): Promise<void> {
    await this.#db.transaction().execute((trx) => this.indexChunksIn(trx, digest, chunks));
  }

  /** Artifacts with no chunk recorded: stored before chunks were, or of empty content. */
  async artifactsWithoutChunks(): Promise<string[]> {
    const rows = await this.#db
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
    for (const batch of batches([...new Set(chunks)])) {
      const rows = await this.#db
        .selectFrom('artifact_chunks')
        .innerJoin('tags', 'tags.digest', 'artifact_chunks.artifact_digest')
        .select('artifact_chunks.chunk_digest')
        .distinct()
        .where('artifact_chunks.chunk_digest', 'in', batch)
        .where((eb) => nameWithin(eb, 'tags.name', scopes))
        .execute();
      for (const r of rows) found.add(r.chunk_digest);
    }
    return found;
  }

  /** Artifacts no tag points at (candidates for removal; their lineage stays in their children). */
  async listUntaggedArtifacts(): Promise<Artifact[]> {
    const rows = await this.#db
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
    const rows = await this.#db
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
    const tagged = await this.#db
      .selectFrom('tags')
      .select(['name', 'tag'])
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (tagged !== undefined) {
      throw new AppError('CONFLICT', `artifact ${digest} is still tagged ${tagged.name}:${tagged.tag}`, {
        hint: 'remove its tags first (winsmith image rm NAME:TAG)',
      });
    }
    const result = await this.#db.deleteFrom('artifacts').where('digest', '=', digest).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Manifest digests that must not be collected: every artifact, and the manifest of every open
   * upload (its chunks may be half sent).
   */
  async liveManifestDigests(): Promise<Set<string>> {
    const artifacts = await this.#db.selectFrom('artifacts').select('digest').execute();
    const uploads = await this.#db
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
    return this.#db.transaction().execute((trx) => this.setTagIn(trx, name, tag, digest, changedBy, now));
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
    if (this.#kind === 'postgres') current = current.forUpdate();
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
    return this.#db.transaction().execute(async (trx) => {
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
    let q = this.imageQuery().where((eb) => nameWithin(eb, 'tags.name', query.scopes));
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
    const rows = await this.#db
      .selectFrom('tags')
      .select('tags.digest')
      .distinct()
      .where((eb) => nameWithin(eb, 'tags.name', scopes))
      .execute();
    return new Set(rows.map((r) => r.digest));
  }

  /** The tags pointing at `digest`. */
  async tagsOf(digest: string): Promise<{ name: string; tag: string }[]> {
    return this.#db
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
    const rows = await this.#db
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
    return this.#db
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
    const row = await this.#db
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
    const row = await this.#db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toUpload(row);
  }

  /**
   * Gives a streamed upload (opened with no manifest: its digest '') the manifest it ends with;
   * false when the upload is not open or already has one.
   */
  async setUploadManifest(
    id: string,
    manifestDigest: string,
    manifest: string,
    now = nowIso(),
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('uploads')
      .set({ manifest_digest: manifestDigest, manifest, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .where('manifest_digest', '=', '')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The newest open upload of the same manifest to the same `name:tag`, to resume it. */
  async findOpenUpload(name: string, tag: string, manifestDigest: string): Promise<Upload | undefined> {
    const row = await this.#db
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
    let query = this.#db.selectFrom('uploads').selectAll();
    if (state !== undefined) query = query.where('state', '=', state);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toUpload);
  }

  /**
   * Records chunks as accounted for by an open upload (sent, or reused within its caller's
   * scopes), and marks activity on it so stale-upload clean-up spares it.
   */
  async accountUploadChunks(id: string, chunks: readonly string[], now = nowIso()): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .updateTable('uploads')
        .set({ updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .execute();
      for (const batch of batches([...new Set(chunks)])) {
        await trx
          .insertInto('upload_chunks')
          .values(batch.map((chunk) => ({ upload_id: id, chunk_digest: chunk })))
          .onConflict((oc) => oc.columns(['upload_id', 'chunk_digest']).doNothing())
          .execute();
      }
    });
  }

  /** Of `digests`, those an upload has accounted for, and how many it has in all. */
  async uploadChunksAmong(
    id: string,
    digests: readonly string[],
  ): Promise<{ readonly accounted: Set<string>; readonly count: number }> {
    const accounted = new Set<string>();
    for (const batch of batches([...new Set(digests)])) {
      const rows = await this.#db
        .selectFrom('upload_chunks')
        .select('chunk_digest')
        .where('upload_id', '=', id)
        .where('chunk_digest', 'in', batch)
        .execute();
      for (const r of rows) accounted.add(r.chunk_digest);
    }
    const { count } = await this.#db
      .selectFrom('upload_chunks')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('upload_id', '=', id)
      .executeTakeFirstOrThrow();
    return { accounted, count: toNumber(count) };
  }

  /** The chunks an upload has accounted for. */
  async uploadChunks(id: string): Promise<Set<string>> {
    const rows = await this.#db
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
    return this.#db.transaction().execute(async (trx) => {
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
    const result = await this.#db
      .updateTable('uploads')
      .set({ state: 'aborted', updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Aborts open uploads with no activity since `before`; returns their ids. */
  async abortStaleUploads(before: string, now = nowIso()): Promise<string[]> {
    const rows = await this.#db
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
    const result = await this.#db
      .deleteFrom('uploads')
      .where('state', '<>', 'open')
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- stats -----------------------------------------------------------------------------

  async stats(): Promise<ImageCatalogStats> {
    const artifacts = await this.#db
      .selectFrom('artifacts')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('n'),
        eb.fn.sum<number | string | null>('size').as('bytes'),
      ])
      .executeTakeFirstOrThrow();
    const tags = await this.#db
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
