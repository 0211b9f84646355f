// A read-only TFTP server for network boot: RFC 1350 transfers with the options of RFC 2347
// (OACK), 2348 (blksize), 2349 (timeout, tsize) and 7440 (windowsize), from one root directory
// (see tftp-path.ts for what may be read). Write requests are refused.
//
// Requests arrive on one node:dgram socket. Each transfer then has a socket of its own, connected to
// the client (RFC 1350 §4: a new transfer identifier), run by a TftpSession (tftp-session.ts) around
// the pure state machine of tftp-transfer.ts. Which requests are taken on is tftp-admission.ts's:
// transfers whose client has answered are counted apart from those whose client never has, so that
// requests from anyone (forged addresses included) cannot hold the server against real clients;
// one address holds a few transfers at most. A client that never answers gets its first packet a
// few times a timeout of the server's apart, whatever timeout it asked for, and is then let go:
// an unanswered request lives a few seconds. A timeout option above the server's maximum is refused.
// Memory is bounded: an unanswered transfer holds one block of file data at most, an answered one
// a read-ahead of two reads of at least a window each, and each pool has its limit.

import dgram from 'node:dgram';
import { realpath, stat } from 'node:fs/promises';
import { AppError, errorText } from '../core/errors.ts';
import { negotiateTftpRead } from '../formats/tftp/options.ts';
import {
  TFTP_ERRORS,
  TFTP_MAX_BLKSIZE,
  parseTftpPacket,
  serializeTftpPacket,
  type TftpPacket,
} from '../formats/tftp/tftp.ts';
import { silentBootLog, type BootLog } from './boot-log.ts';
import { TftpAdmission } from './tftp-admission.ts';
import { TftpRefusal, bytesSource, openTftpFile, tftpPathSegments, type TftpMadeFiles } from './tftp-path.ts';
import { TftpSession, tftpErrorPacket } from './tftp-session.ts';
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
  /**
   * Retransmission timeout (default 1000 ms): of the first packet always, and of the others when the
   * client asks for no timeout option.
   */
  readonly timeoutMs?: number;
  /** Largest timeout option accepted, in seconds (default 5); a larger one is refused. */
  readonly maxTimeoutSeconds?: number;
  /** Retransmissions of one window to a client that has answered, before giving up (default 5). */
  readonly retries?: number;
  /** Retransmissions of the first packet to a client that never answers, before letting it go (default 2). */
  readonly firstRetries?: number;
  /** Transfers at once whose client has answered; more are refused with an error (default 512). */
  readonly maxSessions?: number;
  /** Transfers at once whose client has not answered yet; past it the oldest is let go (default 256). */
  readonly maxUnanswered?: number;
  /** Transfers at once from one client address; more are refused with an error (default 8). */
  readonly maxPerAddress?: number;
  /** Files made up on request (asked first; null: the file of the root is served). */
  readonly madeFiles?: TftpMadeFiles;
}

export interface TftpServer {
  readonly address: string;
  readonly port: number;
  /** Transfers held, answered or not (those whose file is being opened included). */
  sessionCount(): number;
  /** Stops listening, ends every transfer (the client gets an ERROR) and waits until all is closed. */
  close(): Promise<void>;
}

/**
 * Window sizes above this bring little (RFC 7440 §4 measurements flatten out well before) and cost
 * a read-ahead of at least two windows per transfer.
 */
export const TFTP_DEFAULT_MAX_WINDOWSIZE = 64;
/**
 * Bytes in flight in one window at most (windowsize × blksize): with large blocks the windowsize
 * agreed is lowered to stay under this (64 blocks of 4 KiB; 178 of 1468 bytes, more than the
 * default maximum windowsize).
 */
export const TFTP_MAX_WINDOW_BYTES = 256 << 10;
/** The timeout option accepted at most by default, in seconds: a client asking for more is refused it. */
export const TFTP_DEFAULT_MAX_TIMEOUT = 5;
/** Transfers from one client address by default: a machine boots with one or two at a time. */
export const TFTP_DEFAULT_MAX_PER_ADDRESS = 8;
/** Bytes read at once at least: one read for many small blocks, each read a trip to libuv's threadpool. */
const READ_BYTES = 64 << 10;
/** The send buffer asked for at least (the kernel caps it at net.core.wmem_max). */
const MIN_SEND_BUFFER = 256 << 10;
/** Bytes the kernel accounts per datagram beyond the payload (headers and buffer bookkeeping), roughly. */
const UDP_IP_OVERHEAD = 512;

/** A socket of the listener's family bound to `host` and connected to the client. */
async function transferSocket(
  family: 'udp4' | 'udp6',
  host: string,
  client: dgram.RemoteInfo,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: family });
  try {
    await bindUdp(socket, { port: 0, address: host });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(client.port, client.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    socket.close();
    throw e;
  }
  return socket;
}

/** Starts the server; resolves once it listens. */
export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentBootLog;
  const maxBlksize = Math.min(options.maxBlksize ?? TFTP_MAX_BLKSIZE, TFTP_MAX_BLKSIZE);
  const maxWindowsize = options.maxWindowsize ?? TFTP_DEFAULT_MAX_WINDOWSIZE;
  const maxTimeout = options.maxTimeoutSeconds ?? TFTP_DEFAULT_MAX_TIMEOUT;
  const defaultTimeoutMs = options.timeoutMs ?? 1000;
  const retries = options.retries ?? 5;
  const firstRetries = options.firstRetries ?? 2;
  const admission = new TftpAdmission({
    maxAnswered: options.maxSessions ?? 512,
    maxUnanswered: options.maxUnanswered ?? 256,
    maxPerAddress: options.maxPerAddress ?? TFTP_DEFAULT_MAX_PER_ADDRESS,
  });

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

  /** A transfer held: being opened (file, socket), then running. */
  interface Held {
    session: TftpSession | undefined;
    /** Let go while being opened: a newer request took its place, or the server is closing. */
    cancelled: boolean;
    started: Promise<void>;
  }
  /** The transfers held, by client address and port (as the admission knows them). */
  const held = new Map<string, Held>();
  /** Lets `entry` go from the books, unless a newer transfer of the same client took its place. */
  const forget = (key: string, entry: Held): void => {
    if (held.get(key) !== entry) return;
    held.delete(key);
    admission.release(key);
  };
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

  /** Answers `client` from the listening port, holding nothing. */
  function reply(client: dgram.RemoteInfo, code: number, message: string): void {
    if (!closed) listener.send(tftpErrorPacket(code, message), client.port, client.address);
  }

  function refuse(client: dgram.RemoteInfo, file: string, code: number, message: string): void {
    reply(client, code, message);
    log.log('info', 'TFTP request refused', {
      client: `${client.address}:${client.port}`,
      file,
      code,
      reason: message,
    });
  }

  async function startTransfer(
    key: string,
    entry: Held,
    request: Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>,
    client: dgram.RemoteInfo,
  ): Promise<void> {
    if (request.mode.toLowerCase() !== 'octet') {
      refuse(
        client,
        request.filename,
        TFTP_ERRORS.ILLEGAL_OPERATION,
        `mode "${request.mode}" is not served: only octet`,
      );
      return;
    }
    let opened;
    try {
      const made = await options.madeFiles?.(tftpPathSegments(request.filename).join('/'), client.address);
      opened =
        made === undefined || made === null
          ? await openTftpFile(rootReal, request.filename)
          : { handle: bytesSource(made), size: made.byteLength };
    } catch (e) {
      if (e instanceof TftpRefusal) refuse(client, request.filename, e.tftpCode, e.message);
      else refuse(client, request.filename, TFTP_ERRORS.NOT_DEFINED, 'cannot read the file');
      return;
    }
    let socket: dgram.Socket | undefined;
    try {
      socket = await transferSocket(family, host, client);
    } catch (e) {
      log.log('warn', 'TFTP transfer could not start', {
        client: key,
        error: errorText(e),
      });
    }
    if (socket === undefined || closed || entry.cancelled) {
      socket?.close();
      await opened.handle.close();
      return;
    }
    const settings = negotiateTftpRead(request.options, opened.size, {
      maxBlksize,
      maxWindowsize,
      maxWindowBytes: TFTP_MAX_WINDOW_BYTES,
      maxTimeout,
    });
    const { blksize, windowsize } = settings;
    // Room in the kernel for a whole window queued at once (the kernel caps it at net.core.wmem_max).
    try {
      socket.setSendBufferSize(Math.max(2 * windowsize * (blksize + 4 + UDP_IP_OVERHEAD), MIN_SEND_BUFFER));
    } catch {
      // The default stays: a full buffer only queues the rest of a window in libuv.
    }
    // Two reads of at least a window each, or the whole file when it is smaller.
    const readBlocks = Math.max(windowsize, Math.ceil(READ_BYTES / blksize));
    const ringBlocks = Math.min(2 * readBlocks, Math.floor(opened.size / blksize) + 1);
    const session = new TftpSession({
      socket,
      handle: opened.handle,
      size: opened.size,
      config: {
        blksize,
        windowsize,
        oack: settings.oack.length > 0,
        retries,
        firstRetries,
        ringBlocks,
        readBlocks: Math.min(readBlocks, ringBlocks),
      },
      oack:
        settings.oack.length > 0 ? serializeTftpPacket({ op: 'OACK', options: settings.oack }) : undefined,
      firstTimeoutMs: defaultTimeoutMs,
      timeoutMs: settings.timeout === undefined ? defaultTimeoutMs : settings.timeout * 1000,
      onAnswered: () => admission.answer(key),
      log,
      client: key,
      filename: request.filename,
    });
    entry.session = session;
    void session.done.then(() => forget(key, entry));
    session.start();
  }

  listener.on('message', (msg, client) => {
    log.count?.({ counter: 'tftp-request' });
    let packet: TftpPacket;
    try {
      packet = parseTftpPacket(msg);
    } catch (e) {
      log.log('debug', 'TFTP packet dropped', {
        client: `${client.address}:${client.port}`,
        error: errorText(e),
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
    if (closed) return;
    const key = `${client.address}:${client.port}`;
    const verdict = admission.request(key, client.address);
    if (!verdict.admit) {
      if (verdict.refusal !== undefined)
        refuse(client, packet.filename, TFTP_ERRORS.NOT_DEFINED, verdict.refusal);
      return;
    }
    if (verdict.evicted !== undefined) {
      const old = held.get(verdict.evicted);
      held.delete(verdict.evicted);
      if (old !== undefined) {
        old.cancelled = true;
        old.session?.stop(undefined);
      }
    }
    const entry: Held = { session: undefined, cancelled: false, started: Promise.resolve() };
    held.set(key, entry);
    entry.started = startTransfer(key, entry, packet, client)
      .catch((e: unknown) => {
        log.log('warn', 'TFTP transfer could not start', {
          client: key,
          error: errorText(e),
        });
      })
      .finally(() => {
        if (entry.session === undefined) forget(key, entry);
      });
  });
  listener.on('error', (e) => log.log('error', 'TFTP listener error', { error: e.message }));

  const address = listener.address();
  log.log('info', 'TFTP server listening', { address: address.address, port: address.port, root: rootReal });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await Promise.all([...held.values()].map((entry) => entry.started));
      const running = [...held.values()].flatMap((entry) => entry.session ?? []);
      for (const session of running) session.stop('server shutting down');
      await Promise.all(running.map((session) => session.done));
      log.log('info', 'TFTP server stopped', {});
    })();
    return closing;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }
  return {
    address: address.address,
    port: address.port,
    sessionCount: () => held.size,
    close,
  };
}
