// The repository's storage: the images' catalog (src/store/image-catalog.ts) and the chunk store
// (src/store/chunk-store.ts) joined into the push/pull protocol of repository.ts. It knows nothing
// of users or of the audit log: the application layer (src/app/) calls it for an actor, with the
// actor's name and the image-name prefixes it may read, and records what it did.

import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_MAX_MANIFEST_CHUNKS } from '../config/server-config.ts';
import type { ByteSource } from '../core/byte-source.ts';
import { AppError } from '../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import { formatImageRef, type ImageRef } from '../core/names.ts';
import { FsBlobStore } from './blob-store-fs.ts';
import { pageOf } from '../db/rows.ts';
import { chunkKey, type ChunkStore, type GcReport } from './chunk-store.ts';
import { CHUNKER_DEFAULTS, type ChunkerOptions } from './chunker.ts';
import { writeChunkFiles, type ChunkSegment } from './chunk-files-writer.ts';
import {
  decodeImageCursor,
  type Artifact,
  type ImageCatalog,
  type TagChange,
  type Upload,
} from './image-catalog.ts';
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
  RepositoryCheckReport,
  StoreStats,
  UploadSession,
} from './repository.ts';
import { checkArtifactMeta, IMAGE_PAGE_MAX } from './repository.ts';

/** How the repository takes pushes (src/config/server-config.ts makes these from a config file). */
export interface LocalRepositoryConfig {
  readonly chunking: ChunkerOptions | null;
  readonly gcGraceSeconds: number;
  readonly maxChunkBytes: number;
  /** Chunks a pushed manifest may list (default DEFAULT_MAX_MANIFEST_CHUNKS). */
  readonly maxManifestChunks?: number;
}

/** Who pushes: the user recorded, and the image-name prefixes it may read (null: every image). */
export interface Pusher {
  readonly user: string;
  readonly readScopes: readonly string[] | null;
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

/** The machine name a capture recorded in the recipe (`capturedFrom.machine`), else null. */
function capturedFromOf(recipe: unknown): string | null {
  if (typeof recipe !== 'object' || recipe === null || !('capturedFrom' in recipe)) return null;
  const from = recipe.capturedFrom;
  if (typeof from !== 'object' || from === null || !('machine' in from)) return null;
  return typeof from.machine === 'string' ? from.machine : null;
}

function summary(image: ImageRecord): ImageSummary {
  const { recipe, ...rest } = image;
  return { ...rest, capturedFrom: capturedFromOf(recipe) };
}

function notFound(ref: ImageRef): AppError {
  return new AppError('NOT_FOUND', `no image ${formatImageRef(ref)}`, {
    hint: "see 'winsmith images' for the images there are",
  });
}

export class LocalRepository {
  readonly location: string;
  readonly catalog: ImageCatalog;
  readonly chunks: ChunkStore;
  readonly chunking: ChunkerOptions;
  readonly maxChunkBytes: number;
  readonly maxManifestChunks: number;
  readonly #graceSeconds: number;
  /** Parsed manifests of open uploads, by upload id (each chunk PUT needs its sizes). */
  readonly #uploads = new Map<string, { upload: Upload; manifest: Manifest; sizes: Map<string, number> }>();

  constructor(catalog: ImageCatalog, chunks: ChunkStore, config: LocalRepositoryConfig) {
    this.catalog = catalog;
    this.chunks = chunks;
    this.location = chunks.blobs.location;
    this.chunking = config.chunking ?? CHUNKER_DEFAULTS;
    this.maxChunkBytes = config.maxChunkBytes;
    this.maxManifestChunks = config.maxManifestChunks ?? DEFAULT_MAX_MANIFEST_CHUNKS;
    this.#graceSeconds = config.gcGraceSeconds;
  }

  /**
   * Records the chunks of artifacts stored before the catalog kept them (what pushes may reuse is
   * decided from these). An artifact whose manifest is gone is left for `store check` to report.
   */
  async indexArtifactChunks(): Promise<void> {
    for (const digest of await this.catalog.artifactsWithoutChunks()) {
      if (!(await this.chunks.hasManifest(digest))) continue;
      const manifest = await this.chunks.getManifest(digest);
      await this.catalog.indexArtifactChunks(digest, distinctChunks(manifest));
    }
  }

  /**
   * Opens (or resumes: same name, tag and manifest) a push by `by`; answers the chunks still
   * missing, and the manifest's digest.
   */
  async beginUpload(
    by: Pusher,
    ref: ImageRef,
    given: Manifest,
  ): Promise<UploadSession & { readonly manifestDigest: string }> {
    const manifest = this.#checkedManifest(given);
    const digest = manifestDigest(manifest);
    const text = new TextDecoder().decode(serializeManifest(manifest));
    const upload =
      (await this.catalog.findOpenUpload(ref.name, ref.tag, digest)) ??
      (await this.catalog.createUpload({
        name: ref.name,
        tag: ref.tag,
        manifestDigest: digest,
        manifest: text,
        createdBy: by.user,
      }));
    const wanted = distinctChunks(manifest);
    const accounted = await this.catalog.uploadChunks(upload.id);
    // Deduplication never crosses permissions: a chunk counts as present only when this upload
    // already accounted for it or an image the caller may read references it. Anything else is
    // asked for, whether the store has it or not, so the answer says nothing of other images.
    const reusable = await this.catalog.chunksReadableIn(
      wanted.filter((d) => !accounted.has(d)),
      by.readScopes,
    );
    const candidates = wanted.filter((d) => accounted.has(d) || reusable.has(d));
    const absent = new Set(await this.chunks.missing(candidates));
    const present = new Set(candidates.filter((d) => !absent.has(d)));
    await this.catalog.accountUploadChunks(
      upload.id,
      [...present].filter((d) => !accounted.has(d)),
    );
    const missing = wanted.filter((d) => !present.has(d));
    return { id: upload.id, missing, manifestDigest: digest };
  }

  async #openUpload(id: string): Promise<{ upload: Upload; manifest: Manifest; sizes: Map<string, number> }> {
    const cached = this.#uploads.get(id);
    if (cached !== undefined) return cached;
    const upload = /^[A-Za-z0-9-]{1,64}$/.test(id) ? await this.catalog.getUpload(id) : undefined;
    // A streamed upload (a capture's) is its agent's alone: the push routes do not know it.
    if (upload === undefined || upload.manifestDigest === '') {
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

  // ---- streamed uploads: chunks first, the manifest at the commit -------------------------
  //
  // A stream (a pipable WIM written by wimcapture to stdout) is cut and pushed as it comes, so
  // its manifest exists only at the end. Such an upload is opened with none (manifest digest '');
  // each chunk sent is checked against its digest and counted within maxManifestChunks; the
  // commit gives the manifest and is then checked as any other (every chunk, the whole SHA-256).

  /** Opens a streamed upload to `ref` by `by`; its id. */
  async beginStreamUpload(by: Pusher, ref: ImageRef): Promise<string> {
    const upload = await this.catalog.createUpload({
      name: ref.name,
      tag: ref.tag,
      manifestDigest: '',
      manifest: '',
      createdBy: by.user,
    });
    return upload.id;
  }

  /**
   * The open streamed upload `id`, which of `digests` it has accounted for and how many chunks it
   * has: asked of the catalog for these digests only, so that each call costs the same however
   * large the capture has grown.
   */
  async #openStream(
    id: string,
    digests: readonly string[],
  ): Promise<{ upload: Upload; accounted: Set<string>; count: number }> {
    const upload = await this.catalog.getUpload(id);
    if (upload?.state !== 'open' || upload.manifestDigest !== '') {
      throw new AppError('CONFLICT', `upload ${id} is not a streamed upload still open`, {
        hint: 'start the capture again',
      });
    }
    return { upload, ...(await this.catalog.uploadChunksAmong(id, digests)) };
  }

  /**
   * Of `digests`, those the streamed upload still needs: a chunk it accounted for already, or one
   * an image `by` may read references and the store holds, is accounted for and not asked for.
   */
  async streamChunksMissing(by: Pusher, id: string, digests: readonly string[]): Promise<string[]> {
    const { accounted, count } = await this.#openStream(id, digests);
    const wanted = [...new Set(digests)].filter((d) => !accounted.has(d));
    this.#checkStreamCount(id, count);
    const reusable = await this.catalog.chunksReadableIn(wanted, by.readScopes);
    const candidates = wanted.filter((d) => reusable.has(d));
    const absent = new Set(await this.chunks.missing(candidates));
    await this.catalog.accountUploadChunks(
      id,
      candidates.filter((d) => !absent.has(d)),
    );
    return wanted.filter((d) => !reusable.has(d) || absent.has(d));
  }

  #checkStreamCount(id: string, count: number): void {
    if (count >= this.maxManifestChunks) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `upload ${id} has ${count} chunks, the limit of one image (${this.maxManifestChunks})`,
        { hint: 'raise limits.manifestChunks in the server config for images this large' },
      );
    }
  }

  /** One chunk of a streamed upload: at most maxChunkBytes, its SHA-256 its digest. */
  async putStreamChunk(id: string, digest: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.maxChunkBytes) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `chunk ${digest.slice(0, 80)} has ${bytes.length} bytes, over the limit ${this.maxChunkBytes}`,
        { hint: 'cut chunks with the sizes the task gives' },
      );
    }
    const { accounted, count } = await this.#openStream(id, [digest]);
    if (accounted.has(digest)) return;
    this.#checkStreamCount(id, count);
    await this.chunks.putChunk(digest, bytes);
    await this.catalog.accountUploadChunks(id, [digest]);
  }

  /**
   * Gives a streamed upload its manifest (checked as beginUpload checks one), then commits it as
   * commitUpload does; `metaOf` reads what the catalog records from the content itself.
   */
  async commitStreamUpload(
    user: string,
    id: string,
    given: Manifest,
    metaOf: (content: ByteSource) => Promise<ArtifactMeta>,
  ): Promise<ImageRecord> {
    const manifest = this.#checkedManifest(given);
    const digest = manifestDigest(manifest);
    const text = new TextDecoder().decode(serializeManifest(manifest));
    if (!(await this.catalog.setUploadManifest(id, digest, text))) {
      const upload = await this.catalog.getUpload(id);
      if (upload?.manifestDigest !== digest) {
        throw new AppError('CONFLICT', `upload ${id} is not a streamed upload still open`, {
          hint: 'start the capture again',
        });
      }
    }
    const accounted = await this.catalog.uploadChunks(id);
    const missing = distinctChunks(manifest).find((d) => !accounted.has(d));
    if (missing !== undefined) {
      throw new AppError('CONFLICT', `upload ${id} was never sent chunk ${missing} of its manifest`, {
        hint: 'send every chunk before the commit',
      });
    }
    const content: ByteSource = {
      size: manifest.size,
      read: async (offset, length) => {
        const end = Math.min(offset + length, manifest.size);
        if (end <= offset) return new Uint8Array(0);
        const pieces: Buffer[] = [];
        const sink = new Writable({
          write(piece: Buffer, _encoding, done) {
            pieces.push(piece);
            done();
          },
        });
        await this.#contentOf(manifest, { start: offset, end: end - 1 }).writeTo(sink);
        return new Uint8Array(Buffer.concat(pieces));
      },
    };
    return this.commitUpload(user, id, await metaOf(content));
  }

  /** `given` checked as a manifest within the repository's limits. */
  #checkedManifest(given: Manifest): Manifest {
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
    return manifest;
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

  /** Verifies every chunk and the whole content, then records the artifact and its tag at once. */
  async commitUpload(user: string, id: string, meta: ArtifactMeta): Promise<ImageRecord> {
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
    const image = await this.#recordArtifact(
      user,
      id,
      { name: upload.name, tag: upload.tag },
      manifest,
      digest,
      meta,
    );
    this.#uploads.delete(id);
    return image;
  }

  /** Records the stored artifact of upload `id` (its chunks and manifest in the store) and tags it. */
  async #recordArtifact(
    user: string,
    id: string,
    ref: ImageRef,
    manifest: Manifest,
    digest: string,
    meta: ArtifactMeta,
  ): Promise<ImageRecord> {
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
        chunks: distinctChunks(manifest),
      },
      user,
    );
    return record(artifact, ref);
  }

  /**
   * Stores a file of this machine as `ref` in one pass: each chunk cut, hashed and written if the
   * store lacks it while the whole file's SHA-256 is computed, then recorded as a push is. Its
   * reuse of chunks does not ask whose images hold them: for pushers who may read every image.
   */
  async storeFile(
    user: string,
    ref: ImageRef,
    file: string,
    meta: ArtifactMeta,
    progress: ProgressListener = ignoreProgress,
  ): Promise<{ image: ImageRecord; chunks: number; newChunks: number; newBytes: number }> {
    checkArtifactMeta(meta);
    const stored = await this.chunks.ingestFile(file, meta.mediaType, progress);
    const manifest = this.#checkedManifest(stored.manifest);
    const upload = await this.catalog.createUpload({
      name: ref.name,
      tag: ref.tag,
      manifestDigest: stored.digest,
      manifest: new TextDecoder().decode(serializeManifest(manifest)),
      createdBy: user,
    });
    const chunks = distinctChunks(manifest);
    await this.catalog.accountUploadChunks(upload.id, chunks);
    const image = await this.#recordArtifact(user, upload.id, ref, manifest, stored.digest, meta);
    return { image, chunks: chunks.length, newChunks: stored.newChunks, newBytes: stored.newBytes };
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

  /** The image a manifest digest names, under its first tag; NOT_FOUND when no tag points at it. */
  async imageOfDigest(digest: string): Promise<ImageRecord> {
    const [tag] = await this.catalog.tagsOf(digest);
    if (tag === undefined) {
      throw new AppError('NOT_FOUND', `no tagged image has the digest ${digest}`, {
        hint: "see 'winsmith images' for the images there are",
      });
    }
    return this.getImage(tag);
  }

  /** The manifest named `digest` (checked against its name). */
  manifestOf(digest: string): Promise<Manifest> {
    return this.chunks.getManifest(digest);
  }

  /** A stored chunk of `size` bytes as content, unchecked: its reader checks it against the digest. */
  chunkContent(digest: string, size: number): Content {
    return this.#contentOfSegments([{ digest, key: chunkKey(digest), size, from: 0, to: size - 1 }], size);
  }

  async getManifest(ref: ImageRef, digest: string): Promise<Manifest> {
    const image = await this.getImage(ref);
    if (image.digest !== digest) {
      throw new AppError('CONFLICT', `${formatImageRef(ref)} now points at ${image.digest}, not ${digest}`, {
        hint: 'the tag moved while you pulled: pull again',
      });
    }
    return this.chunks.getManifest(digest);
  }

  async readContent(ref: ImageRef, digest: string, range?: ByteRange): Promise<Content> {
    const manifest = await this.getManifest(ref, digest);
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

  /**
   * The content `ref` points at (refused if that is not `digest`) read a range at a time, its
   * manifest read once: what an NBD export of the image serves to the readers of its file.
   */
  async contentPieces(
    ref: ImageRef,
    digest: string,
  ): Promise<{ readonly size: number; pieces(start: number, end: number): AsyncIterable<Uint8Array> }> {
    const manifest = await this.getManifest(ref, digest);
    return {
      size: manifest.size,
      pieces: (start, end) => this.#pieces(segmentsOf(manifest, { start, end: end - 1 })),
    };
  }

  /** Bytes `range` of the content `manifest` describes, from the stored chunks. */
  #contentOf(manifest: Manifest, range: ByteRange): Content {
    return this.#contentOfSegments(segmentsOf(manifest, range), range.end - range.start + 1);
  }

  /** The segments' bytes (`size` in all) as content. */
  #contentOfSegments(segments: readonly ChunkSegment[], size: number): Content {
    const blobs = this.chunks.blobs;
    const stream = (): Readable => Readable.from(this.#pieces(segments), { objectMode: false });
    return {
      size,
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

  /**
   * A page of the images within `scopes` (null: every image), after the page `cursor` ended (the
   * first without).
   */
  async listImagePage(
    scopes: readonly string[] | null,
    query: { readonly limit: number; readonly cursor: string | null },
  ): Promise<ImagePage> {
    const limit = Math.min(IMAGE_PAGE_MAX, Math.max(1, Math.floor(query.limit)));
    const entries = await this.catalog.listImagePage({
      scopes,
      after: query.cursor === null ? null : decodeImageCursor(query.cursor),
      limit: limit + 1,
    });
    const { records: images, next } = pageOf(
      entries,
      limit,
      (e) => summary(record(e, e)),
      (i) => [i.name, i.tag],
    );
    return { images, next };
  }

  /** Points `target` at the image `source` points at; the image under its new tag, and the digest the tag left. */
  async tag(
    user: string,
    source: ImageRef,
    target: ImageRef,
  ): Promise<{ readonly image: ImageRecord; readonly previousDigest: string | null }> {
    const image = await this.getImage(source);
    const change = await this.catalog.setTag(target.name, target.tag, image.digest, user);
    return { image: { ...image, name: target.name, tag: target.tag }, previousDigest: change.previousDigest };
  }

  /** Removes a tag; the digest it pointed at. */
  async removeTag(user: string, ref: ImageRef): Promise<string | null> {
    if ((await this.catalog.getImage(ref.name, ref.tag)) === undefined) throw notFound(ref);
    return (await this.catalog.removeTag(ref.name, ref.tag, user)).previousDigest;
  }

  /** The moves of `ref`, newest first; NOT_FOUND when it never existed. */
  async tagHistory(ref: ImageRef): Promise<TagChange[]> {
    const changes = await this.catalog.tagHistory(ref.name, ref.tag);
    if (changes.length === 0) throw notFound(ref);
    return changes;
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
  async gc(
    progress: ProgressListener = ignoreProgress,
  ): Promise<{ readonly report: GcReport; readonly abortedUploads: number }> {
    // An upload with no activity for the grace period is abandoned: its chunks lose protection.
    const stale = await this.catalog.abortStaleUploads(
      new Date(Date.now() - this.#graceSeconds * 1000).toISOString(),
    );
    for (const id of stale) this.#uploads.delete(id);
    const protectedChunks = new Set<string>();
    const live = async (): Promise<string[]> => {
      const artifacts = await this.catalog.listArtifacts();
      for (const upload of await this.catalog.listUploads('open')) {
        // A streamed upload has no manifest until its commit: what it sent so far is kept.
        const chunks =
          upload.manifest === ''
            ? await this.catalog.uploadChunks(upload.id)
            : parseManifest(new TextEncoder().encode(upload.manifest)).chunks.map((c) => c.digest);
        for (const c of chunks) protectedChunks.add(c);
      }
      return artifacts.map((a) => a.digest);
    };
    const report = await this.chunks.gc(live, {
      graceSeconds: this.#graceSeconds,
      protectedChunks,
      onProgress: progress,
    });
    return { report, abortedUploads: stale.length };
  }

  /** Throws when the catalog or the blob store cannot be reached. */
  async health(): Promise<void> {
    await this.catalog.stats();
    await this.chunks.blobs.has('manifests/health');
  }
}
