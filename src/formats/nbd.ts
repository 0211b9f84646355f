// The server side of the NBD protocol (github.com/NetworkBlockDevice/nbd, doc/proto.md), for one
// read-only export: the fixed-newstyle handshake, the options a client negotiates with (GO, INFO,
// EXPORT_NAME, LIST, ABORT; the others are answered "unsupported", so a client falls back to
// simple replies), then the transmission phase's requests. Pure: bytes the client sent go in, and
// what to send back (or a read to answer) comes out; the caller does the I/O. A client that breaks
// the protocol gets a FormatError, after which the connection is closed.

import { FormatError } from '../core/errors.ts';

const NBDMAGIC = 0x4e42444d41474943n;
const IHAVEOPT = 0x49484156454f5054n;
const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;

const FLAG_FIXED_NEWSTYLE = 1 << 0;
const FLAG_NO_ZEROES = 1 << 1;

/** Transmission flags: flags are sent; the export is read-only. */
const TRANSMISSION_FLAGS = (1 << 0) | (1 << 1);

const OPT = { exportName: 1, abort: 2, list: 3, info: 6, go: 7 } as const;
const REP = { ack: 1, server: 2, info: 3, errUnsupported: 0x80000001, errInvalid: 0x80000003 } as const;
const INFO = { export: 0, blockSize: 3 } as const;
const CMD = { read: 0, write: 1, disconnect: 2, flush: 3 } as const;

/** errno values of the protocol's error field. */
export const NBD_ERRORS = { EPERM: 1, EIO: 5, EINVAL: 22 } as const;

/** The largest option data and read a client may ask for. */
const MAX_OPTION_BYTES = 64 * 1024;
const NBD_MAX_READ = 32 * 1024 * 1024;
/** The block sizes told to a client that asks: any byte, 4 KiB preferred, reads up to NBD_MAX_READ. */
const BLOCK_SIZES = { minimum: 1, preferred: 4096, maximum: NBD_MAX_READ };

export type NbdAction =
  | { readonly kind: 'send'; readonly bytes: Uint8Array }
  /** Answer with `simpleReplyHeader(handle, 0)` then `length` bytes of the export at `offset`. */
  | { readonly kind: 'read'; readonly handle: Uint8Array; readonly offset: number; readonly length: number }
  | { readonly kind: 'close' };

function u16(value: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The 16-byte header of a simple reply to the request `handle` (error 0: the data follows). */
export function simpleReplyHeader(handle: Uint8Array, error: number): Uint8Array {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  view.setUint32(0, SIMPLE_REPLY_MAGIC);
  view.setUint32(4, error);
  b.set(handle.subarray(0, 8), 8);
  return b;
}

function optionReply(option: number, type: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(20 + data.byteLength);
  const view = new DataView(b.buffer);
  view.setBigUint64(0, OPTION_REPLY_MAGIC);
  view.setUint32(8, option);
  view.setUint32(12, type);
  view.setUint32(16, data.byteLength);
  b.set(data, 20);
  return b;
}

type Phase = 'client-flags' | 'options' | 'transmission' | 'closed';

/** One client connection to the export `name` of `size` bytes. */
export class NbdServerProtocol {
  readonly #size: number;
  readonly #name: string;
  #phase: Phase = 'client-flags';
  #noZeroes = false;
  #pending: Uint8Array = new Uint8Array(0);

  constructor(size: number, name = '') {
    this.#size = size;
    this.#name = name;
  }

  /** What the server says first: the magic words and its handshake flags. */
  greeting(): Uint8Array {
    const b = new Uint8Array(18);
    const view = new DataView(b.buffer);
    view.setBigUint64(0, NBDMAGIC);
    view.setBigUint64(8, IHAVEOPT);
    view.setUint16(16, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    return b;
  }

  /** The client's bytes (any split): what to do about every whole message they complete. */
  receive(bytes: Uint8Array): NbdAction[] {
    this.#pending = this.#pending.byteLength === 0 ? bytes : concat([this.#pending, bytes]);
    const actions: NbdAction[] = [];
    for (;;) {
      const before = this.#pending.byteLength;
      const phase = this.#phase;
      if (phase === 'closed') {
        this.#pending = new Uint8Array(0);
        return actions;
      }
      if (phase === 'client-flags') this.#clientFlags();
      else if (phase === 'options') this.#option(actions);
      else this.#request(actions);
      if (this.#pending.byteLength === before && this.#phase === phase) return actions;
    }
  }

  #take(n: number): DataView | null {
    if (this.#pending.byteLength < n) return null;
    const taken = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return new DataView(taken.buffer, taken.byteOffset, n);
  }

  #clientFlags(): void {
    const view = this.#take(4);
    if (view === null) return;
    const flags = view.getUint32(0);
    if ((flags & FLAG_FIXED_NEWSTYLE) === 0) {
      throw new FormatError('the NBD client does not speak the fixed newstyle handshake');
    }
    this.#noZeroes = (flags & FLAG_NO_ZEROES) !== 0;
    this.#phase = 'options';
  }

  #option(actions: NbdAction[]): void {
    if (this.#pending.byteLength < 16) return;
    const head = new DataView(this.#pending.buffer, this.#pending.byteOffset, 16);
    if (head.getBigUint64(0) !== IHAVEOPT) throw new FormatError('an NBD option without its magic');
    const option = head.getUint32(8);
    const length = head.getUint32(12);
    if (length > MAX_OPTION_BYTES) throw new FormatError(`an NBD option of ${length} bytes`);
    if (this.#pending.byteLength < 16 + length) return;
    this.#take(16);
    const data = this.#pending.subarray(0, length);
    this.#take(length);
    const send = (bytes: Uint8Array): void => {
      actions.push({ kind: 'send', bytes });
    };
    switch (option) {
      case OPT.exportName:
        send(concat([this.#sizeAndFlags(), ...(this.#noZeroes ? [] : [new Uint8Array(124)])]));
        this.#phase = 'transmission';
        return;
      case OPT.abort:
        send(optionReply(option, REP.ack));
        actions.push({ kind: 'close' });
        this.#phase = 'closed';
        return;
      case OPT.list: {
        const name = new TextEncoder().encode(this.#name);
        const entry = new Uint8Array(4 + name.byteLength);
        new DataView(entry.buffer).setUint32(0, name.byteLength);
        entry.set(name, 4);
        send(optionReply(option, REP.server, entry));
        send(optionReply(option, REP.ack));
        return;
      }
      case OPT.info:
      case OPT.go: {
        const requests = this.#infoRequests(data);
        if (requests === null) {
          send(optionReply(option, REP.errInvalid));
          return;
        }
        send(optionReply(option, REP.info, concat([u16(INFO.export), this.#sizeAndFlags()])));
        if (requests.includes(INFO.blockSize)) {
          const sizes = new Uint8Array(14);
          const view = new DataView(sizes.buffer);
          view.setUint16(0, INFO.blockSize);
          view.setUint32(2, BLOCK_SIZES.minimum);
          view.setUint32(6, BLOCK_SIZES.preferred);
          view.setUint32(10, BLOCK_SIZES.maximum);
          send(optionReply(option, REP.info, sizes));
        }
        send(optionReply(option, REP.ack));
        if (option === OPT.go) this.#phase = 'transmission';
        return;
      }
      default:
        send(optionReply(option, REP.errUnsupported));
    }
  }

  /** The information types a GO or INFO asks for; null when its data is malformed. */
  #infoRequests(data: Uint8Array): number[] | null {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength < 6) return null;
    const nameLength = view.getUint32(0);
    if (data.byteLength < 4 + nameLength + 2) return null;
    const count = view.getUint16(4 + nameLength);
    if (data.byteLength !== 4 + nameLength + 2 + 2 * count) return null;
    const requests: number[] = [];
    for (let i = 0; i < count; i++) requests.push(view.getUint16(4 + nameLength + 2 + 2 * i));
    return requests;
  }

  #sizeAndFlags(): Uint8Array {
    const b = new Uint8Array(10);
    const view = new DataView(b.buffer);
    view.setBigUint64(0, BigInt(this.#size));
    view.setUint16(8, TRANSMISSION_FLAGS);
    return b;
  }

  #request(actions: NbdAction[]): void {
    if (this.#pending.byteLength < 28) return;
    const view = new DataView(this.#pending.buffer, this.#pending.byteOffset, 28);
    if (view.getUint32(0) !== REQUEST_MAGIC) throw new FormatError('an NBD request without its magic');
    const type = view.getUint16(6);
    const handle = this.#pending.slice(8, 16);
    const offset = view.getBigUint64(16);
    const length = view.getUint32(24);
    if (type === CMD.write) {
      if (this.#pending.byteLength < 28 + length) {
        if (length > NBD_MAX_READ) throw new FormatError(`an NBD write of ${length} bytes`);
        return;
      }
      this.#take(28 + length);
      actions.push({ kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EPERM) });
      return;
    }
    this.#take(28);
    if (type === CMD.disconnect) {
      actions.push({ kind: 'close' });
      this.#phase = 'closed';
      return;
    }
    if (type === CMD.flush) {
      actions.push({ kind: 'send', bytes: simpleReplyHeader(handle, 0) });
      return;
    }
    if (type !== CMD.read) {
      actions.push({ kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EINVAL) });
      return;
    }
    if (length > NBD_MAX_READ || offset + BigInt(length) > BigInt(this.#size)) {
      actions.push({ kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EINVAL) });
      return;
    }
    actions.push({ kind: 'read', handle, offset: Number(offset), length });
  }
}
