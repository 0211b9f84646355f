// The agent's side of the agent protocol (src/deploy/agent-protocol.ts): each call with the
// deployment's token as a bearer token, each answer validated before it is used, each body read
// within a bound. A failure says whether trying again may help (no answer, a timeout, 408, 429,
// 5xx) or not (any other refusal); the token never reaches a message.

import { AppError } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import { AGENT_PATHS, AgentReport, AgentTask } from '../deploy/agent-protocol.ts';
import { manifestDigest, MAX_MANIFEST_BYTES, validateManifest, type Manifest } from '../store/manifest.ts';
import type { AgentConfig } from './agent-config.ts';
import { errorText } from './retry.ts';
import { validated } from './validated.ts';

/** An answer bigger than this is refused: a task or an error is a few KiB. */
const MAX_JSON_BYTES = 1024 * 1024;
/** The unattend of one machine: Windows' own limit for answer files is far below it. */
const MAX_UNATTEND_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 60_000;
const REPORT_TIMEOUT_MS = 30_000;

/** A call that failed: `status` is the HTTP status, or null when no answer came. */
export class RequestError extends AppError {
  readonly status: number | null;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    status: number | null,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = 'RequestError';
    this.status = status;
    this.retryable = status === null || status === 408 || status === 429 || status >= 500;
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof RequestError && error.retryable;
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'CONFLICT',
  413: 'LIMIT_EXCEEDED',
  429: 'RATE_LIMITED',
};

/** Reads the whole body into `length` bytes exactly, or at most `max` bytes when `length` is null. */
async function readBody(
  response: Response,
  what: string,
  length: number | null,
  max: number,
): Promise<Uint8Array> {
  const limit = length ?? max;
  const expected = length === null ? `at most ${max}` : String(length);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > limit) {
    throw new AppError('LIMIT_EXCEEDED', `${what} is ${declared} bytes, expected ${expected}`);
  }
  let buffer = new Uint8Array(length ?? Math.min(max, Number.isSafeInteger(declared) ? declared : 64 * 1024));
  let got = 0;
  try {
    if (response.body !== null) {
      for await (const piece of response.body as AsyncIterable<Uint8Array>) {
        if (got + piece.byteLength > limit) {
          throw new AppError('LIMIT_EXCEEDED', `${what} goes past ${limit} bytes, expected ${expected}`);
        }
        if (got + piece.byteLength > buffer.byteLength) {
          const grown = new Uint8Array(
            Math.min(limit, Math.max(buffer.byteLength * 2, got + piece.byteLength)),
          );
          grown.set(buffer.subarray(0, got));
          buffer = grown;
        }
        buffer.set(piece, got);
        got += piece.byteLength;
      }
    }
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    const reason =
      cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : errorText(cause);
    throw new RequestError('IO_ERROR', `${what} was cut off after ${got} bytes: ${reason}`, null, { cause });
  }
  if (length !== null && got !== length) {
    throw new RequestError('IO_ERROR', `${what} ended after ${got} of its ${length} bytes`, null);
  }
  return buffer.subarray(0, got);
}

/** The message of a winsmith error body ({"error":{"message"}}), if the answer is one. */
async function serverMessage(response: Response): Promise<string | null> {
  try {
    const body = parseJson(await readBody(response, 'the error', null, 64 * 1024), 'the error') as {
      error?: { message?: unknown };
    } | null;
    const message = body?.error?.message;
    return typeof message === 'string' ? message.slice(0, 500) : null;
  } catch {
    return null;
  }
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new AppError('FORMAT_INVALID', `${what} is not UTF-8 JSON: ${errorText(cause)}`, { cause });
  }
}

export class AgentClient {
  readonly server: string;
  readonly #token: string;

  constructor(config: Pick<AgentConfig, 'server' | 'token'>) {
    this.server = config.server;
    this.#token = config.token;
  }

  async #request(
    method: 'GET' | 'POST',
    path: string,
    options: { json?: unknown; timeoutMs?: number } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
        ...(body === undefined ? {} : { body }),
      });
    } catch (cause) {
      const reason =
        cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : errorText(cause);
      throw new RequestError(
        'IO_ERROR',
        `${method} ${path}: no answer from ${this.server}: ${reason}`,
        null,
        {
          cause,
        },
      );
    }
    if (response.ok) return response;
    const said = await serverMessage(response);
    const status = response.status;
    const code = STATUS_CODES[status] ?? 'IO_ERROR';
    const hint =
      status === 401 || status === 403
        ? 'the deployment was cancelled or its token expired: start the deployment again on the server'
        : 'see the server log';
    throw new RequestError(
      code,
      `${method} ${path} answered HTTP ${status}${said === null ? '' : `: ${said}`}`,
      status,
      {
        hint,
      },
    );
  }

  /** The deployment's task. */
  async task(): Promise<AgentTask> {
    const response = await this.#request('GET', AGENT_PATHS.task);
    const value = parseJson(await readBody(response, 'the task', null, MAX_JSON_BYTES), 'the task');
    return validated(
      AgentTask,
      value,
      "the server's task",
      'the server and the deploy environment are of different versions: update the boot files',
    );
  }

  /**
   * The manifest of the deployment's image (its chunks, in order), checked to be the task's: its
   * digest is the image's digest, and it gives the image's size and whole-content SHA-256.
   */
  async manifest(image: AgentTask['image']): Promise<Manifest> {
    const response = await this.#request('GET', AGENT_PATHS.manifest);
    const manifest = validateManifest(
      parseJson(await readBody(response, 'the manifest', null, MAX_MANIFEST_BYTES), 'the manifest'),
    );
    const digest = manifestDigest(manifest);
    const expected = `${image.name}:${image.tag} (${image.digest}, ${image.size} bytes, SHA-256 ${image.sha256})`;
    const found = `${digest}, ${manifest.size} bytes, SHA-256 ${manifest.sha256}`;
    if (digest !== image.digest || manifest.size !== image.size || manifest.sha256 !== image.sha256) {
      throw new AppError(
        'FORMAT_INVALID',
        `the manifest is ${found}; expected the task's image ${expected}`,
        {
          hint: 'the image changed on the server during the deployment: start the deployment again',
        },
      );
    }
    return manifest;
  }

  /** The `size` bytes of the chunk `digest`, as the server sent them (the caller checks the digest). */
  async chunk(digest: string, size: number): Promise<Uint8Array> {
    const response = await this.#request('GET', `${AGENT_PATHS.chunk}/${digest}`);
    return readBody(response, `chunk ${digest}`, size, size);
  }

  /** The machine's unattend.xml; the server gives it once. */
  async unattend(): Promise<Uint8Array> {
    const response = await this.#request('GET', AGENT_PATHS.unattend);
    return readBody(response, 'the unattend', null, MAX_UNATTEND_BYTES);
  }

  /** Sends one report (every report is also a heartbeat). */
  async report(report: AgentReport): Promise<void> {
    const response = await this.#request('POST', AGENT_PATHS.report, {
      json: report,
      timeoutMs: REPORT_TIMEOUT_MS,
    });
    await response.body?.cancel();
  }
}
