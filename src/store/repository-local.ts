// The repository on a data directory (or on the PostgreSQL catalog and S3 blobs a config names):
// the catalog (src/store/catalog) and the chunk store (src/store/chunk-store.ts) joined into the
// push/pull protocol of repository.ts. `winsmith server` serves it; the CLI uses it directly for
// --repo PATH. Every change is written to the audit log under the actor that asked.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { authenticatePassword } from '../auth/login.ts';
import { LoginRateLimiter } from '../auth/rate-limit.ts';
import { isRole, type Principal } from '../auth/roles.ts';
import { authenticateToken, issueToken } from '../auth/tokens.ts';
import { addUser, createFirstAdmin } from '../auth/users.ts';
import { DEFAULT_MAX_MANIFEST_CHUNKS } from '../config/server-config.ts';
import { AppError } from '../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './blob-store-fs.ts';
import { Catalog, type Artifact, type Upload } from './catalog/catalog.ts';
import { decodeImageCursor, encodeImageCursor, formatImageRef, type ImageRef } from './catalog/names.ts';
import { chunkKey, ChunkStore, type GcReport } from './chunk-store.ts';
import { CHUNKER_DEFAULTS, type ChunkerOptions } from './chunker.ts';
import { writeChunkFiles, type ChunkSegment } from './chunk-files-writer.ts';
import {
  isDigest,
  manifestDigest,
  parseManifest,
  serializeManifest,
  validateManifest,
  type Manifest,
} from './manifest.ts';
import type {
  ArtifactMeta,
  ByteRange,
  Content,
  ImagePage,
  ImageRecord,
  ImageSummary,
  Repository,
  RepositoryCheckReport,
  StoreStats,
  UploadSession,
} from './repository.ts';
import { checkArtifactMeta, IMAGE_PAGE_MAX } from './repository.ts';

/** Where the repository's parts are (src/config/server-config.ts makes these from a config file). */
export interface LocalRepositoryConfig {
  readonly catalog:
    { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly blobs: BlobStore;
  /** Directory to create first (the data directory), or null. */
  readonly dataDir: string | null;
  readonly chunking: ChunkerOptions | null;
  readonly gcGraceSeconds: number;
  readonly maxChunkBytes: number;
  /** Chunks a pushed manifest may list (default DEFAULT_MAX_MANIFEST_CHUNKS). */
  readonly maxManifestChunks?: number;
}

export interface Actor {
  readonly user: string;
  readonly client: string;
  /**
   * Image-name prefixes the actor may read, which bound what a push may reuse; absent: every
   * image (admins, unscoped users, the CLI on a data directory).
   */
  readonly readScopes?: readonly string[];
}

/** Open uploads whose parsed manifest is kept in memory; the least recently opened goes first. */
const OPEN_UPLOADS_CACHED = 256;

/** The distinct chunk digests of a manifest, in manifest order. */
function distinctChunks(manifest: Manifest): string[] {
  return [...new Set(manifest.chunks.map((c) => c.digest))];
}

/** The parts of chunks that make up bytes [range.start, range.end] of a manifest's content. */
function segmentsOf(manifest: Manifest, range: ByteRange): ChunkSegment[] {
  const segments: ChunkSegment[] = [];
  let offset = 0;
  for (const c of manifest.chunks) {
    const start = offset;
    offset += c.size;
    if (offset - 1 < range.start) continue;
    if (start > range.end) break;
    segments.push({
      digest: c.digest,
      key: chunkKey(c.digest),
      size: c.size,
      from: Math.max(range.start, start) - start,
      to: Math.min(range.end, offset - 1) - start,
    });
  }
  return segments;
}

function record(artifact: Artifact, ref: ImageRef): ImageRecord {
  return {
    name: ref.name,
    tag: ref.tag,
    digest: artifact.digest,
    mediaType: artifact.mediaType,
    size: artifact.size,
    sha256: artifact.sha256,
    editions: artifact.editions,
    pushedBy: artifact.pushedBy,
    pushedAt: artifact.pushedAt,
    parentDigest: artifact.parentDigest,
    recipe: artifact.recipe,
    sourceIsoSha256: artifact.sourceIsoSha256,
  };
}

function summary(image: ImageRecord): ImageSummary {
  const { recipe, ...rest } = image;
  return rest;
}

function notFound(ref: ImageRef): AppError {
  return new AppError('NOT_FOUND', `no image ${formatImageRef(ref)}`, {
    hint: "see 'winsmith images' for the images there are",
  });
}

export class LocalRepository {
  readonly location: string;
  readonly catalog: Catalog;
  readonly chunks: ChunkStore;
  readonly chunking: ChunkerOptions;
  readonly maxChunkBytes: number;
  readonly maxManifestChunks: number;
  readonly #graceSeconds: number;
  readonly #limiter = new LoginRateLimiter();
  /** Parsed manifests of open uploads, by upload id (each chunk PUT needs its sizes). */
  readonly #uploads = new Map<string, { upload: Upload; manifest: Manifest; sizes: Map<string, number> }>();

  constructor(catalog: Catalog, chunks: ChunkStore, config: LocalRepositoryConfig) {
    this.catalog = catalog;
    this.chunks = chunks;
    this.location = chunks.blobs.location;
    this.chunking = config.chunking ?? CHUNKER_DEFAULTS;
    this.maxChunkBytes = config.maxChunkBytes;
    this.maxManifestChunks = config.maxManifestChunks ?? DEFAULT_MAX_MANIFEST_CHUNKS;
    this.#graceSeconds = config.gcGraceSeconds;
  }

  static async open(config: LocalRepositoryConfig): Promise<LocalRepository> {
    if (config.dataDir !== null) await mkdir(config.dataDir, { recursive: true });
    const catalog = await Catalog.open(config.catalog);
    const repo = new LocalRepository(
      catalog,
      new ChunkStore(config.blobs, config.chunking ?? CHUNKER_DEFAULTS),
      config,
    );
    try {
      await repo.#indexArtifactChunks();
    } catch (e) {
      await catalog.close();
      throw e;
    }
    return repo;
  }

  /**
   * Records the chunks of artifacts stored before the catalog kept them (what pushes may reuse is
   * decided from these). An artifact whose manifest is gone is left for `store check` to report.
   */
  async #indexArtifactChunks(): Promise<void> {
    for (const digest of await this.catalog.artifactsWithoutChunks()) {
      if (!(await this.chunks.hasManifest(digest))) continue;
      const manifest = await this.chunks.getManifest(digest);
      await this.catalog.indexArtifactChunks(digest, distinctChunks(manifest));
    }
  }

  /** A data directory with the embedded defaults: SQLite catalog and filesystem blobs. */
  static openDataDir(
    dataDir: string,
    options: {
      readonly chunking?: ChunkerOptions;
      readonly gcGraceSeconds?: number;
      readonly maxChunkBytes?: number;
      readonly maxManifestChunks?: number;
    } = {},
  ): Promise<LocalRepository> {
    return LocalRepository.open({
      catalog: { kind: 'sqlite', path: `${dataDir}/catalog.sqlite` },
      blobs: new FsBlobStore(`${dataDir}/blobs`),
      dataDir,
      chunking: options.chunking ?? null,
      gcGraceSeconds: options.gcGraceSeconds ?? 86_400,
      maxChunkBytes: options.maxChunkBytes ?? 16 * 1024 * 1024,
      ...(options.maxManifestChunks === undefined ? {} : { maxManifestChunks: options.maxManifestChunks }),
    });
  }

  async close(): Promise<void> {
    await this.catalog.close();
  }

  async audit(
    actor: Actor,
    action: string,
    target: string | null,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.catalog.appendAudit({ actor: actor.user, action, target, client: actor.client, details });
  }

  /** The repository acting for `actor`. */
  as(actor: Actor): Repository {
    return {
      location: this.location,
      chunking: () => Promise.resolve(this.chunking),
      beginUpload: (ref, manifest) => this.beginUpload(actor, ref, manifest),
      putChunk: (id, digest, bytes) => this.putChunk(id, digest, bytes),
      commitUpload: (id, meta) => this.commitUpload(actor, id, meta),
      getImage: (ref) => this.getImage(ref),
      readContent: (ref, digest, range) => this.readContent(ref, digest, range),
      listImages: () => this.listImages(),
      tag: (source, target) => this.tag(actor, source, target),
      removeTag: (ref) => this.removeTag(actor, ref),
      stats: () => this.stats(),
      check: (progress) => this.check(progress, actor.readScopes ?? null),
      gc: (progress) => this.gc(actor, progress),
      close: () => this.close(),
    };
  }

  async beginUpload(actor: Actor, ref: ImageRef, given: Manifest): Promise<UploadSession> {
    const manifest = validateManifest(given);
    if (manifest.chunks.length > this.maxManifestChunks) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `the manifest lists ${manifest.chunks.length} chunks, over the limit ${this.maxManifestChunks}`,
        { hint: 'raise limits.manifestChunks in the server config for images this large' },
      );
    }
    for (const c of manifest.chunks) {
      if (c.size > this.maxChunkBytes) {
        throw new AppError(
          'LIMIT_EXCEEDED',
          `the manifest has a chunk of ${c.size} bytes, over the limit ${this.maxChunkBytes}`,
          {
            hint: 'push with the chunk sizes the repository announces',
          },
        );
      }
    }
    const digest = manifestDigest(manifest);
    const text = new TextDecoder().decode(serializeManifest(manifest));
    const upload =
      (await this.catalog.findOpenUpload(ref.name, ref.tag, digest)) ??
      (await this.catalog.createUpload({
        name: ref.name,
        tag: ref.tag,
        manifestDigest: digest,
        manifest: text,
        createdBy: actor.user,
      }));
    const wanted = distinctChunks(manifest);
    const accounted = await this.catalog.uploadChunks(upload.id);
    // Deduplication never crosses permissions: a chunk counts as present only when this upload
    // already accounted for it or an image the caller may read references it. Anything else is
    // asked for, whether the store has it or not, so the answer says nothing of other images.
    const reusable = await this.catalog.chunksReadableIn(
      wanted.filter((d) => !accounted.has(d)),
      actor.readScopes ?? null,
    );
    const candidates = wanted.filter((d) => accounted.has(d) || reusable.has(d));
    const absent = new Set(await this.chunks.missing(candidates));
    const present = new Set(candidates.filter((d) => !absent.has(d)));
    await this.catalog.accountUploadChunks(
      upload.id,
      [...present].filter((d) => !accounted.has(d)),
    );
    const missing = wanted.filter((d) => !present.has(d));
    await this.audit(actor, 'upload.begin', formatImageRef(ref), {
      upload: upload.id,
      manifest: digest,
      missingChunks: missing.length,
    });
    return { id: upload.id, missing };
  }

  async #openUpload(id: string): Promise<{ upload: Upload; manifest: Manifest; sizes: Map<string, number> }> {
    const cached = this.#uploads.get(id);
    if (cached !== undefined) return cached;
    const upload = /^[A-Za-z0-9-]{1,64}$/.test(id) ? await this.catalog.getUpload(id) : undefined;
    if (upload === undefined) {
      throw new AppError('NOT_FOUND', `no upload ${JSON.stringify(id.slice(0, 80))}`, {
        hint: 'start the push again',
      });
    }
    if (upload.state !== 'open') {
      throw new AppError('CONFLICT', `upload ${id} is ${upload.state}, not open`, {
        hint: 'start the push again',
      });
    }
    const manifest = parseManifest(new TextEncoder().encode(upload.manifest));
    const sizes = new Map(manifest.chunks.map((c) => [c.digest, c.size]));
    const entry = { upload, manifest, sizes };
    this.#uploads.set(id, entry);
    if (this.#uploads.size > OPEN_UPLOADS_CACHED) {
      const oldest = this.#uploads.keys().next();
      if (oldest.done !== true) this.#uploads.delete(oldest.value);
    }
    return entry;
  }

  /** The image name an open upload is for. */
  async uploadImageName(id: string): Promise<string> {
    return (await this.#openUpload(id)).upload.name;
  }

  async putChunk(id: string, digest: string, bytes: Uint8Array): Promise<void> {
    const { sizes } = await this.#openUpload(id);
    const size = isDigest(digest) ? sizes.get(digest) : undefined;
    if (size === undefined) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `chunk ${JSON.stringify(digest.slice(0, 80))} is not in the manifest of upload ${id}`,
        {
          hint: 'send only the chunks the upload asked for',
        },
      );
    }
    if (bytes.length !== size) {
      throw new AppError(
        'FORMAT_INVALID',
        `chunk ${digest} has ${bytes.length} bytes, the manifest says ${size}`,
        {
          hint: 'send the chunk bytes exactly as cut',
        },
      );
    }
    await this.chunks.putChunk(digest, bytes);
    await this.catalog.accountUploadChunks(id, [digest]);
  }

  async commitUpload(actor: Actor, id: string, meta: ArtifactMeta): Promise<ImageRecord> {
    checkArtifactMeta(meta);
    const { upload, manifest } = await this.#openUpload(id);
    const wanted = distinctChunks(manifest);
    const accounted = await this.catalog.uploadChunks(id);
    const missing = [
      ...wanted.filter((d) => !accounted.has(d)),
      ...(await this.chunks.missing(wanted.filter((d) => accounted.has(d)))),
    ];
    if (missing.length > 0) {
      throw new AppError(
        'CONFLICT',
        `upload ${id} still lacks ${missing.length} chunk(s), e.g. ${missing[0] ?? ''}`,
        {
          hint: 'push again: only the missing chunks are sent',
        },
      );
    }
    const sha256 = await this.#contentSha256(manifest);
    if (sha256 !== manifest.sha256) {
      throw new AppError(
        'FORMAT_INVALID',
        `upload ${id}: its chunks make content with SHA-256 ${sha256}, the manifest says ${manifest.sha256}`,
        { hint: 'push again from the file; the manifest sent does not describe it' },
      );
    }
    const digest = await this.chunks.putManifest(manifest);
    const { artifact } = await this.catalog.commitUpload(
      id,
      {
        digest,
        mediaType: manifest.mediaType,
        size: manifest.size,
        sha256: manifest.sha256,
        editions: meta.editions,
        parentDigest: meta.parentDigest,
        recipe: meta.recipe,
        sourceIsoSha256: meta.sourceIsoSha256,
        chunks: wanted,
      },
      actor.user,
    );
    this.#uploads.delete(id);
    const ref = { name: upload.name, tag: upload.tag };
    await this.audit(actor, 'image.push', formatImageRef(ref), { digest, size: manifest.size, upload: id });
    return record(artifact, ref);
  }

  /** The SHA-256 of the content `manifest` describes, read back from the stored chunks. */
  async #contentSha256(manifest: Manifest): Promise<string> {
    const hash = createHash('sha256');
    if (manifest.size > 0) {
      const sink = new Writable({
        write(piece: Buffer, _encoding, done) {
          hash.update(piece);
          done();
        },
      });
      await this.#contentOf(manifest, { start: 0, end: manifest.size - 1 }).writeTo(sink);
    }
    return hash.digest('hex');
  }

  async getImage(ref: ImageRef): Promise<ImageRecord> {
    const entry = await this.catalog.getImage(ref.name, ref.tag);
    if (entry === undefined) throw notFound(ref);
    return record(entry, ref);
  }

  async readContent(ref: ImageRef, digest: string, range?: ByteRange): Promise<Content> {
    const image = await this.getImage(ref);
    if (image.digest !== digest) {
      throw new AppError('CONFLICT', `${formatImageRef(ref)} now points at ${image.digest}, not ${digest}`, {
        hint: 'the tag moved while you pulled: pull again',
      });
    }
    const manifest = await this.chunks.getManifest(digest);
    const wanted = range ?? { start: 0, end: manifest.size - 1 };
    if (!(wanted.start >= 0 && wanted.start <= wanted.end && wanted.end < manifest.size)) {
      throw new AppError(
        'RANGE_NOT_SATISFIABLE',
        `range ${wanted.start}-${wanted.end} is not within ${manifest.size} bytes`,
        {
          hint: 'ask for a range with 0 <= start <= end < size',
        },
      );
    }
    return this.#contentOf(manifest, wanted);
  }

  /** Bytes `range` of the content `manifest` describes, from the stored chunks. */
  #contentOf(manifest: Manifest, range: ByteRange): Content {
    const segments = segmentsOf(manifest, range);
    const blobs = this.chunks.blobs;
    const stream = (): Readable => Readable.from(this.#pieces(segments), { objectMode: false });
    return {
      size: range.end - range.start + 1,
      get stream() {
        return stream();
      },
      writeTo:
        blobs instanceof FsBlobStore
          ? (out) => writeChunkFiles(blobs, segments, out)
          : (out) => pipeline(stream(), out, { end: false }),
    };
  }

  /**
   * The segments' bytes streamed chunk after chunk from the blob store (a chunk is never held
   * whole). A chunk shorter than the manifest says fails the stream; pull checks the SHA-256.
   */
  async *#pieces(segments: readonly ChunkSegment[]): AsyncGenerator<Uint8Array> {
    for (const s of segments) {
      let got = 0;
      const stream = this.chunks.blobs.getStream(s.key, { start: s.from, end: s.to });
      for await (const piece of stream as AsyncIterable<Uint8Array>) {
        got += piece.length;
        yield piece;
      }
      if (got !== s.to - s.from + 1) {
        throw new AppError(
          'FORMAT_INVALID',
          `chunk ${s.digest} gave ${got} bytes where ${s.to - s.from + 1} were expected`,
          {
            hint: "run 'winsmith store check'",
          },
        );
      }
    }
  }

  async listImages(): Promise<ImageSummary[]> {
    const entries = await this.catalog.listImages();
    return entries.map((e) => summary(record(e, e)));
  }

  /** A page of the images `actor` may read, after the page `cursor` ended (the first without). */
  async listImagePage(
    actor: Actor,
    query: { readonly limit: number; readonly cursor: string | null },
  ): Promise<ImagePage> {
    const limit = Math.min(IMAGE_PAGE_MAX, Math.max(1, Math.floor(query.limit)));
    const entries = await this.catalog.listImagePage({
      scopes: actor.readScopes ?? null,
      after: query.cursor === null ? null : decodeImageCursor(query.cursor),
      limit: limit + 1,
    });
    const images = entries.slice(0, limit).map((e) => summary(record(e, e)));
    const last = images.at(-1);
    return { images, next: entries.length > limit && last !== undefined ? encodeImageCursor(last) : null };
  }

  async tag(actor: Actor, source: ImageRef, target: ImageRef): Promise<ImageRecord> {
    const image = await this.getImage(source);
    const change = await this.catalog.setTag(target.name, target.tag, image.digest, actor.user);
    await this.audit(actor, 'image.tag', formatImageRef(target), {
      source: formatImageRef(source),
      digest: image.digest,
      previousDigest: change.previousDigest,
    });
    return { ...image, name: target.name, tag: target.tag };
  }

  async removeTag(actor: Actor, ref: ImageRef): Promise<void> {
    if ((await this.catalog.getImage(ref.name, ref.tag)) === undefined) throw notFound(ref);
    const change = await this.catalog.removeTag(ref.name, ref.tag, actor.user);
    await this.audit(actor, 'image.remove', formatImageRef(ref), { digest: change.previousDigest });
  }

  async stats(): Promise<StoreStats> {
    const [catalog, store] = await Promise.all([this.catalog.stats(), this.chunks.stats()]);
    return {
      logicalBytes: catalog.logicalBytes,
      storedBytes: store.storedBytes,
      chunks: store.chunks,
      artifacts: catalog.artifacts,
    };
  }

  /**
   * Reads every chunk and manifest back (ChunkStore.check), then the content of every artifact
   * whole, in order, against the SHA-256 the catalog lists for it.
   */
  async check(
    progress: ProgressListener = ignoreProgress,
    scopes: readonly string[] | null = null,
  ): Promise<RepositoryCheckReport> {
    const report = await this.#checkAll(progress);
    return scopes === null ? report : this.#withinScopes(report, scopes);
  }

  /**
   * A check report with only what concerns images within `scopes`: the problems of their
   * manifests and contents, and the corrupt chunks they reference; ok when none is left. The
   * totals stay (the store's size is no secret: store stats show it to every role).
   */
  async #withinScopes(
    report: RepositoryCheckReport,
    scopes: readonly string[],
  ): Promise<RepositoryCheckReport> {
    const artifacts = await this.catalog.artifactsWithin(scopes);
    const chunks = await this.catalog.chunksReadableIn(report.corruptChunks, scopes);
    const within = {
      corruptChunks: report.corruptChunks.filter((d) => chunks.has(d)),
      corruptManifests: report.corruptManifests.filter((d) => artifacts.has(d)),
      missingChunks: report.missingChunks.filter((m) => artifacts.has(m.manifest)),
      missingManifests: report.missingManifests.filter((d) => artifacts.has(d)),
      wrongContent: report.wrongContent.filter((w) => artifacts.has(w.digest)),
    };
    return { ...report, ...within, ok: Object.values(within).every((list) => list.length === 0) };
  }

  async #checkAll(progress: ProgressListener): Promise<RepositoryCheckReport> {
    const report = await this.chunks.check({ onProgress: progress });
    const missingManifests: string[] = [];
    const wrongContent: { digest: string; expected: string; found: string }[] = [];
    const artifacts = await this.catalog.listArtifacts();
    const total = artifacts.reduce((n, a) => n + a.size, 0);
    let done = 0;
    for (const artifact of artifacts) {
      if (!(await this.chunks.hasManifest(artifact.digest))) {
        missingManifests.push(artifact.digest);
        continue;
      }
      const found = await this.#contentSha256(await this.chunks.getManifest(artifact.digest)).catch(
        () => 'unreadable',
      );
      if (found !== artifact.sha256)
        wrongContent.push({ digest: artifact.digest, expected: artifact.sha256, found });
      done += artifact.size;
      progress({ phase: 'Checking image contents', done, total, unit: 'bytes' });
    }
    const ok = report.ok && missingManifests.length === 0 && wrongContent.length === 0;
    return { ...report, ok, missingManifests, wrongContent };
  }

  /**
   * Removes chunks no artifact references and no open upload lists, older than the grace period.
   * The chunks of open uploads are read after the store is listed (inside the live-set callback),
   * so a push that begins while gc runs is protected; a chunk removed under a push anyway makes
   * its commit fail with the chunk named, never list an incomplete image.
   */
  async gc(actor: Actor, progress: ProgressListener = ignoreProgress): Promise<GcReport> {
    // An upload with no activity for the grace period is abandoned: its chunks lose protection.
    const stale = await this.catalog.abortStaleUploads(
      new Date(Date.now() - this.#graceSeconds * 1000).toISOString(),
    );
    for (const id of stale) this.#uploads.delete(id);
    const protectedChunks = new Set<string>();
    const live = async (): Promise<string[]> => {
      const artifacts = await this.catalog.listArtifacts();
      for (const upload of await this.catalog.listUploads('open')) {
        for (const c of parseManifest(new TextEncoder().encode(upload.manifest)).chunks)
          protectedChunks.add(c.digest);
      }
      return artifacts.map((a) => a.digest);
    };
    const report = await this.chunks.gc(live, {
      graceSeconds: this.#graceSeconds,
      protectedChunks,
      onProgress: progress,
    });
    await this.audit(actor, 'store.gc', null, { ...report, abortedUploads: stale.length });
    return report;
  }

  // ---- accounts --------------------------------------------------------------------------

  /** The principal of a token, or null when it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | null> {
    try {
      return (await authenticateToken(this.catalog, token)).principal;
    } catch (e) {
      if (e instanceof AppError && e.code === 'UNAUTHORIZED') return null;
      throw e;
    }
  }

  /** A token for a correct user name and password (rate-limited per user and client). */
  async login(
    user: string,
    password: string,
    client: string,
  ): Promise<{ token: string; expiresAt: string | null }> {
    let principal: Principal;
    try {
      principal = await authenticatePassword(this.catalog, this.#limiter, { name: user, password, client });
    } catch (e) {
      if (e instanceof AppError)
        await this.audit({ user: user.slice(0, 64), client }, 'user.login.failed', null, { code: e.code });
      throw e;
    }
    const { token, record } = await issueToken(this.catalog, {
      userName: principal.name,
      name: `login from ${client}`,
    });
    await this.audit({ user: principal.name, client }, 'user.login', principal.name, { token: record.id });
    return { token, expiresAt: record.expiresAt };
  }

  async addUser(
    actor: Actor,
    request: {
      readonly name: string;
      readonly password?: string;
      readonly role: string;
      readonly scopes: readonly string[];
    },
  ): Promise<{
    name: string;
    role: string;
    scopes: readonly string[];
    password: string;
    generated: boolean;
  }> {
    const role = request.role;
    if (!isRole(role)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `role ${JSON.stringify(role)} is not admin, builder, operator or viewer`,
        {
          hint: 'give one of admin, builder, operator, viewer',
        },
      );
    }
    const { user, password, generated } = await addUser(this.catalog, {
      name: request.name,
      role,
      scopes: request.scopes,
      ...(request.password === undefined ? {} : { password: request.password }),
    });
    await this.audit(actor, 'user.add', user.name, { role: user.role, scopes: user.scopes });
    return { name: user.name, role: user.role, scopes: user.scopes, password, generated };
  }

  async listUsers(): Promise<{ name: string; role: string; scopes: readonly string[]; disabled: boolean }[]> {
    return (await this.catalog.listUsers()).map((u) => ({
      name: u.name,
      role: u.role,
      scopes: u.scopes,
      disabled: u.disabled,
    }));
  }

  async createToken(
    actor: Actor,
    request: { readonly name: string; readonly user: string; readonly expiresInDays: number | null },
  ): Promise<{ token: string; expiresAt: string | null }> {
    const { token, record } = await issueToken(this.catalog, {
      userName: request.user,
      name: request.name,
      ...(request.expiresInDays === null
        ? {}
        : { lifetimeSeconds: Math.round(request.expiresInDays * 86_400) }),
    });
    await this.audit(actor, 'token.create', request.user, {
      token: record.id,
      name: record.name,
      expiresAt: record.expiresAt,
    });
    return { token, expiresAt: record.expiresAt };
  }

  async listAudit(limit: number): Promise<unknown[]> {
    return this.catalog.listAudit({ limit });
  }

  /** On a repository without users: creates 'admin' with a generated password, returned once. */
  async ensureFirstAdmin(actor: Actor): Promise<{ name: string; password: string } | null> {
    const created = await createFirstAdmin(this.catalog);
    if (created === undefined) return null;
    await this.audit(actor, 'user.add', created.user.name, { role: 'admin', first: true });
    return { name: created.user.name, password: created.password };
  }

  async health(): Promise<void> {
    await this.catalog.stats();
    await this.chunks.blobs.has('manifests/health');
  }
}
