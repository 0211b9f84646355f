// The repository behind `winsmith server`: the HTTP API of src/server/app.ts as a Repository. A
// failed request becomes the server's AppError (same code, message and hint); credentials never
// appear in a message (the URL is shown without them, the token never).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ERROR_CODES, type ErrorCode } from '../core/error-codes.ts';
import { AppError } from '../core/errors.ts';
import type { GcReport } from './chunk-store.ts';
import type { ChunkerOptions } from './chunker.ts';
import type { ImageRef } from './catalog/names.ts';
import type { Manifest } from './manifest.ts';
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
import { IMAGE_PAGE_MAX } from './repository.ts';

/** The server's base URL without user, password, query or fragment. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    throw new AppError('INVALID_ARGUMENT', 'the repository URL is not a valid http(s) URL', {
      hint: 'give it as http://HOST:PORT or https://HOST',
    });
  }
}

export function imagePath(ref: ImageRef): string {
  return `/api/v1/images/${encodeURIComponent(ref.name)}/tags/${encodeURIComponent(ref.tag)}`;
}

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string; readonly hint?: string | null };
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export class RemoteRepository implements Repository {
  readonly location: string;
  readonly #base: string;
  readonly #token: string | null;

  constructor(url: string, token: string | null) {
    this.#base = publicUrl(url);
    this.location = this.#base;
    this.#token = token;
  }

  async #request(
    method: string,
    path: string,
    init: { body?: Uint8Array | string; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (e) {
      throw new AppError(
        'IO_ERROR',
        `cannot reach ${this.#base}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`,
        {
          hint: 'check that the server runs and the URL given with --repo (or WINSMITH_REPO)',
          cause: e,
        },
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    let parsed: ErrorBody;
    try {
      parsed = JSON.parse(text) as ErrorBody;
    } catch {
      parsed = {};
    }
    const code = parsed.error?.code;
    if (isErrorCode(code)) {
      throw new AppError(code, parsed.error?.message ?? `${method} ${path} failed`, {
        ...(parsed.error?.hint == null ? {} : { hint: parsed.error.hint }),
      });
    }
    if (response.status === 401) {
      throw new AppError('UNAUTHORIZED', `${this.#base} wants a valid token`, {
        hint: `run 'winsmith login ${this.#base}'`,
      });
    }
    throw new AppError('IO_ERROR', `${method} ${path} on ${this.#base} answered HTTP ${response.status}`, {
      hint: 'check the server log',
    });
  }

  async #json<T>(method: string, path: string, json?: unknown): Promise<T> {
    const response = await this.#request(method, path, json === undefined ? {} : { json });
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async chunking(): Promise<ChunkerOptions> {
    const info = await this.#json<{ chunking: ChunkerOptions }>('GET', '/api/v1/repository');
    return info.chunking;
  }

  beginUpload(ref: ImageRef, manifest: Manifest): Promise<UploadSession> {
    return this.#json('POST', '/api/v1/uploads', { name: ref.name, tag: ref.tag, manifest });
  }

  async putChunk(uploadId: string, digest: string, bytes: Uint8Array): Promise<void> {
    await this.#request(
      'PUT',
      `/api/v1/uploads/${encodeURIComponent(uploadId)}/chunks/${encodeURIComponent(digest)}`,
      {
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      },
    );
  }

  commitUpload(uploadId: string, meta: ArtifactMeta): Promise<ImageRecord> {
    return this.#json('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/commit`, { meta });
  }

  getImage(ref: ImageRef): Promise<ImageRecord> {
    return this.#json('GET', imagePath(ref));
  }

  async readContent(ref: ImageRef, digest: string, range?: ByteRange): Promise<Content> {
    const headers: Record<string, string> = { 'if-match': `"${digest}"` };
    if (range !== undefined) headers.range = `bytes=${range.start}-${range.end}`;
    const response = await this.#request('GET', `${imagePath(ref)}/content`, { headers });
    if (response.body === null)
      throw new AppError('IO_ERROR', 'the server sent no content', { hint: 'try again' });
    const size = Number(response.headers.get('content-length') ?? NaN);
    const stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    return { size, stream, writeTo: (out) => pipeline(stream, out, { end: false }) };
  }

  async listImages(): Promise<ImageSummary[]> {
    const images: ImageSummary[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${IMAGE_PAGE_MAX}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page: ImagePage = await this.#json<ImagePage>('GET', `/api/v1/images${query}`);
      images.push(...page.images);
      cursor = page.next;
    } while (cursor !== null);
    return images;
  }

  tag(source: ImageRef, target: ImageRef): Promise<ImageRecord> {
    return this.#json('PUT', imagePath(target), { source: { name: source.name, tag: source.tag } });
  }

  async removeTag(ref: ImageRef): Promise<void> {
    await this.#request('DELETE', imagePath(ref));
  }

  stats(): Promise<StoreStats> {
    return this.#json('GET', '/api/v1/store/stats');
  }

  check(): Promise<RepositoryCheckReport> {
    return this.#json('POST', '/api/v1/store/check');
  }

  gc(): Promise<GcReport> {
    return this.#json('POST', '/api/v1/store/gc');
  }

  /** Users and tokens are managed through the server by an admin. */
  addUser(user: {
    name: string;
    password?: string;
    role: string;
    scopes: readonly string[];
  }): Promise<unknown> {
    return this.#json('POST', '/api/v1/users', user);
  }

  createToken(request: {
    name: string;
    user?: string;
    expiresInDays?: number;
  }): Promise<{ token: string; expiresAt: string | null }> {
    return this.#json('POST', '/api/v1/tokens', request);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Exchanges a user name and password for a token at `url` (POST /api/v1/login). */
export async function loginRemote(
  url: string,
  user: string,
  password: string,
): Promise<{ token: string; expiresAt: string | null }> {
  const repo = new RemoteRepository(url, null);
  const base = repo.location;
  let response: Response;
  try {
    response = await fetch(`${base}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
  } catch (e) {
    throw new AppError('IO_ERROR', `cannot reach ${base}`, {
      hint: 'check that the server runs and the URL',
      cause: e,
    });
  }
  const body = (await response.json()) as ErrorBody & { token?: string; expiresAt?: string | null };
  if (!response.ok || typeof body.token !== 'string') {
    const code = body.error?.code;
    throw new AppError(
      isErrorCode(code) ? code : 'UNAUTHORIZED',
      body.error?.message ?? `login to ${base} failed (HTTP ${response.status})`,
      {
        hint: body.error?.hint ?? 'check the user name and password',
      },
    );
  }
  return { token: body.token, expiresAt: body.expiresAt ?? null };
}
