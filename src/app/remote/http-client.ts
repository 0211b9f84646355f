// The HTTP client of a `winsmith server`: requests with the caller's token, and the server's
// errors ({"error":{"code","message","hint"}}) turned back into the AppErrors they were, so a command
// fails the same way on a server as on a data directory. Credentials never reach a message.

import { ERROR_CODES, type ErrorCode } from '../../core/error-codes.ts';
import { AppError } from '../../core/errors.ts';
import type { ImageRef } from '../../core/names.ts';
import type { IssuedToken } from '../session.ts';

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

export interface RequestInit {
  readonly body?: Uint8Array | string;
  readonly json?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** One server, as one token's user: what the remote images, accounts and machines call. */
export class HttpClient {
  /** The base URL without credentials. */
  readonly base: string;
  readonly #token: string | null;

  constructor(url: string, token: string | null) {
    this.base = publicUrl(url);
    this.#token = token;
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      });
    } catch (e) {
      throw new AppError(
        'IO_ERROR',
        `cannot reach ${this.base}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`,
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
      throw new AppError('UNAUTHORIZED', `${this.base} wants a valid token`, {
        hint: `run 'winsmith login ${this.base}'`,
      });
    }
    throw new AppError('IO_ERROR', `${method} ${path} on ${this.base} answered HTTP ${response.status}`, {
      hint: 'check the server log',
    });
  }

  async json<T>(method: string, path: string, json?: unknown): Promise<T> {
    const response = await this.request(method, path, json === undefined ? {} : { json });
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

/** Exchanges a user name and password for a token at `url` (POST /api/v1/login). */
export function loginRemote(url: string, user: string, password: string): Promise<IssuedToken> {
  return new HttpClient(url, null).json<IssuedToken>('POST', '/api/v1/login', { user, password });
}
