// The agent's side of the agent protocol (src/deploy/agent-protocol.ts): each call with the
// deployment's token as a bearer token, each answer validated before it is used, each body read
// within a bound. A failure says whether trying again may help (no answer, a timeout, 408, 429,
// 5xx) or not (any other refusal); the token never reaches a message. All go on kept-alive
// connections: an image's chunks through src/io/http-get.ts, whose sockets read into buffers they
// reuse (hundreds of MB through node:http cost the agent more in garbage collection than in
// receiving), the rest through node:http(s), which costs less CPU than fetch() for the same bytes.

import { open, rm, stat, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AppError, errorText } from '../core/errors.ts';
import type { ErrorCode } from '../core/error-codes.ts';
import {
  AGENT_PATHS,
  AgentReport,
  AnyAgentTask,
  CaptureChunkAnswer,
  CaptureResult,
  MulticastJoin,
  ShareFiles,
  type AgentTask,
} from '../deploy/agent-protocol.ts';
import { manifestDigest, MAX_MANIFEST_BYTES, validateManifest, type Manifest } from '../store/manifest.ts';
import { sha256OfFile } from '../io/file-sha256.ts';
import { HttpGetPool, type GetAnswer } from '../io/http-get.ts';
import type { AgentConfig } from './agent-config.ts';
import { validated } from './validated.ts';

/** An answer bigger than this is refused: a task or an error is a few KiB. */
const MAX_JSON_BYTES = 1024 * 1024;
/** The most of an error's body read for its message. */
const MAX_ERROR_BYTES = 64 * 1024;
/** The unattend of one machine: Windows' own limit for answer files is far below it. */
const MAX_UNATTEND_BYTES = 4 * 1024 * 1024;
/** A connection silent this long is given up (and the request tried again, if it may be). */
const IDLE_TIMEOUT_MS = 60_000;
const REPORT_IDLE_TIMEOUT_MS = 30_000;
/** A commit is answered once the server has read the whole image back: minutes for a large one. */
const COMMIT_IDLE_TIMEOUT_MS = 30 * 60_000;
/**
 * Connections kept open to the server: the read-ahead fetches several chunks at once. Chunks have
 * their own; the task, manifest, unattend and reports others, so that a report never waits behind
 * chunks on a slow link.
 */
const CHUNK_SOCKETS = 16;
const CONTROL_SOCKETS = 2;

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

/**
 * Reads the whole body into `length` bytes exactly, or at most `max` bytes when `length` is null.
 * The pieces are copied into one buffer as they come ('data' events: no promise a piece), which
 * is not zeroed first when its size is known: every byte of it is written before it is used.
 */
function readBody(
  response: IncomingMessage,
  what: string,
  length: number | null,
  max: number,
): Promise<Uint8Array> {
  const limit = length ?? max;
  const expected = length === null ? `at most ${max}` : String(length);
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > limit) {
    response.destroy();
    return Promise.reject(
      new AppError('LIMIT_EXCEEDED', `${what} is ${declared} bytes, expected ${expected}`),
    );
  }
  let buffer: Uint8Array =
    length === null
      ? new Uint8Array(Math.min(max, Number.isSafeInteger(declared) ? declared : 64 * 1024))
      : Buffer.allocUnsafe(length);
  let got = 0;
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      response.destroy();
      reject(error);
    };
    response.on('data', (piece: Buffer) => {
      if (got + piece.byteLength > limit) {
        fail(new AppError('LIMIT_EXCEEDED', `${what} goes past ${limit} bytes, expected ${expected}`));
        return;
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
    });
    response.on('error', (cause) =>
      fail(
        new RequestError('IO_ERROR', `${what} was cut off after ${got} bytes: ${errorText(cause)}`, null, {
          cause,
        }),
      ),
    );
    response.on('end', () => {
      if (length !== null && got !== length) {
        reject(new RequestError('IO_ERROR', `${what} ended after ${got} of its ${length} bytes`, null));
      } else {
        resolve(buffer.subarray(0, got));
      }
    });
    response.on('close', () => {
      if (!response.complete) {
        reject(new RequestError('IO_ERROR', `${what} was cut off after ${got} bytes`, null));
      }
    });
  });
}

/** Writes the body of `response` into `dest` from byte `start` on; the file must end at `size` bytes. */
async function writeBody(
  response: IncomingMessage,
  what: string,
  dest: string,
  start: number,
  size: number,
): Promise<void> {
  const out = await open(dest, start === 0 ? 'w' : 'r+');
  let at = start;
  try {
    for await (const piece of response as AsyncIterable<Buffer>) {
      if (at + piece.byteLength > size) {
        response.destroy();
        throw new AppError('LIMIT_EXCEEDED', `${what} goes past its ${size} bytes`);
      }
      await out.write(piece, 0, piece.byteLength, at);
      at += piece.byteLength;
    }
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new RequestError('IO_ERROR', `${what} was cut off after ${at} bytes: ${errorText(cause)}`, null, {
      cause,
    });
  } finally {
    await out.close();
  }
  if (at !== size) throw new RequestError('IO_ERROR', `${what} ended after ${at} of its ${size} bytes`, null);
}

/** The message of a winsmith error body ({"error":{"message"}}), if the answer is one. */
async function serverMessage(response: IncomingMessage): Promise<string | null> {
  try {
    return errorMessageOf(await readBody(response, 'the error', null, MAX_ERROR_BYTES));
  } catch {
    return null;
  }
}

function errorMessageOf(bytes: Uint8Array): string | null {
  try {
    const body = parseJson(bytes, 'the error') as { error?: { message?: unknown } } | null;
    const message = body?.error?.message;
    return typeof message === 'string' ? message.slice(0, 500) : null;
  } catch {
    return null;
  }
}

/** The error of a call the server answered with `status`, not 2xx. */
function refusal(method: string, path: string, status: number, said: string | null): RequestError {
  const hint =
    status === 401 || status === 403
      ? 'the deployment was cancelled or its token expired: start the deployment again on the server'
      : 'see the server log';
  return new RequestError(
    STATUS_CODES[status] ?? 'IO_ERROR',
    `${method} ${path} answered HTTP ${status}${said === null ? '' : `: ${said}`}`,
    status,
    { hint },
  );
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
  readonly #url: URL;
  /** The image's chunks (src/io/http-get.ts: less garbage for hundreds of MB than node:http). */
  readonly #chunks: HttpGetPool;
  /** Share files and a capture's chunks. */
  readonly #bulkAgent: HttpAgent;
  readonly #controlAgent: HttpAgent;

  constructor(config: Pick<AgentConfig, 'server' | 'token'>) {
    this.server = config.server;
    this.#token = config.token;
    this.#url = new URL(config.server);
    const agent = (maxSockets: number): HttpAgent =>
      this.#url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets })
        : new HttpAgent({ keepAlive: true, maxSockets });
    this.#bulkAgent = agent(CHUNK_SOCKETS);
    this.#chunks = new HttpGetPool(this.#url, CHUNK_SOCKETS);
    this.#controlAgent = agent(CONTROL_SOCKETS);
  }

  /** Closes the connections kept open. */
  close(): void {
    this.#chunks.close();
    this.#bulkAgent.destroy();
    this.#controlAgent.destroy();
  }

  /** One request: the answer when its status is 2xx, its body not read yet. */
  #send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: { readonly bytes: string | Uint8Array; readonly type: string } | undefined,
    idleTimeoutMs: number,
    agent: HttpAgent,
    more: Readonly<Record<string, string>>,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...more, authorization: `Bearer ${this.#token}` };
    if (body !== undefined) {
      headers['content-type'] = body.type;
      headers['content-length'] = String(Buffer.byteLength(body.bytes));
    }
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname,
          port: this.#url.port,
          path: `${this.#url.pathname.replace(/\/+$/, '')}${path}`,
          method,
          headers,
          agent,
        },
        resolve,
      );
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)));
      req.on('error', reject);
      req.end(body?.bytes);
    });
  }

  async #request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options: {
      json?: unknown;
      bytes?: Uint8Array;
      idleTimeoutMs?: number;
      bulk?: boolean;
      headers?: Readonly<Record<string, string>>;
    } = {},
  ): Promise<IncomingMessage> {
    const body =
      options.bytes !== undefined
        ? { bytes: options.bytes, type: 'application/octet-stream' }
        : options.json === undefined
          ? undefined
          : { bytes: JSON.stringify(options.json), type: 'application/json' };
    let response: IncomingMessage;
    try {
      response = await this.#send(
        method,
        path,
        body,
        options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
        options.bulk === true ? this.#bulkAgent : this.#controlAgent,
        options.headers ?? {},
      );
    } catch (cause) {
      throw new RequestError(
        'IO_ERROR',
        `${method} ${path}: no answer from ${this.server}: ${errorText(cause)}`,
        null,
        {
          cause,
        },
      );
    }
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    throw refusal(method, path, status, await serverMessage(response));
  }

  /** The deployment's task (a capture's, for a capture). */
  async task(): Promise<AnyAgentTask> {
    const response = await this.#request('GET', AGENT_PATHS.task);
    const value = parseJson(await readBody(response, 'the task', null, MAX_JSON_BYTES), 'the task');
    return validated(
      AnyAgentTask,
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

  /**
   * The `size` bytes of the chunk `digest`, as the server sent them (the caller checks the
   * digest): in `into` (`size` bytes) when given.
   */
  async chunk(digest: string, size: number, into?: Uint8Array): Promise<Uint8Array> {
    const path = `${AGENT_PATHS.chunk}/${digest}`;
    let answer: GetAnswer;
    try {
      answer = await this.#chunks.get(
        path,
        { authorization: `Bearer ${this.#token}` },
        { limits: { ok: size, other: MAX_ERROR_BYTES }, idleTimeoutMs: IDLE_TIMEOUT_MS, into },
      );
    } catch (cause) {
      if (cause instanceof AppError && cause.code === 'LIMIT_EXCEEDED') {
        throw new AppError(cause.code, `chunk ${digest}: ${cause.message}`);
      }
      const message = `GET ${path} from ${this.server}: ${errorText(cause)}`;
      throw new RequestError('IO_ERROR', message, null, { cause });
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw refusal('GET', path, answer.status, errorMessageOf(answer.body));
    }
    if (answer.body.byteLength !== size) {
      throw new RequestError(
        'IO_ERROR',
        `chunk ${digest} ended after ${answer.body.byteLength} of its ${size} bytes`,
        null,
      );
    }
    return answer.body;
  }

  /** The machine's unattend.xml; the server gives it once. */
  /** How to receive the image: multicast, wait, or unicast. */
  async multicast(): Promise<MulticastJoin> {
    const response = await this.#request('GET', AGENT_PATHS.multicast);
    const value = parseJson(
      await readBody(response, 'the multicast answer', null, MAX_JSON_BYTES),
      'the multicast answer',
    );
    return validated(
      MulticastJoin,
      value,
      "the server's multicast answer",
      'the server and the deploy environment are of different versions: update the boot files',
    );
  }

  async unattend(): Promise<Uint8Array> {
    const response = await this.#request('GET', AGENT_PATHS.unattend);
    return readBody(response, 'the unattend', null, MAX_UNATTEND_BYTES);
  }

  /** The files of the deployment share the profile's steps use, by path and size. */
  async shareFiles(): Promise<ShareFiles['files']> {
    const response = await this.#request('GET', AGENT_PATHS.files);
    const what = 'the list of share files';
    const value = parseJson(await readBody(response, what, null, MAX_JSON_BYTES), what);
    return validated(
      ShareFiles,
      value,
      "the server's list of share files",
      'the server and the deploy environment are of different versions: update the boot files',
    ).files;
  }

  /**
   * Writes the share file `file` to `dest`, going on from the bytes `dest` already holds (a Range):
   * tried again after a cut, it fetches only what is still missing. The whole file is then checked
   * against the SHA-256 the server listed; a resumed file that does not match (changed in the share
   * between two fetches) is fetched once more from its start.
   */
  async shareFile(file: ShareFiles['files'][number], dest: string): Promise<void> {
    const have = await stat(dest).then(
      (s) => Math.min(s.size, file.size),
      () => 0,
    );
    if (have < file.size || file.size === 0) await this.#fetchShareFile(file, dest, have);
    if ((await sha256OfFile(dest)) === file.sha256) return;
    await rm(dest, { force: true });
    if (have > 0) {
      await this.#fetchShareFile(file, dest, 0);
      if ((await sha256OfFile(dest)) === file.sha256) return;
      await rm(dest, { force: true });
    }
    throw new AppError(
      'FORMAT_INVALID',
      `share file ${file.path} does not match the SHA-256 the server listed for it`,
      { hint: 'was it changed in the deployment share during the deployment? retry the deployment' },
    );
  }

  async #fetchShareFile(file: ShareFiles['files'][number], dest: string, have: number): Promise<void> {
    if (file.size === 0) return writeFile(dest, new Uint8Array(0));
    const response = await this.#request('GET', `${AGENT_PATHS.files}/${encodeURIComponent(file.path)}`, {
      bulk: true,
      headers: have === 0 ? {} : { range: `bytes=${have}-` },
    });
    await writeBody(
      response,
      `share file ${file.path}`,
      dest,
      response.statusCode === 206 ? have : 0,
      file.size,
    );
  }

  /** A capture's: of `digests`, those the server still needs. */
  async captureMissing(digests: readonly string[]): Promise<string[]> {
    const response = await this.#request('POST', AGENT_PATHS.captureChunks, { json: { digests } });
    const what = 'the chunks the server needs';
    const answer = validated(
      CaptureChunkAnswer,
      parseJson(await readBody(response, what, null, MAX_JSON_BYTES), what),
      "the server's answer about chunks",
      'the server and the deploy environment are of different versions: update the boot files',
    );
    const asked = new Set(digests);
    if (!answer.missing.every((d) => asked.has(d))) {
      throw new AppError('FORMAT_INVALID', 'the server asked for a chunk that was not offered', {
        hint: 'the server answered something other than what was asked; see its log',
      });
    }
    return answer.missing;
  }

  /** A capture's: one chunk of its image. */
  async captureChunk(digest: string, bytes: Uint8Array): Promise<void> {
    const response = await this.#request('PUT', `${AGENT_PATHS.captureChunks}/${digest}`, {
      bytes,
      bulk: true,
    });
    response.resume();
  }

  /** A capture's: the manifest; the image as the server listed it. */
  async captureCommit(manifest: Manifest): Promise<CaptureResult> {
    // The server reads the whole image back to check it: that takes a while for a large one.
    const response = await this.#request('POST', AGENT_PATHS.captureCommit, {
      json: manifest,
      idleTimeoutMs: COMMIT_IDLE_TIMEOUT_MS,
    });
    const what = 'the committed image';
    return validated(
      CaptureResult,
      parseJson(await readBody(response, what, null, MAX_JSON_BYTES), what),
      "the server's answer to the commit",
      'the server and the deploy environment are of different versions: update the boot files',
    );
  }

  /** Sends one report (every report is also a heartbeat). */
  async report(report: AgentReport): Promise<void> {
    const response = await this.#request('POST', AGENT_PATHS.report, {
      json: report,
      idleTimeoutMs: REPORT_IDLE_TIMEOUT_MS,
    });
    response.resume();
  }
}
