// A read-only TFTP server for network boot: RFC 1350 transfers with the options of RFC 2347
// (OACK), 2348 (blksize), 2349 (timeout, tsize) and 7440 (windowsize), from one root directory
// (see tftp-path.ts for what may be read). Write requests are refused.
//
// Each transfer has its own UDP socket (RFC 1350 §4: a new transfer identifier), connected to the
// client so that the kernel drops datagrams from anyone else; the requests arrive on a node:dgram
// socket, the transfers run on ConnectedUdpSocket (src/engines/connected-udp.ts), whose cost per
// datagram is a fraction of node:dgram's. File data is read ahead with one readv straight into
// ready-made packets laid out one after the other (header written in place). The hot path — an ACK
// in, the next window out — does not enter JS: once a window is sent, the windows after it, as far
// as the read-ahead goes, are armed on the socket, each to go out (one recv, one sendmmsg) when the
// ACK it waits for arrives; the next read-ahead is read meanwhile into a second buffer and queued
// to follow, so the client never waits for a read either. Which ACK each window waits for, and what
// is in it, is decided here; the socket only compares bytes and sends what it was given. This
// object hears of the windows so sent at the end of each run, before any other datagram, or when
// its timer asks, and accounts for them as if it had sent them; anything else (a duplicate ACK, an
// ACK inside a window, an ERROR, silence) is handled here as before. Retransmission is driven by
// one interval timer a session that checks whether anything moved, instead of a timer re-armed for
// every packet.
// Memory stays bounded: a transfer holds two read-ahead buffers at most (one answered from, the
// next one read), each the larger of one window (at most 256 KiB in flight) and its read-ahead,
// 32 MiB shared by the transfers running when it starts (at most 256 KiB). A file that fits in one
// buffer gets one. Block numbers are kept absolute and go on the wire modulo 65536, so
// files past 65535 blocks wrap to 0 as clients expect. An ACK the server has already acted on is
// ignored (the "sorcerer's apprentice" bug of RFC 1350: answering duplicate ACKs doubles every
// packet from then on); a lost packet is resent when the timer finds no progress, up to a retry
// limit.

import dgram from 'node:dgram';
import { readvSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import { ConnectedUdpSocket, checkConnectedUdp, type ArmedSequence } from '../engines/connected-udp.ts';
import { negotiateTftpRead } from '../formats/tftp/options.ts';
import {
  TFTP_ERRORS,
  TFTP_MAX_BLKSIZE,
  parseTftpPacket,
  readTftpAck,
  serializeTftpPacket,
  writeTftpAck,
  writeTftpDataHeader,
  type TftpPacket,
} from '../formats/tftp/tftp.ts';
import { silentBootLog, type BootLog } from './boot-log.ts';
import { TftpRefusal, openTftpFile } from './tftp-path.ts';
import { bindUdp } from './udp.ts';

export interface TftpServerOptions {
  /** The directory served; nothing outside it is ever read. */
  readonly root: string;
  /** Address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** UDP port (default 69; 0 picks a free one). */
  readonly port?: number;
  readonly signal?: AbortSignal;
  readonly log?: BootLog;
  /** Largest blksize agreed (default 65464, RFC 2348's maximum). */
  readonly maxBlksize?: number;
  /** Largest windowsize agreed (default 64; never above 1024, the blocks one readv takes). */
  readonly maxWindowsize?: number;
  /** Retransmission timeout when the client sends no timeout option (default 1000 ms). */
  readonly timeoutMs?: number;
  /** Retransmissions of one packet before the transfer is abandoned (default 5). */
  readonly retries?: number;
  /** Transfers at once; more are refused with an error (default 512). */
  readonly maxSessions?: number;
}

export interface TftpServer {
  readonly address: string;
  readonly port: number;
  /** Transfers in progress. */
  sessionCount(): number;
  /** Stops listening, ends every transfer (the client gets an ERROR) and waits until all is closed. */
  close(): Promise<void>;
}

/**
 * Window sizes above this bring little (RFC 7440 §4 measurements flatten out well before) and cost
 * two read-ahead buffers of at least a window each per transfer.
 */
export const TFTP_DEFAULT_MAX_WINDOWSIZE = 64;
/**
 * Bytes in flight in one window at most (windowsize × blksize): the window is held twice in memory
 * per transfer, so with large blocks the windowsize agreed is lowered to stay under this (64 blocks
 * of 4 KiB; 178 of 1468 bytes, more than the default maximum windowsize).
 */
export const TFTP_MAX_WINDOW_BYTES = 256 << 10;
/** Bytes read ahead at once: one readv for a few hundred blocks. */
const READ_AHEAD_BYTES = 256 << 10;
/** Read-ahead shared by the transfers running when one starts: with many at once, each reads ahead less. */
const READ_AHEAD_BUDGET = 32 << 20;
/** Bytes the kernel accounts per datagram beyond the payload (headers and buffer bookkeeping), roughly. */
const UDP_IP_OVERHEAD = 512;
/** The send buffer asked for at least (the kernel's default is about this; it caps it at net.core.wmem_max). */
const MIN_SEND_BUFFER = 256 << 10;
/** readv(2) takes at most IOV_MAX (1024 on Linux) buffers. */
const IOV_MAX = 1024;

/** File data read ahead: the packets of blocks [first, first + count). */
interface Slab {
  /** Packets of 4 + blksize bytes, one per block, one after the other. */
  readonly whole: Buffer;
  /** The data part of each packet (what readv fills). */
  readonly data: Buffer[];
  /** The ACKs the steps armed from this slab wait for, 4 bytes each. */
  readonly acks: Buffer;
  first: number;
  count: number;
}

/** A sequence armed or queued on the socket: the slab it sends from, its steps not yet answered. */
interface Armed {
  readonly slab: Slab;
  steps: number;
}

/** Packets laid out one after the other in the slab, from `offset`, the last one `lastLength` bytes. */
interface PacketRun {
  readonly offset: number;
  readonly count: number;
  readonly lastLength: number;
}

function makeSlab(count: number, blksize: number): Slab {
  const whole = Buffer.allocUnsafe(count * (blksize + 4));
  const data: Buffer[] = [];
  for (let i = 0; i < count; i++) data.push(whole.subarray(i * (blksize + 4) + 4, (i + 1) * (blksize + 4)));
  return { whole, data, acks: Buffer.alloc(count * 4), first: 1, count: 0 };
}

function errorPacket(code: number, message: string): Buffer {
  return Buffer.from(serializeTftpPacket({ op: 'ERROR', code, message }));
}

class Transfer {
  readonly key: string;
  private readonly socket: ConnectedUdpSocket;
  private readonly handle: FileHandle;
  private readonly fd: number;
  private size: number;
  private readonly blksize: number;
  private readonly windowsize: number;
  private lastBlock: number;
  /** One slab, or two once the file is larger than one: one answered from, the next read meanwhile. */
  private readonly slabs: Slab[] = [];
  private readonly slabCapacity: number;
  /** Lowest block not yet acknowledged; 0 while the OACK waits for its ACK 0. */
  private base: number;
  /** Highest block sent. */
  private sentUpTo: number;
  /** The first block of the window the kernel has not taken yet (its send buffer was full). */
  private unsent = 0;
  /** The sequences on the socket, the one armed first, the one queued to follow it second. */
  private armed: Armed[] = [];
  /** The block whose ACK the next armed window waits for. */
  private armedAck = 0;
  private readonly oack: Buffer | undefined;
  private progress = 0;
  private retransmissions = 0;
  private ignoredAcks = 0;
  private windowRestarts = 0;
  private seenProgress = 0;
  private retriesLeft: number;
  private readonly retries: number;
  private readonly timer: NodeJS.Timeout;
  private ended = false;
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;
  private readonly log: BootLog;
  private readonly started = process.hrtime.bigint();
  private readonly filename: string;

  constructor(args: {
    key: string;
    socket: ConnectedUdpSocket;
    handle: FileHandle;
    size: number;
    blksize: number;
    windowsize: number;
    timeoutMs: number;
    retries: number;
    readAheadBytes: number;
    oack: Buffer | undefined;
    log: BootLog;
    filename: string;
  }) {
    this.key = args.key;
    this.socket = args.socket;
    this.handle = args.handle;
    this.fd = args.handle.fd;
    this.size = args.size;
    this.blksize = args.blksize;
    this.windowsize = args.windowsize;
    this.lastBlock = Math.floor(args.size / args.blksize) + 1;
    // Whole windows (each read once: a window never straddles two reads), at most IOV_MAX blocks.
    const blocks = Math.min(
      IOV_MAX,
      Math.max(args.windowsize, Math.floor(args.readAheadBytes / args.blksize)),
    );
    this.slabCapacity = Math.min(Math.floor(blocks / args.windowsize) * args.windowsize, this.lastBlock);
    this.oack = args.oack;
    this.base = args.oack === undefined ? 1 : 0;
    // The OACK stands for block 0: its ACK is the first one expected.
    this.sentUpTo = 0;
    this.retries = args.retries;
    this.retriesLeft = args.retries;
    this.log = args.log;
    this.filename = args.filename;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.socket.listen({
      onDatagram: (buffer, length) => this.onMessage(buffer, length),
      onAnswered: (steps, lastTaken) => {
        this.answered(steps, lastTaken);
        if (this.armed.length === 0 || this.unsent !== 0) this.armNext();
        else this.queueNext();
      },
      onWritable: () => {
        if (!this.ended && this.unsent !== 0) this.sendWindow(this.unsent);
      },
      onError: (code) => this.finish('warn', 'TFTP transfer socket failed', { error: code }),
    });
    this.timer = setInterval(() => this.onTick(), args.timeoutMs);
  }

  start(): void {
    if (this.oack !== undefined) this.socket.sendPacket(this.oack);
    else this.sendWindow(this.base);
  }

  /** Reads blocks [from, from + n) into `slab` (sends copy their bytes: none is in flight). */
  private fill(slab: Slab, from: number): Slab {
    const count = Math.min(this.slabCapacity, this.lastBlock - from + 1);
    const position = (from - 1) * this.blksize;
    const bytes = readvSync(this.fd, slab.data.slice(0, count), position);
    const expected = Math.min(count * this.blksize, this.size - position);
    if (bytes < expected) {
      // The file shrank while being served: end at what is there.
      this.size = position + bytes;
      this.lastBlock = Math.floor(this.size / this.blksize) + 1;
    }
    slab.first = from;
    slab.count = Math.min(count, this.lastBlock - from + 1);
    return slab;
  }

  /** A slab other than `busy` (made the first time a file needs two). */
  private spare(busy: Slab | undefined): Slab {
    const other = this.slabs.find((slab) => slab !== busy);
    if (other !== undefined) return other;
    const made = makeSlab(this.slabCapacity, this.blksize);
    this.slabs.push(made);
    return made;
  }

  /**
   * The slab that holds the window starting at block `start`, reading it if need be into the first
   * one. Only while nothing fires on the socket.
   */
  private load(start: number): Slab {
    const want = Math.min(start + this.windowsize - 1, this.lastBlock);
    const holding = this.slabs.find((slab) => start >= slab.first && want < slab.first + slab.count);
    return holding ?? this.fill(this.spare(undefined), start);
  }

  /** Writes the headers of blocks [from, last] (in `slab`): where their packets are. */
  private packets(slab: Slab, from: number, last: number): PacketRun {
    const stride = this.blksize + 4;
    for (let b = from; b <= last; b++) writeTftpDataHeader(slab.whole, b, (b - slab.first) * stride);
    return {
      offset: (from - slab.first) * stride,
      count: last - from + 1,
      lastLength: last === this.lastBlock ? this.size - (last - 1) * this.blksize + 4 : stride,
    };
  }

  /** Sends the window's blocks from `from` on, with one send; what the kernel does not take waits for onWritable. */
  private sendWindow(from: number): void {
    const slab = this.load(this.base);
    // Reading may have found the file shorter, and moved its last block.
    const last = Math.min(this.base + this.windowsize - 1, this.lastBlock);
    if (from <= last) {
      const { offset, count, lastLength } = this.packets(slab, from, last);
      this.sent(from, count, this.socket.send(slab.whole, offset, this.blksize + 4, count, lastLength));
    }
    this.armNext();
  }

  /** Records that `sent` of the `count` packets from block `from` on went out. */
  private sent(from: number, count: number, sent: number): void {
    this.unsent = sent < count ? from + sent : 0;
    if (from + sent - 1 > this.sentUpTo) this.sentUpTo = from + sent - 1;
  }

  /**
   * Arms the windows after the last block sent, as far as their slab goes, on the socket: each goes
   * out as soon as the client's ACK of the window before it arrives, without waiting for JS (see
   * ConnectedUdpSocket.arm), which hears of them afterwards (answered). Then queues the windows after
   * those (queueNext). In lock-step, the client's wait for each block is then the socket's alone.
   * Nothing is armed while part of a window waits for the kernel, or once the last block is out.
   * Every change to a slab while nothing fires on the socket ends here, so what is armed always
   * holds the bytes it names.
   */
  private armNext(): void {
    const next = this.sentUpTo + 1;
    this.armed = [];
    const slab = this.unsent === 0 && next <= this.lastBlock ? this.load(next) : undefined;
    // Asked again after reading: the file may have turned out shorter.
    if (slab === undefined || next > this.lastBlock) {
      this.socket.disarm();
      return;
    }
    const { steps, sequence } = this.sequence(slab, next);
    this.socket.arm(...sequence);
    this.armed.push({ slab, steps });
    this.armedAck = next - 1;
    this.queueNext();
  }

  /**
   * Reads the windows after those armed into the other slab and queues them on the socket, to go
   * on with when the armed ones are answered (ConnectedUdpSocket.follow): the thread answering the
   * client then never waits for a read. The socket may be answering from the armed slab meanwhile:
   * this touches only the other one, whose windows have all gone out.
   */
  private queueNext(): void {
    const running = this.armed[0];
    if (running === undefined || this.armed.length > 1) return;
    // The block after the armed windows (whole ones, or up to the file's last block).
    const from = this.armedAck + running.steps * this.windowsize + 1;
    if (from > this.lastBlock) return;
    const slab = this.fill(this.spare(running.slab), from);
    // Reading may have found the file shorter, and moved its last block.
    if (from > this.lastBlock) return;
    const { steps, sequence } = this.sequence(slab, from);
    // False: the armed windows were all answered already, and onAnswered will arm these.
    if (this.socket.follow(...sequence)) this.armed.push({ slab, steps });
  }

  /**
   * The windows from block `from` (a window's first) to the end of `slab`, as a sequence of steps
   * for the socket: whole windows only, but for the file's last one. Writes their headers and the
   * ACKs they wait for in the slab.
   */
  private sequence(slab: Slab, from: number): { steps: number; sequence: ArmedSequence } {
    const end = Math.min(slab.first + slab.count - 1, this.lastBlock);
    const w = this.windowsize;
    const steps = end === this.lastBlock ? Math.ceil((end - from + 1) / w) : Math.floor((end - from + 1) / w);
    const upTo = Math.min(from + steps * w - 1, end);
    const run = this.packets(slab, from, upTo);
    for (let i = 0; i < steps; i++) writeTftpAck(slab.acks, from - 1 + i * w, i * 4);
    return {
      steps,
      sequence: [
        slab.acks.subarray(0, steps * 4),
        4,
        w,
        slab.whole,
        run.offset,
        this.blksize + 4,
        run.count,
        run.lastLength,
      ],
    };
  }

  /**
   * The socket answered `steps` ACKs with the windows armed for them, the kernel taking `lastTaken`
   * packets of the last one: the same as if onMessage had.
   */
  private answered(steps: number, lastTaken: number): void {
    const acked = this.armedAck + (steps - 1) * this.windowsize;
    this.armedAck += steps * this.windowsize;
    for (let left = steps; left > 0 && this.armed[0] !== undefined;) {
      const first = this.armed[0];
      const taken = Math.min(left, first.steps);
      first.steps -= taken;
      left -= taken;
      if (first.steps === 0) this.armed.shift();
    }
    this.progress += steps;
    this.retriesLeft = this.retries;
    this.base = acked + 1;
    const count = Math.min(this.windowsize, this.lastBlock - acked);
    this.sent(this.base, count, lastTaken);
  }

  private onMessage(buffer: Buffer, length: number): void {
    if (this.ended) return;
    const wire = readTftpAck(buffer, length);
    if (wire < 0) {
      this.onOtherPacket(buffer.subarray(0, length));
      return;
    }
    // The absolute block the ACK names: the one at or after base - 1 with this number modulo 65536.
    const acked = this.base - 1 + ((wire - (this.base - 1)) & 0xffff);
    if (acked === this.base - 1 || acked > this.sentUpTo) {
      this.ignoredAcks++; // a duplicate or a stray: answering it would double the traffic
      return;
    }
    this.progress++;
    this.retriesLeft = this.retries;
    if (acked >= this.lastBlock) {
      this.finish('info', 'TFTP transfer done', {});
      return;
    }
    // An ACK inside the window: the client missed the block after it, the window restarts there.
    if (acked < this.sentUpTo) this.windowRestarts++;
    this.base = acked + 1;
    this.sendWindow(this.base);
  }

  private onOtherPacket(msg: Buffer): void {
    let packet: TftpPacket;
    try {
      packet = parseTftpPacket(msg);
    } catch {
      return;
    }
    if (packet.op === 'ERROR') {
      this.finish('info', 'TFTP client ended the transfer', { code: packet.code, message: packet.message });
    }
  }

  private onTick(): void {
    if (this.ended) return;
    // The socket answers ACKs on a thread of its own: nothing armed goes out from here until
    // armNext, so what it answered is all counted before the timer decides.
    this.socket.disarm();
    const [steps, lastTaken] = this.socket.takeAnswered();
    if (steps > 0) this.answered(steps, lastTaken);
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      this.armNext();
      return;
    }
    if (this.retriesLeft <= 0) {
      this.sendError(TFTP_ERRORS.NOT_DEFINED, 'timed out');
      this.finish('warn', 'TFTP transfer timed out', {});
      return;
    }
    this.retriesLeft--;
    this.retransmissions++;
    if (this.base === 0 && this.oack !== undefined) this.socket.sendPacket(this.oack);
    else this.sendWindow(this.base);
  }

  sendError(code: number, message: string): void {
    this.socket.sendPacket(errorPacket(code, message));
  }

  /** Ends the transfer, telling the client with an ERROR. */
  abort(message: string): void {
    if (this.ended) return;
    this.sendError(TFTP_ERRORS.NOT_DEFINED, message);
    this.finish('info', 'TFTP transfer stopped', { reason: message });
  }

  private finish(level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    const [polled, caughtPolling] = this.socket.polls();
    this.log.log(level, msg, {
      client: this.key,
      file: this.filename,
      bytes: this.size,
      blksize: this.blksize,
      windowsize: this.windowsize,
      seconds: Number(seconds.toFixed(3)),
      retransmissions: this.retransmissions,
      ignoredAcks: this.ignoredAcks,
      windowRestarts: this.windowRestarts,
      polled,
      caughtPolling,
      ...fields,
    });
    // What was sent (the final ERROR too) is in the kernel already.
    this.socket.close();
    this.handle.close().then(this.resolveDone, this.resolveDone);
  }
}

/** Starts the server; resolves once it listens. */
export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentBootLog;
  const maxBlksize = Math.min(options.maxBlksize ?? TFTP_MAX_BLKSIZE, TFTP_MAX_BLKSIZE);
  const maxWindowsize = Math.min(options.maxWindowsize ?? TFTP_DEFAULT_MAX_WINDOWSIZE, IOV_MAX);
  const defaultTimeoutMs = options.timeoutMs ?? 1000;
  const retries = options.retries ?? 5;
  const maxSessions = options.maxSessions ?? 512;

  checkConnectedUdp();
  let rootReal: string;
  try {
    rootReal = await realpath(options.root);
    if (!(await stat(rootReal)).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new AppError('FILE_NOT_FOUND', `TFTP root ${options.root} is not a directory`, {
      hint: 'create it, or name another with --boot-root',
      cause,
    });
  }

  const transfers = new Map<string, Transfer>();
  /** Transfers being opened, by client: a retransmitted request meanwhile is not a second transfer. */
  const starting = new Map<string, Promise<void>>();
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const listener = dgram.createSocket({ type: family, reuseAddr: false });
  try {
    await bindUdp(listener, { port: options.port ?? 69, address: host });
  } catch (cause) {
    listener.close();
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new AppError('IO_ERROR', `cannot listen for TFTP on ${host}:${options.port ?? 69}: ${code}`, {
      hint:
        code === 'EADDRINUSE'
          ? 'another TFTP server uses that port: stop it or choose --tftp HOST:PORT'
          : 'check --tftp HOST:PORT',
      cause,
    });
  }
  let closed = false;

  async function startTransfer(
    request: Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>,
    client: dgram.RemoteInfo,
  ): Promise<void> {
    const key = `${client.address}:${client.port}`;
    const socket = new ConnectedUdpSocket(host, client.address, client.port);
    const refuse = (code: number, message: string): void => {
      socket.sendPacket(errorPacket(code, message));
      socket.close();
      log.log('info', 'TFTP request refused', { client: key, file: request.filename, code, reason: message });
    };
    if (request.mode.toLowerCase() !== 'octet') {
      refuse(TFTP_ERRORS.ILLEGAL_OPERATION, `mode "${request.mode}" is not served: only octet`);
      return;
    }
    let opened;
    try {
      opened = await openTftpFile(rootReal, request.filename);
    } catch (e) {
      if (e instanceof TftpRefusal) refuse(e.tftpCode, e.message);
      else refuse(TFTP_ERRORS.NOT_DEFINED, 'cannot read the file');
      return;
    }
    if (closed) {
      await opened.handle.close();
      refuse(TFTP_ERRORS.NOT_DEFINED, 'server shutting down');
      return;
    }
    const settings = negotiateTftpRead(request.options, opened.size, {
      maxBlksize,
      maxWindowsize,
      maxWindowBytes: TFTP_MAX_WINDOW_BYTES,
    });
    // Room in the kernel for a whole window queued at once (the kernel caps it at net.core.wmem_max).
    const windowBytes = settings.windowsize * (settings.blksize + 4 + UDP_IP_OVERHEAD);
    try {
      socket.setSendBufferSize(Math.max(2 * windowBytes, MIN_SEND_BUFFER));
    } catch {
      // The default stays: a full buffer only makes the rest of a window wait for onWritable.
    }
    const transfer = new Transfer({
      key,
      socket,
      handle: opened.handle,
      size: opened.size,
      blksize: settings.blksize,
      windowsize: settings.windowsize,
      timeoutMs: settings.timeout === undefined ? defaultTimeoutMs : settings.timeout * 1000,
      retries,
      readAheadBytes: Math.min(READ_AHEAD_BYTES, READ_AHEAD_BUDGET / (2 * (transfers.size + 1))),
      oack:
        settings.oack.length === 0
          ? undefined
          : Buffer.from(serializeTftpPacket({ op: 'OACK', options: settings.oack })),
      log,
      filename: request.filename,
    });
    transfers.set(key, transfer);
    void transfer.done.then(() => transfers.delete(key));
    transfer.start();
  }

  function reply(client: dgram.RemoteInfo, code: number, message: string): void {
    listener.send(errorPacket(code, message), client.port, client.address);
  }

  listener.on('message', (msg, client) => {
    let packet: TftpPacket;
    try {
      packet = parseTftpPacket(msg);
    } catch (e) {
      log.log('debug', 'TFTP packet dropped', {
        client: `${client.address}:${client.port}`,
        error: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    if (packet.op === 'WRQ') {
      reply(client, TFTP_ERRORS.ACCESS_VIOLATION, 'read-only server');
      return;
    }
    if (packet.op !== 'RRQ') {
      if (packet.op !== 'ERROR') reply(client, TFTP_ERRORS.ILLEGAL_OPERATION, 'expected a read request');
      return;
    }
    // A retransmitted request for a transfer already running is not a second transfer.
    const key = `${client.address}:${client.port}`;
    if (transfers.has(key) || starting.has(key)) return;
    if (transfers.size + starting.size >= maxSessions) {
      reply(client, TFTP_ERRORS.NOT_DEFINED, 'too many transfers: try again later');
      return;
    }
    const p = startTransfer(packet, client).catch((e: unknown) => {
      log.log('warn', 'TFTP transfer could not start', { error: e instanceof Error ? e.message : String(e) });
    });
    starting.set(key, p);
    void p.finally(() => starting.delete(key));
  });
  listener.on('error', (e) => log.log('error', 'TFTP listener error', { error: e.message }));

  const address = listener.address();
  log.log('info', 'TFTP server listening', { address: address.address, port: address.port, root: rootReal });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await Promise.all([...starting.values()]);
      const pending = [...transfers.values()].map((t) => {
        t.abort('server shutting down');
        return t.done;
      });
      await Promise.all(pending);
      log.log('info', 'TFTP server stopped', {});
    })();
    return closing;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { address: address.address, port: address.port, sessionCount: () => transfers.size, close };
}
