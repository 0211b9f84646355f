// A UDP socket connected to one peer, on Node's event loop, through winsmith-udp.node (native/udp.c,
// built at set-up): for the data phase of TFTP transfers, where node:dgram's own cost per datagram
// (a 64 KiB buffer, an address object and a second read for each one received; a request object
// and a syscall for each one sent) is most of the work. Datagrams are received into one buffer
// shared by every socket and lent to the handler for the length of the call (no object is made for
// one); a run of packets laid out one after the other in a buffer goes out with one sendmmsg(2).
// For a peer in lock-step, answers can be armed ahead: while they are, the socket is read by a thread
// of the addon's own, which sends each answer as soon as the datagram it expects arrives, without a
// call into JS or a wake of the event loop (arm()), going on to the next sequence queued (follow()).

import { createRequire } from 'node:module';
import { BUILT_ADDONS, builtFile, notBuilt } from './programs.ts';

type NativeSocket = object;

/** A run of packets, as send() takes it (see there). */
type PacketRun = [buffer: Uint8Array, offset: number, stride: number, count: number, lastLength: number];

/** Steps of an armed sequence answered, and the packets the kernel took of the last of them. */
export type Answered = [steps: number, lastTaken: number];

/** Waits the reader thread polled in before it blocked, and the datagrams it caught so (see polls()). */
export type Polls = [polled: number, caught: number];

/** What arm() and follow() take (see arm()). */
export type ArmedSequence = [expect: Uint8Array, expectLength: number, perStep: number, ...run: PacketRun];

interface Addon {
  open(
    local: string,
    remote: string,
    remotePort: number,
    buffer: Buffer,
    onDatagram: (length: number) => void,
    onAnswered: (steps: number, lastTaken: number) => void,
    onWritable: () => void,
    onError: (code: string) => void,
  ): NativeSocket;
  send(socket: NativeSocket, ...run: PacketRun): number;
  arm(socket: NativeSocket, ...sequence: ArmedSequence): void;
  follow(socket: NativeSocket, ...sequence: ArmedSequence): boolean;
  disarm(socket: NativeSocket): void;
  takeAnswered(socket: NativeSocket): Answered;
  polls(socket: NativeSocket): Polls;
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
  /**
   * A datagram from the peer that no armed step answered, the first `length` bytes of `buffer`:
   * valid only until this returns.
   */
  onDatagram(buffer: Buffer, length: number): void;
  /**
   * Steps of the armed sequences answered since the handler last heard of them (see arm()), the
   * kernel having taken `lastTaken` packets of the last of them and every packet of the others.
   */
  onAnswered(steps: number, lastTaken: number): void;
  /** The kernel takes packets again after a send it did not take whole. */
  onWritable(): void;
  /** The socket failed (`code`: an errno name, ECONNREFUSED when the peer's port is closed); it receives nothing more. */
  onError(code: string): void;
}

const ignore: ConnectedUdpHandlers = {
  onDatagram: () => undefined,
  onAnswered: () => undefined,
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
      (steps, lastTaken) => this.#handlers.onAnswered(steps, lastTaken),
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

  /**
   * Arms a sequence of answers, so that a peer that waits for each answer before it speaks again
   * (lock-step) is answered without waiting for JS. `expect` holds the datagrams expected, one after
   * the other, `expectLength` bytes each (1 to 16); the packets are laid out as for send(), and step
   * i answers the i-th expected datagram with packets [i × perStep, (i + 1) × perStep). Each step
   * fires when the next datagram received is exactly the one it expects; anything else goes to
   * onDatagram and leaves the sequence as it is. Answered steps are reported to onAnswered at the
   * end of the sequence (its last step, or one the kernel did not take whole, which also ends it),
   * before the next onDatagram, or when takeAnswered() collects them. Arming replaces the sequence
   * armed before; its answered steps must have been collected. Both buffers are read as steps fire:
   * their bytes must stay as they are until the sequence ends, disarm(), or another arm(). While a
   * sequence is armed, the addon's thread reads the socket; no step fires while a handler runs,
   * but for the steps of a queued sequence while onAnswered hears of the one before (follow()).
   */
  arm(...sequence: ArmedSequence): void {
    if (!this.#closed) this.#addon.arm(this.#socket, ...sequence);
  }

  /**
   * Queues a sequence (as arm() takes it) to be armed when the armed one answers its last step: the
   * addon's thread goes on with it at once, and onAnswered hears of the steps answered so far while
   * it does. So a peer in lock-step never waits for JS between two sequences, as long as the next
   * is queued before the one armed ends. Returns false, queuing nothing, when no sequence is armed
   * (the one armed has ended already: onAnswered is on its way) or one is queued already. Its
   * buffers are read as its steps fire, as for arm(). A step the kernel does not take whole, a
   * failure, disarm() and arm() end the queued sequence too.
   */
  follow(...sequence: ArmedSequence): boolean {
    return !this.#closed && this.#addon.follow(this.#socket, ...sequence);
  }

  /**
   * No step fires from now on, none of a queued sequence either (one firing at the call is finished
   * first); steps answered still wait to be collected.
   */
  disarm(): void {
    if (!this.#closed) this.#addon.disarm(this.#socket);
  }

  /**
   * The steps answered that onAnswered has not heard of, as it would hear of them (the kernel may
   * not have taken the last one whole); they count as heard.
   */
  takeAnswered(): Answered {
    return this.#closed ? [0, 0] : this.#addon.takeAnswered(this.#socket);
  }

  /**
   * How many times, since the socket was opened, the addon's thread polled the socket for the next
   * datagram before it blocked, and how many datagrams it caught so. A peer that answers within microseconds
   * (on the same host, or across a fast network) would otherwise wait for the thread's CPU to wake
   * from halt at every step; the thread polls only while polling catches datagrams, backing off
   * from a slower peer, and no more threads poll at once than there are CPUs but one.
   */
  polls(): Polls {
    return this.#closed ? [0, 0] : this.#addon.polls(this.#socket);
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
