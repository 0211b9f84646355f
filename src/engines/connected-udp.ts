// A UDP socket connected to one peer, on Node's event loop, through winsmith-udp.node (native/udp.c,
// built at set-up): for the data phase of TFTP transfers, where node:dgram's own cost per datagram
// (a 64 KiB buffer, an address object and a second read for each one received; a request object
// and a syscall for each one sent) is most of the work. Datagrams are received into one buffer
// shared by every socket and lent to the handler for the length of the call (no object is made for
// one); a run of packets laid out one after the other in a buffer goes out with one sendmmsg(2).

import { createRequire } from 'node:module';
import { BUILT_ADDONS, builtFile, notBuilt } from './programs.ts';

type NativeSocket = object;

interface Addon {
  open(
    local: string,
    remote: string,
    remotePort: number,
    buffer: Buffer,
    onDatagram: (length: number) => void,
    onWritable: () => void,
    onError: (code: string) => void,
  ): NativeSocket;
  send(
    socket: NativeSocket,
    buffer: Uint8Array,
    offset: number,
    stride: number,
    count: number,
    lastLength: number,
  ): number;
  setSendBufferSize(socket: NativeSocket, bytes: number): void;
  close(socket: NativeSocket): void;
}

let addon: Addon | undefined;

function loadAddon(): Addon {
  if (addon === undefined) {
    const file = builtFile('winsmith-udp.node');
    try {
      addon = createRequire(import.meta.url)(file) as Addon;
    } catch (cause) {
      throw notBuilt('winsmith-udp.node', BUILT_ADDONS['winsmith-udp'], cause);
    }
  }
  return addon;
}

/** Throws the MISSING_PROGRAM error now, rather than at the first socket, when the addon is not built. */
export function checkConnectedUdp(): void {
  loadAddon();
}

/** Larger than any UDP payload: a datagram is never cut. */
const received = Buffer.allocUnsafe(65536);

export interface ConnectedUdpHandlers {
  /** A datagram from the peer, the first `length` bytes of `buffer`: valid only until this returns. */
  onDatagram(buffer: Buffer, length: number): void;
  /** The kernel takes packets again after a send it did not take whole. */
  onWritable(): void;
  /** The socket failed (`code`: an errno name, ECONNREFUSED when the peer's port is closed); it receives nothing more. */
  onError(code: string): void;
}

const ignore: ConnectedUdpHandlers = {
  onDatagram: () => undefined,
  onWritable: () => undefined,
  onError: () => undefined,
};

export class ConnectedUdpSocket {
  readonly #addon: Addon;
  readonly #socket: NativeSocket;
  #handlers = ignore;
  #closed = false;

  /**
   * Binds to `local` (a port the kernel picks) and connects to remote:remotePort; throws an Error
   * whose code is the errno name (EADDRNOTAVAIL, …) when it cannot. What it receives is ignored until
   * listen() names handlers.
   */
  constructor(local: string, remote: string, remotePort: number) {
    this.#addon = loadAddon();
    this.#socket = this.#addon.open(
      local,
      remote,
      remotePort,
      received,
      (length) => this.#handlers.onDatagram(received, length),
      () => this.#handlers.onWritable(),
      (code) => this.#handlers.onError(code),
    );
  }

  /** Who is told of what the socket receives from now on. */
  listen(handlers: ConnectedUdpHandlers): void {
    this.#handlers = handlers;
  }

  /**
   * Sends `count` packets of `stride` bytes laid out from `offset` in `buffer`, the last one
   * `lastLength` bytes; returns how many the kernel took: fewer when its buffer is full (onWritable
   * follows), none after close or on a failure (which goes to onError).
   */
  send(buffer: Uint8Array, offset: number, stride: number, count: number, lastLength: number): number {
    if (this.#closed) return 0;
    try {
      return this.#addon.send(this.#socket, buffer, offset, stride, count, lastLength);
    } catch (e) {
      this.#handlers.onError((e as NodeJS.ErrnoException).code ?? String(e));
      return 0;
    }
  }

  /** Sends one datagram: `packet` whole. */
  sendPacket(packet: Uint8Array): number {
    return this.send(packet, 0, packet.length, 1, packet.length);
  }

  /** SO_SNDBUF (the kernel caps it at net.core.wmem_max). */
  setSendBufferSize(bytes: number): void {
    this.#addon.setSendBufferSize(this.#socket, bytes);
  }

  /** Stops the socket at once: nothing is received or called after. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.close(this.#socket);
  }
}
