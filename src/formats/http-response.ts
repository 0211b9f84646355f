// One HTTP/1.1 response (RFC 9112) read from the bytes of a connection as they come, its body
// copied straight into one buffer of its own: the status line, the header fields (at most
// MAX_HEAD_BYTES, interim 1xx answers skipped), then the body framed as §6.3 says: none for 204
// and 304, chunked transfer coding, Content-Length, or until the connection closes. Every length
// is checked against the caller's bound before a byte of it is kept. Pure: the caller owns the
// socket (src/io/http-get.ts).

import { AppError } from '../core/errors.ts';

/** The status line and header fields of an answer, with its trailers, together. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line with its extensions. */
const MAX_CHUNK_LINE_BYTES = 1024;
/** A body of unknown length starts in a buffer this big and doubles. */
const FIRST_BUFFER_BYTES = 64 * 1024;

export interface BodyLimits {
  /** The most body bytes of a 2xx answer. */
  readonly ok: number;
  /** The most body bytes of any other answer. */
  readonly other: number;
}

type Stage =
  | { readonly kind: 'head' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunk-size' }
  | { readonly kind: 'chunk-data'; remaining: number }
  | { readonly kind: 'chunk-end' }
  | { readonly kind: 'trailers' }
  | { readonly kind: 'until-close' }
  | { readonly kind: 'done' };

const CR = 0x0d;
const LF = 0x0a;

function invalid(message: string): AppError {
  return new AppError('FORMAT_INVALID', `the server's HTTP answer ${message}`, {
    hint: 'the server is not speaking HTTP/1.1 as expected: check the server URL',
  });
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: [\t\x20-\x7e\x80-\xff]*)?$/;

export class HttpResponseReader {
  readonly #limits: BodyLimits;
  readonly #into: Uint8Array | undefined;
  #stage: Stage = { kind: 'head' };
  /** The bytes of a line not ended yet (the head's, a chunk-size line's, the trailers'). */
  #line: number[] = [];
  #started = false;
  /** Bytes of the head's (or the trailers') lines read whole. */
  #headBytes = 0;
  #headLines: string[] = [];
  #status = 0;
  #minor = 1;
  #headers = new Map<string, string>();
  #body: Uint8Array = new Uint8Array(0);
  #bodyLength = 0;
  #limit = 0;

  /** A 2xx answer whose Content-Length is the length of `into` has its body read into it. */
  constructor(limits: BodyLimits, into?: Uint8Array) {
    this.#limits = limits;
    this.#into = into;
  }

  /** The answer's status (0 until its status line is read). */
  get status(): number {
    return this.#status;
  }

  /** Its header fields, names in lower case (repeated fields joined with ", "). */
  get headers(): ReadonlyMap<string, string> {
    return this.#headers;
  }

  /** Whether the whole answer has been read. */
  get done(): boolean {
    return this.#stage.kind === 'done';
  }

  /** Whether any byte of the answer has come (an idle connection closed by the server has none). */
  get started(): boolean {
    return this.#started;
  }

  /** The body read so far (the whole body once `done`). */
  get body(): Uint8Array {
    return this.#body.subarray(0, this.#bodyLength);
  }

  /** Whether the connection may carry another request after this answer. */
  get keepAlive(): boolean {
    if (this.#stage.kind === 'until-close' || this.#minor === 0) return false;
    return !(this.#headers.get('connection') ?? '')
      .toLowerCase()
      .split(',')
      .some((o) => o.trim() === 'close');
  }

  /**
   * Reads `data` on; returns how many of its bytes belong to this answer (all of them until it is
   * done). Throws FORMAT_INVALID on bytes that are not an HTTP answer, LIMIT_EXCEEDED on a head or
   * a body past its bound.
   */
  push(data: Uint8Array): number {
    if (data.byteLength > 0) this.#started = true;
    let at = 0;
    while (at < data.byteLength && this.#stage.kind !== 'done') at = this.#step(data, at);
    return at;
  }

  /** The connection closed after the bytes pushed: ends a body read until then, or throws. */
  close(): void {
    if (this.#stage.kind === 'until-close') this.#stage = { kind: 'done' };
    if (this.#stage.kind !== 'done') {
      throw invalid(
        this.started
          ? `was cut off after ${this.#bodyLength} bytes of its body`
          : 'never came: the connection closed',
      );
    }
  }

  #step(data: Uint8Array, at: number): number {
    const stage = this.#stage;
    switch (stage.kind) {
      case 'head':
      case 'trailers':
        return this.#headLine(data, at);
      case 'chunk-size':
        return this.#chunkSizeLine(data, at);
      case 'length':
      case 'chunk-data': {
        const take = Math.min(stage.remaining, data.byteLength - at);
        this.#keep(data.subarray(at, at + take));
        stage.remaining -= take;
        if (stage.remaining === 0)
          this.#stage = stage.kind === 'length' ? { kind: 'done' } : { kind: 'chunk-end' };
        return at + take;
      }
      case 'chunk-end':
        return this.#chunkEnd(data, at);
      case 'until-close':
        this.#keep(data.subarray(at));
        return data.byteLength;
      case 'done':
        return at;
    }
  }

  /**
   * Adds bytes of a line (at most `max` before its LF); returns the line without its CRLF when
   * `data` holds its end, and where reading goes on.
   */
  #lineFrom(data: Uint8Array, at: number, max: number, what: string): [string | null, number] {
    const end = data.indexOf(LF, at);
    const stop = end === -1 ? data.byteLength : end;
    if (this.#line.length + (stop - at) > max) {
      throw new AppError('LIMIT_EXCEEDED', `the server's HTTP answer has ${what} longer than ${max} bytes`);
    }
    for (let i = at; i < stop; i++) this.#line.push(data[i] ?? 0);
    if (end === -1) return [null, data.byteLength];
    const bytes = this.#line;
    this.#line = [];
    if (bytes.at(-1) !== CR) throw invalid(`has ${what} that does not end in CRLF`);
    bytes.pop();
    return [String.fromCharCode(...bytes), end + 1];
  }

  #headLine(data: Uint8Array, at: number): number {
    const room = MAX_HEAD_BYTES - this.#headBytes;
    const [line, next] = this.#lineFrom(data, at, room, 'a head');
    if (line === null) return next;
    this.#headBytes += line.length + 2;
    if (line !== '') {
      if (this.#stage.kind === 'head') this.#headLines.push(line);
      return next;
    }
    if (this.#stage.kind === 'trailers') {
      this.#stage = { kind: 'done' };
      return next;
    }
    if (this.#headLines.length === 0) return next;
    this.#endHead();
    return next;
  }

  #endHead(): void {
    const [statusLine = '', ...fields] = this.#headLines;
    this.#headLines = [];
    const status = STATUS_LINE.exec(statusLine);
    if (status === null)
      throw invalid(`starts with ${JSON.stringify(statusLine.slice(0, 80))}, not a status line`);
    this.#minor = Number(status[1]);
    this.#status = Number(status[2]);
    this.#headers = new Map();
    for (const field of fields) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon).toLowerCase();
      if (colon < 1 || !TOKEN.test(name))
        throw invalid(`has a malformed header field ${JSON.stringify(field.slice(0, 80))}`);
      const value = field.slice(colon + 1).trim();
      const before = this.#headers.get(name);
      this.#headers.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    if (this.#status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      this.#headBytes = 0;
      this.#status = 0;
      return;
    }
    this.#limit = this.#status < 300 ? this.#limits.ok : this.#limits.other;
    this.#frameBody();
  }

  #frameBody(): void {
    const coding = this.#headers.get('transfer-encoding');
    const length = this.#headers.get('content-length');
    if (this.#status === 204 || this.#status === 304) {
      this.#stage = { kind: 'done' };
    } else if (coding !== undefined) {
      if (coding.toLowerCase() !== 'chunked')
        throw invalid(`has transfer coding "${coding.slice(0, 80)}", expected chunked`);
      this.#startBody(null);
      this.#stage = { kind: 'chunk-size' };
    } else if (length !== undefined) {
      const values = new Set(length.split(',').map((v) => v.trim()));
      const [value = ''] = values;
      if (values.size !== 1 || !/^[0-9]{1,15}$/.test(value))
        throw invalid(`has Content-Length "${length.slice(0, 80)}"`);
      const bytes = Number(value);
      this.#startBody(bytes);
      this.#stage = bytes === 0 ? { kind: 'done' } : { kind: 'length', remaining: bytes };
    } else {
      this.#startBody(null);
      this.#stage = { kind: 'until-close' };
    }
  }

  #startBody(length: number | null): void {
    if (length !== null && length > this.#limit) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `the server's HTTP ${this.#status} answer has a body of ${length} bytes, expected at most ${this.#limit}`,
      );
    }
    const into = this.#into;
    if (into !== undefined && this.#status < 300 && length === into.byteLength) {
      this.#body = into;
      return;
    }
    // Not zeroed: every byte of it is written before it is read (`body` ends where they end).
    this.#body = Buffer.allocUnsafe(length ?? Math.min(this.#limit, FIRST_BUFFER_BYTES));
  }

  #keep(piece: Uint8Array): void {
    const needed = this.#bodyLength + piece.byteLength;
    if (needed > this.#limit) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `the server's HTTP ${this.#status} answer has a body past ${this.#limit} bytes, the most expected`,
      );
    }
    if (needed > this.#body.byteLength) {
      const grown = Buffer.allocUnsafe(Math.min(this.#limit, Math.max(2 * this.#body.byteLength, needed)));
      grown.set(this.body);
      this.#body = grown;
    }
    this.#body.set(piece, this.#bodyLength);
    this.#bodyLength = needed;
  }

  #chunkSizeLine(data: Uint8Array, at: number): number {
    const [line, next] = this.#lineFrom(data, at, MAX_CHUNK_LINE_BYTES, 'a chunk-size line');
    if (line === null) return next;
    const size = /^([0-9A-Fa-f]{1,12})[\t ]*(?:;.*)?$/.exec(line);
    if (size === null) throw invalid(`has chunk-size line ${JSON.stringify(line.slice(0, 80))}`);
    const bytes = parseInt(size[1] ?? '', 16);
    if (this.#bodyLength + bytes > this.#limit) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `the server's HTTP ${this.#status} answer has a body past ${this.#limit} bytes, the most expected`,
      );
    }
    this.#stage = bytes === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: bytes };
    if (bytes === 0) this.#headBytes = 0;
    return next;
  }

  /** The CRLF that ends a chunk's data, a byte at a time. */
  #chunkEnd(data: Uint8Array, at: number): number {
    const want = this.#line.length === 0 ? CR : LF;
    if (data[at] !== want) throw invalid('has a chunk longer than its chunk-size');
    if (want === CR) {
      this.#line.push(CR);
    } else {
      this.#line = [];
      this.#stage = { kind: 'chunk-size' };
    }
    return at + 1;
  }
}
