// GET requests over kept-alive HTTP/1.1 connections (http or https), each answer read into one
// buffer of its own (src/formats/http-response.ts), each connection's socket reading into one
// buffer that it reuses (the `onread` of node:net and node:tls). Node's http client has a new
// buffer made for every read of the socket and copies each piece of a body once more: for an
// image of hundreds of MB fetched as chunks, collecting that garbage cost more CPU than receiving.
// A request sent on a kept-alive connection that the server closed meanwhile (before any byte of
// an answer) is sent again once, as a GET may be.

import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { AppError } from '../core/errors.ts';
import { HttpResponseReader, type BodyLimits } from '../formats/http-response.ts';

/** Each connection's reads go into a buffer this big: a few reads per 1 MiB chunk. */
const READ_BUFFER_BYTES = 256 * 1024;

export interface GetAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

export interface GetOptions {
  readonly limits: BodyLimits;
  /** A connection silent this long fails the request. */
  readonly idleTimeoutMs: number;
  /** Memory for a 2xx body of exactly its length (the caller's, reused). */
  readonly into?: Uint8Array | undefined;
}

interface Pending {
  readonly request: string;
  readonly limits: BodyLimits;
  readonly into: Uint8Array | undefined;
  readonly idleTimeoutMs: number;
  readonly resolve: (answer: GetAnswer) => void;
  readonly reject: (error: Error) => void;
  /** Sent once already, on a kept-alive connection the server had closed. */
  resent: boolean;
}

class Connection {
  readonly socket: Socket;
  /** Requests answered on this connection so far. */
  #answered = 0;
  #pending: Pending | null = null;
  #reader: HttpResponseReader | null = null;
  #error: Error | null = null;
  readonly #pool: HttpGetPool;

  constructor(pool: HttpGetPool, url: URL) {
    this.#pool = pool;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const https = url.protocol === 'https:';
    const port = Number(url.port === '' ? (https ? 443 : 80) : url.port);
    const onread: OnReadOpts = {
      buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
      callback: (bytes, buffer) => {
        this.#read(buffer.subarray(0, bytes));
        return true;
      },
    };
    // node:tls takes `onread` as node:net does (its documentation says so; its types do not).
    const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = {
      host,
      port,
      servername: isIP(host) === 0 ? host : undefined,
      onread,
    };
    this.socket = https ? tlsConnect(tlsOptions) : netConnect({ host, port, onread });
    this.socket.on('timeout', () =>
      this.socket.destroy(new Error(`no data for ${(this.socket.timeout ?? 0) / 1000} s`)),
    );
    this.socket.on('error', (error) => (this.#error ??= error));
    this.socket.on('close', () => this.#closed());
  }

  send(pending: Pending): void {
    this.#pending = pending;
    this.#reader = new HttpResponseReader(pending.limits, pending.into);
    this.socket.ref();
    this.socket.setTimeout(pending.idleTimeoutMs);
    this.socket.write(pending.request);
  }

  #read(bytes: Uint8Array): void {
    const reader = this.#reader;
    const pending = this.#pending;
    if (reader === null || pending === null) {
      this.socket.destroy(new Error('the server sent bytes no request asked for'));
      return;
    }
    try {
      const used = reader.push(bytes);
      if (!reader.done) return;
      this.#pending = null;
      this.#reader = null;
      this.#answered++;
      pending.resolve({ status: reader.status, headers: reader.headers, body: reader.body });
      if (used < bytes.byteLength || !reader.keepAlive) {
        this.socket.destroy();
      } else {
        this.socket.setTimeout(0);
        this.socket.unref();
        this.#pool.free(this);
      }
    } catch (error) {
      this.socket.destroy(error as Error);
    }
  }

  #closed(): void {
    const pending = this.#pending;
    const reader = this.#reader;
    this.#pending = null;
    this.#reader = null;
    this.#pool.gone(this);
    if (pending === null || reader === null) return;
    if (this.#error instanceof AppError) {
      pending.reject(this.#error);
      return;
    }
    if (!reader.started && this.#answered > 0 && !pending.resent) {
      pending.resent = true;
      this.#pool.resend(pending);
      return;
    }
    try {
      reader.close();
      pending.resolve({ status: reader.status, headers: reader.headers, body: reader.body });
    } catch (cut) {
      // A connection's failure, whatever the reader calls it: trying again may help.
      pending.reject(this.#error ?? new Error((cut as Error).message, { cause: cut }));
    }
  }
}

export class HttpGetPool {
  readonly #url: URL;
  readonly #maxSockets: number;
  readonly #connections = new Set<Connection>();
  readonly #idle: Connection[] = [];
  readonly #queue: Pending[] = [];
  #closed = false;

  /** Connections to the server of `url` (its path is put before each request's), at most `maxSockets` at once. */
  constructor(url: URL, maxSockets: number) {
    this.#url = url;
    this.#maxSockets = maxSockets;
  }

  /**
   * The answer to GET `path` (whatever its status), its body within `limits`: a 2xx body of the
   * length of `into` read into it. Fails with the reader's AppError on an answer that is not HTTP
   * or too big, else with the connection's error (none came, a cut, `idleTimeoutMs` without a byte).
   */
  get(path: string, headers: Readonly<Record<string, string>>, options: GetOptions): Promise<GetAnswer> {
    const { limits, idleTimeoutMs, into } = options;
    const fields = Object.entries({ host: this.#url.host, ...headers });
    if (fields.some(([name, value]) => /[\r\n:]/.test(name) || /[\r\n]/.test(value))) {
      return Promise.reject(new AppError('INVALID_ARGUMENT', `a header of GET ${path} holds a line break`));
    }
    const target = `${this.#url.pathname.replace(/\/+$/, '')}${path}`;
    const request = `GET ${target} HTTP/1.1\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('the connections to the server are closed'));
        return;
      }
      this.#queue.push({ request, limits, into, idleTimeoutMs, resolve, reject, resent: false });
      this.#dispatch();
    });
  }

  /** Closes every connection; requests not answered fail. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('the connections were closed'));
    for (const connection of this.#connections) connection.socket.destroy();
  }

  /** `connection` answered and may carry another request. */
  free(connection: Connection): void {
    this.#idle.push(connection);
    this.#dispatch();
  }

  /** `connection` closed. */
  gone(connection: Connection): void {
    this.#connections.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at !== -1) this.#idle.splice(at, 1);
    this.#dispatch();
  }

  /** `pending` goes again, before the requests waiting. */
  resend(pending: Pending): void {
    if (this.#closed) {
      pending.reject(new Error('the connections were closed'));
      return;
    }
    this.#queue.unshift(pending);
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let connection = this.#idle.pop();
      if (connection === undefined) {
        if (this.#connections.size >= this.#maxSockets) return;
        connection = new Connection(this, this.#url);
        this.#connections.add(connection);
      }
      const pending = this.#queue.shift();
      if (pending !== undefined) connection.send(pending);
    }
  }
}
