// The HTTP client of a `winsmith server`: requests with the caller's token, and the server's
// errors ({"error":{"code","message","hint"}}) turned back into the AppErrors they were, so a command
// fails the same way on a server as on a data directory. Credentials never reach a message.
// Requests go through node:http(s) on kept-alive connections, whose agent holds what HTTPS trusts
// (tls-trust.ts); a certificate that fails the check is one error saying how to trust it.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { ERROR_CODES, type ErrorCode } from '../../core/error-codes.ts';
import { AppError } from '../../core/errors.ts';
import type { ImageRef } from '../../core/names.ts';
import type { IssuedToken } from '../session.ts';
import { DEFAULT_TRUST, type TlsTrust } from './tls-trust.ts';

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

/** The answer of node:http as a fetch Response (its body streamed). */
function responseOf(message: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const status = message.statusCode ?? 500;
  const empty = method === 'HEAD' || status === 204 || status === 304;
  if (empty) message.resume();
  return new Response(empty ? null : (Readable.toWeb(message) as ReadableStream<Uint8Array>), {
    status,
    headers,
  });
}

/** The codes of a server certificate that fails the check (OpenSSL's X509_V_ERR names, and Node's). */
const CERTIFICATE_ERROR = /^(?:CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED|ERR_TLS_CERT_)/;

/** A request that got no answer, as one error naming the likely fix. */
function unreachable(base: string, e: unknown): AppError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const reason = e instanceof Error ? e.message : String(e);
  if (CERTIFICATE_ERROR.test(code)) {
    // OpenSSL's reason, without the advice Node appends about its own --use-system-ca flag.
    const check = reason.split('; ')[0] ?? reason;
    return new AppError('IO_ERROR', `the certificate of ${base} is not trusted: ${check}`, {
      hint: "if a private CA signed it, pass --ca FILE (or set WINSMITH_CA) with that CA's certificate",
      cause: e,
    });
  }
  let hint = 'check that the server runs and the URL given with --repo (or WINSMITH_REPO)';
  if (base.startsWith('https:') && /wrong version number|packet length too long/i.test(reason)) {
    hint = `the server may speak plain HTTP: try ${base.replace(/^https:/, 'http:')}`;
  } else if (base.startsWith('http:') && code === 'ECONNRESET') {
    hint = `a server with TLS answers only https://: try ${base.replace(/^http:/, 'https:')}`;
  }
  return new AppError('IO_ERROR', `cannot reach ${base}: ${reason}`, { hint, cause: e });
}

/** One server, as one token's user: what the remote images, accounts and machines call. */
export class HttpClient {
  /** The base URL without credentials. */
  readonly base: string;
  readonly #token: string | null;
  readonly #agent: HttpAgent;

  constructor(url: string, token: string | null, trust: TlsTrust = DEFAULT_TRUST) {
    this.base = publicUrl(url);
    this.#token = token;
    this.#agent = this.base.startsWith('https:')
      ? new HttpsAgent({
          keepAlive: true,
          rejectUnauthorized: !trust.insecure,
          ...(trust.ca === null ? {} : { ca: trust.ca }),
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** One exchange: the answer's status and headers once they came, its body streamed. */
  #send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Uint8Array | string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const url = new URL(`${this.base}${path}`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method,
          headers,
          agent: this.#agent,
          ...(signal === undefined ? {} : { signal }),
        },
        (message) => resolve(responseOf(message, method)),
      );
      request.once('error', (e) => reject(unreachable(this.base, e)));
      request.end(body);
    });
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await this.#send(method, path, headers, body, init.signal);
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
export function loginRemote(
  url: string,
  user: string,
  password: string,
  trust: TlsTrust = DEFAULT_TRUST,
): Promise<IssuedToken> {
  return new HttpClient(url, null, trust).json<IssuedToken>('POST', '/api/v1/login', { user, password });
}
