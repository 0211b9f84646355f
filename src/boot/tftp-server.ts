// A read-only TFTP server for network boot: RFC 1350 transfers with the options of RFC 2347
// (OACK), 2348 (blksize), 2349 (timeout, tsize) and 7440 (windowsize), from one root directory
// (see tftp-path.ts for what may be read). Write requests are refused.
//
// Each transfer has its own UDP socket (RFC 1350 §4: a new transfer identifier), connected to the
// client so that the kernel drops datagrams from anyone else. The hot path — an ACK in, the next
// DATA out — is synchronous, allocates nothing of its own and makes one send syscall a block: file
// data is read ahead with one readv straight into ready-made packets (header written in place),
// and retransmission is driven by one interval timer a session that checks whether anything moved,
// instead of a timer re-armed for every packet. What a block still costs beyond the two syscalls
// is Node's own receive path (a buffer and an address object per datagram, a callback into JS).
// Memory stays bounded: a transfer holds two read-ahead buffers, each the larger of one window
// (at most 256 KiB in flight) and its read-ahead, 32 MiB shared by the transfers running when it
// starts (at most 256 KiB). Block numbers are kept absolute and go on the wire modulo 65536, so
// files past 65535 blocks wrap to 0 as clients expect. An ACK the server has already acted on is
// ignored (the "sorcerer's apprentice" bug of RFC 1350: answering duplicate ACKs doubles every
// packet from then on); a lost packet is resent when the timer finds no progress, up to a retry
// limit.

import dgram from 'node:dgram';
import { readvSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import { negotiateTftpRead } from '../formats/tftp/options.ts';
import {
  TFTP_ERRORS,
  TFTP_MAX_BLKSIZE,
  parseTftpPacket,
  readTftpAck,
  serializeTftpPacket,
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
  /** Largest windowsize agreed (default 64). */
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
/** Bytes read ahead at once (per buffer; a transfer has two): one readv for a few hundred blocks. */
const READ_AHEAD_BYTES = 256 << 10;
/** Read-ahead shared by the transfers running when one starts: with many at once, each reads ahead less. */
const READ_AHEAD_BUDGET = 32 << 20;
/** Bytes the kernel accounts per datagram beyond the payload (headers and buffer bookkeeping), roughly. */
const UDP_IP_OVERHEAD = 512;
/** readv(2) takes at most IOV_MAX (1024 on Linux) buffers. */
const IOV_MAX = 1024;

interface Slab {
  /** Packets of 4 + blksize bytes, one per block, over one allocation. */
  readonly packets: Buffer[];
  /** The data part of each packet (what readv fills). */
  readonly data: Buffer[];
}

function makeSlab(count: number, blksize: number): Slab {
  const whole = Buffer.allocUnsafe(count * (blksize + 4));
  const packets: Buffer[] = [];
  const data: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const p = whole.subarray(i * (blksize + 4), (i + 1) * (blksize + 4));
    packets.push(p);
    data.push(p.subarray(4));
  }
  return { packets, data };
}

function errorPacket(code: number, message: string): Buffer {
  return Buffer.from(serializeTftpPacket({ op: 'ERROR', code, message }));
}

class Transfer {
  readonly key: string;
  private readonly socket: dgram.Socket;
  private readonly handle: FileHandle;
  private readonly fd: number;
  private size: number;
  private readonly blksize: number;
  private readonly windowsize: number;
  private lastBlock: number;
  private readonly slabs: [Slab, Slab];
  private slab: 0 | 1 = 0;
  private slabFirst = 1;
  private slabCount = 0;
  private readonly slabCapacity: number;
  /** Lowest block not yet acknowledged; 0 while the OACK waits for its ACK 0. */
  private base: number;
  /** Highest block sent. */
  private sentUpTo: number;
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
    socket: dgram.Socket;
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
    this.slabCapacity = Math.min(
      IOV_MAX,
      Math.max(args.windowsize, Math.floor(args.readAheadBytes / args.blksize)),
      this.lastBlock,
    );
    this.slabs = [makeSlab(this.slabCapacity, args.blksize), makeSlab(this.slabCapacity, args.blksize)];
    this.oack = args.oack;
    this.base = args.oack === undefined ? 1 : 0;
    // The OACK stands for block 0: its ACK is the first one expected.
    this.sentUpTo = 0;
    this.retries = args.retries;
    this.retriesLeft = args.retries;
    this.log = args.log;
    this.filename = args.filename;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', (e) => this.finish('warn', 'TFTP transfer socket failed', { error: e.message }));
    this.timer = setInterval(() => this.onTick(), args.timeoutMs);
  }

  start(): void {
    if (this.oack !== undefined) this.socket.send(this.oack);
    else this.sendWindow();
  }

  /** Makes blocks [from, from + n) available, reading into the other slab so sends in flight keep theirs. */
  private fill(from: number): void {
    const count = Math.min(this.slabCapacity, this.lastBlock - from + 1);
    const next = this.slab === 0 ? 1 : 0;
    const slab = this.slabs[next];
    const position = (from - 1) * this.blksize;
    const bytes = readvSync(this.fd, slab.data.slice(0, count), position);
    const expected = Math.min(count * this.blksize, this.size - position);
    if (bytes < expected) {
      // The file shrank while being served: end at what is there.
      this.size = position + bytes;
      this.lastBlock = Math.floor(this.size / this.blksize) + 1;
    }
    this.slab = next;
    this.slabFirst = from;
    this.slabCount = Math.min(count, this.lastBlock - from + 1);
  }

  private sendBlock(block: number): void {
    const index = block - this.slabFirst;
    const packet = this.slabs[this.slab].packets[index];
    if (packet === undefined) return;
    writeTftpDataHeader(packet, block);
    // A full block goes as the whole packet buffer: no slice made per send.
    if (block !== this.lastBlock) this.socket.send(packet);
    else this.socket.send(packet, 0, this.size - (block - 1) * this.blksize + 4);
  }

  private sendWindow(): void {
    const last = Math.min(this.base + this.windowsize - 1, this.lastBlock);
    if (this.base < this.slabFirst || last >= this.slabFirst + this.slabCount) this.fill(this.base);
    const end = Math.min(last, this.lastBlock);
    for (let b = this.base; b <= end; b++) this.sendBlock(b);
    if (end > this.sentUpTo) this.sentUpTo = end;
  }

  private onMessage(msg: Buffer): void {
    if (this.ended) return;
    const wire = readTftpAck(msg);
    if (wire < 0) {
      this.onOtherPacket(msg);
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
    this.sendWindow();
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
    if (this.progress !== this.seenProgress) {
      this.seenProgress = this.progress;
      return;
    }
    if (this.retriesLeft <= 0) {
      this.sendError(TFTP_ERRORS.NOT_DEFINED, 'timed out');
      this.finish('warn', 'TFTP transfer timed out', {});
      return;
    }
    this.retriesLeft--;
    this.retransmissions++;
    if (this.base === 0 && this.oack !== undefined) this.socket.send(this.oack);
    else this.sendWindow();
  }

  sendError(code: number, message: string): void {
    this.socket.send(errorPacket(code, message));
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
      ...fields,
    });
    // Close after pending sends (the final ERROR) have gone: dgram closes once its queue drains.
    this.socket.close(() => {
      this.handle.close().then(this.resolveDone, this.resolveDone);
    });
  }
}

function connectSocket(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.connect(port, host, (e?: Error) => (e ? reject(e) : resolve()));
  });
}

/** Starts the server; resolves once it listens. */
export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentBootLog;
  const maxBlksize = Math.min(options.maxBlksize ?? TFTP_MAX_BLKSIZE, TFTP_MAX_BLKSIZE);
  const maxWindowsize = options.maxWindowsize ?? TFTP_DEFAULT_MAX_WINDOWSIZE;
  const defaultTimeoutMs = options.timeoutMs ?? 1000;
  const retries = options.retries ?? 5;
  const maxSessions = options.maxSessions ?? 512;

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
    const socket = dgram.createSocket(family);
    await bindUdp(socket, { port: 0, address: host });
    await connectSocket(socket, client.port, client.address);
    const refuse = (code: number, message: string): void => {
      socket.send(errorPacket(code, message), () => socket.close());
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
    if (windowBytes > socket.getSendBufferSize()) {
      try {
        socket.setSendBufferSize(2 * windowBytes);
      } catch {
        // The default stays: a full buffer only makes a send wait in libuv's queue.
      }
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
      readAheadBytes: Math.min(READ_AHEAD_BYTES, READ_AHEAD_BUDGET / (transfers.size + 1)),
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
