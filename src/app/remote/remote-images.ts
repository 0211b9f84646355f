// The images of a `winsmith server`, over its HTTP API: the push/pull protocol and the rest of
// the Repository operations, as the token's user.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AppError } from '../../core/errors.ts';
import type { ImageRef } from '../../core/names.ts';
import type { GcReport } from '../../store/chunk-store.ts';
import type { ChunkerOptions } from '../../store/chunker.ts';
import type { Manifest } from '../../store/manifest.ts';
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
  TagChange,
  UploadSession,
} from '../../store/repository.ts';
import { listAllImages } from '../../store/repository.ts';
import { imagePath, type HttpClient } from './http-client.ts';

export class RemoteImages implements Repository {
  readonly location: string;
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
    this.location = http.base;
  }

  async chunking(): Promise<ChunkerOptions> {
    const info = await this.#http.json<{ chunking: ChunkerOptions }>('GET', '/api/v1/repository');
    return info.chunking;
  }

  beginUpload(ref: ImageRef, manifest: Manifest): Promise<UploadSession> {
    return this.#http.json('POST', '/api/v1/uploads', { name: ref.name, tag: ref.tag, manifest });
  }

  async putChunk(uploadId: string, digest: string, bytes: Uint8Array): Promise<void> {
    await this.#http.request(
      'PUT',
      `/api/v1/uploads/${encodeURIComponent(uploadId)}/chunks/${encodeURIComponent(digest)}`,
      {
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      },
    );
  }

  commitUpload(uploadId: string, meta: ArtifactMeta): Promise<ImageRecord> {
    return this.#http.json('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/commit`, { meta });
  }

  getImage(ref: ImageRef): Promise<ImageRecord> {
    return this.#http.json('GET', imagePath(ref));
  }

  async readContent(ref: ImageRef, digest: string, range?: ByteRange): Promise<Content> {
    const headers: Record<string, string> = { 'if-match': `"${digest}"` };
    if (range !== undefined) headers.range = `bytes=${range.start}-${range.end}`;
    const response = await this.#http.request('GET', `${imagePath(ref)}/content`, { headers });
    if (response.body === null)
      throw new AppError('IO_ERROR', 'the server sent no content', { hint: 'try again' });
    const size = Number(response.headers.get('content-length') ?? NaN);
    const stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    return { size, stream, writeTo: (out) => pipeline(stream, out, { end: false }) };
  }

  async getManifest(ref: ImageRef, digest: string): Promise<Manifest> {
    const response = await this.#http.request('GET', `${imagePath(ref)}/manifest`, {
      headers: { 'if-match': `"${digest}"` },
    });
    return (await response.json()) as Manifest;
  }

  listImages(): Promise<ImageSummary[]> {
    return listAllImages(this);
  }

  listImagePage(query: { readonly limit: number; readonly cursor: string | null }): Promise<ImagePage> {
    const cursor = query.cursor === null ? '' : `&cursor=${encodeURIComponent(query.cursor)}`;
    return this.#http.json('GET', `/api/v1/images?limit=${query.limit}${cursor}`);
  }

  tag(source: ImageRef, target: ImageRef): Promise<ImageRecord> {
    return this.#http.json('PUT', imagePath(target), { source: { name: source.name, tag: source.tag } });
  }

  async removeTag(ref: ImageRef): Promise<void> {
    await this.#http.request('DELETE', imagePath(ref));
  }

  async tagHistory(ref: ImageRef): Promise<TagChange[]> {
    return (await this.#http.json<{ changes: TagChange[] }>('GET', `${imagePath(ref)}/history`)).changes;
  }

  stats(): Promise<StoreStats> {
    return this.#http.json('GET', '/api/v1/store/stats');
  }

  check(): Promise<RepositoryCheckReport> {
    return this.#http.json('POST', '/api/v1/store/check');
  }

  gc(): Promise<GcReport> {
    return this.#http.json('POST', '/api/v1/store/gc');
  }
}
