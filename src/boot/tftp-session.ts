// One TFTP read transfer on the wire: the thin loop around the state machine of tftp-transfer.ts.
// It owns a node:dgram socket connect()ed to the client (RFC 1350 §4: the transfer's own TID; the
// kernel drops datagrams from anyone else), the file's handle, a ring of file data read ahead and one
// timer, and does what the machine says: sends DATA (RFC 1350 §5, block numbers modulo 65536) or the
// OACK (RFC 2347), reads with FileHandle.read (asynchronous: the event loop never waits on the
// disk), and ends. Everything it hears (an ACK, an ERROR, the timer, a read done) goes back to the
// machine as an event.
//
// Each packet goes out as two pieces, the 4-byte DATA header and the block's bytes in the ring, with
// one send and no copy. A block's slot in the ring (and its header's) is written again only once the
// client has acknowledged it, so a packet the kernel has not taken yet keeps its bytes.
// The timer runs from the last send: the first packet's timeout is the server's own (a client that
// never answers gets no more time for asking for a long timeout, RFC 2349), then the timeout agreed.

import type dgram from 'node:dgram';
import type { FileHandle } from 'node:fs/promises';
import { TFTP_ERRORS, readTftpAck, serializeTftpPacket, writeTftpDataHeader } from '../formats/tftp/tftp.ts';
import type { BootLog } from './boot-log.ts';
import {
  startTftpTransfer,
  stepTftpTransfer,
  tftpBlockLength,
  tftpRingSlot,
  type TftpFinish,
  type TftpTransferAction,
  type TftpTransferConfig,
  type TftpTransferEvent,
  type TftpTransferState,
} from './tftp-transfer.ts';
import { errorText } from '../core/errors.ts';

/** What a transfer reads from: an opened file (FileHandle has this shape), or bytes in memory. */
export type TftpSource = Pick<FileHandle, 'read' | 'close'>;

export interface TftpSessionOptions {
  /** Bound and connected to the client. The session closes it. */
  readonly socket: dgram.Socket;
  /** The file served (a regular file, or bytes made up: tftp-path.ts). The session closes it. */
  readonly handle: TftpSource;
  readonly size: number;
  readonly config: TftpTransferConfig;
  /** The OACK's bytes, when options were agreed (config.oack). */
  readonly oack: Uint8Array | undefined;
  /** Retransmission timeout until the client's first answer. */
  readonly firstTimeoutMs: number;
  /** Retransmission timeout once it has answered. */
  readonly timeoutMs: number;
  /** The client's first answer: false ends the transfer (the server holds too many). */
  readonly onAnswered: () => boolean;
  readonly log: BootLog;
  readonly client: string;
  readonly filename: string;
}

const FINISH_LOG: Readonly<Record<TftpFinish, readonly ['debug' | 'info' | 'warn', string]>> = {
  done: ['info', 'TFTP transfer done'],
  'client error': ['info', 'TFTP client ended the transfer'],
  stopped: ['info', 'TFTP transfer stopped'],
  'timed out': ['warn', 'TFTP transfer timed out'],
  'no answer': ['debug', 'TFTP request never answered'],
};

export function tftpErrorPacket(code: number, message: string): Uint8Array {
  return serializeTftpPacket({ op: 'ERROR', code, message });
}

export class TftpSession {
  private readonly options: TftpSessionOptions;
  private readonly socket: dgram.Socket;
  private state: TftpTransferState;
  private readonly pending: readonly TftpTransferAction[];
  /**
   * File data read ahead: config.ringBlocks slots of blksize bytes, allocated at the first read once
   * the client has answered; before that, one slot for DATA 1.
   */
  private ring: Buffer = Buffer.alloc(0);
  /** The DATA header of the block in each slot. */
  private headers: Buffer = Buffer.alloc(0);
  /** Each slot's packet as send() takes it: its header and its whole block. */
  private packets: (readonly [Buffer, Buffer])[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private readonly started = process.hrtime.bigint();
  /** Packets sent and received by this transfer's socket, for the server's metrics. */
  private sent = 0;
  private received = 0;
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;

  constructor(options: TftpSessionOptions) {
    this.options = options;
    this.socket = options.socket;
    const first = startTftpTransfer(options.config, options.size);
    this.state = first.state;
    this.pending = first.actions;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.socket.on('message', (msg) => this.onDatagram(msg));
    this.socket.on('error', (e) => {
      options.log.log('debug', 'TFTP transfer socket failed', { client: options.client, error: e.message });
      this.apply({ type: 'stop', message: undefined });
    });
  }

  start(): void {
    this.arm();
    this.run(this.pending);
  }

  /** Ends the transfer, telling the client `message` (nothing when undefined). */
  stop(message: string | undefined): void {
    this.apply({ type: 'stop', message });
  }

  private apply(event: TftpTransferEvent): void {
    let step = stepTftpTransfer(this.state, event);
    if (!this.state.answered && step.state.answered && !this.options.onAnswered()) {
      step = stepTftpTransfer(this.state, { type: 'stop', message: 'too many transfers: try again later' });
    }
    this.state = step.state;
    this.run(step.actions);
  }

  private run(actions: readonly TftpTransferAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
        case 'resend':
          for (let block = action.first; block <= action.last; block++) this.send(block);
          this.arm();
          break;
        case 'read':
          this.read(action.first, action.position, action.length);
          break;
        case 'finish':
          this.finish(action.outcome, action.error);
          break;
      }
    }
  }

  private send(block: number): void {
    this.sent++;
    if (block === 0) {
      if (this.options.oack !== undefined) this.socket.send(this.options.oack);
      return;
    }
    const slot = tftpRingSlot(this.options.config, block);
    writeTftpDataHeader(this.headers, block, slot * 4);
    const length = tftpBlockLength(this.state, block);
    const packet = this.packets[slot];
    if (packet === undefined) return;
    if (length === this.options.config.blksize) this.socket.send(packet);
    else this.socket.send([packet[0], packet[1].subarray(0, length)]);
  }

  /** (Re)starts the one timer: it fires when nothing new is acknowledged for the current timeout. */
  private arm(): void {
    const ms = this.state.answered ? this.options.timeoutMs : this.options.firstTimeoutMs;
    if (this.timer !== undefined && ms === this.timerMs) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(() => {
      this.apply({ type: 'timeout' });
      if (this.state.finished === undefined) this.arm();
    }, ms);
  }

  /** A ring of `blocks` slots (block 1's slot is slot 0 in any of them). */
  private allocateRing(blocks: number): void {
    const { blksize } = this.options.config;
    this.ring = Buffer.allocUnsafe(blocks * blksize);
    this.headers = Buffer.alloc(blocks * 4);
    this.packets = Array.from(
      { length: blocks },
      (_, slot) =>
        [
          this.headers.subarray(slot * 4, slot * 4 + 4),
          this.ring.subarray(slot * blksize, (slot + 1) * blksize),
        ] as const,
    );
  }

  /** Reads `length` bytes at `position` into the ring from block `first`'s slot on (wrapping round). */
  private read(first: number, position: number, length: number): void {
    // Grown once the client has answered: the block read before (DATA 1) is acknowledged by then.
    const blocks = this.state.answered ? this.options.config.ringBlocks : 1;
    if (this.ring.length < blocks * this.options.config.blksize) this.allocateRing(blocks);
    const start = tftpRingSlot(this.options.config, first) * this.options.config.blksize;
    const fill = async (): Promise<number> => {
      let done = 0;
      while (done < length) {
        const at = (start + done) % this.ring.length;
        const { bytesRead } = await this.options.handle.read(
          this.ring,
          at,
          Math.min(length - done, this.ring.length - at),
          position + done,
        );
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    };
    fill().then(
      (bytes) => this.apply({ type: 'read', bytes }),
      (e: unknown) => {
        this.options.log.log('warn', 'TFTP file read failed', {
          client: this.options.client,
          file: this.options.filename,
          error: errorText(e),
        });
        this.stop('cannot read the file');
      },
    );
  }

  private onDatagram(msg: Buffer): void {
    this.received++;
    const block = readTftpAck(msg);
    if (block >= 0) this.apply({ type: 'ack', block });
    // An ERROR from the client (opcode 5) ends the transfer; anything else is not for a server.
    else if (msg.length >= 4 && msg[0] === 0 && msg[1] === 5) this.apply({ type: 'error' });
  }

  private finish(outcome: TftpFinish, error: string | undefined): void {
    clearTimeout(this.timer);
    const { config, log, client, filename } = this.options;
    const [level, msg] = FINISH_LOG[outcome];
    // A transfer let go without a word (its client never answered, and a newer request took its place).
    const quiet = outcome === 'stopped' && error === undefined;
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    log.log(quiet ? 'debug' : level, msg, {
      client,
      file: filename,
      bytes: this.state.size,
      blksize: config.blksize,
      windowsize: config.windowsize,
      seconds: Number(seconds.toFixed(3)),
      ...this.state.stats,
      ...(outcome === 'stopped' ? { reason: error ?? 'let go unanswered' } : {}),
    });
    log.count?.({
      counter: 'tftp-transfer',
      outcome,
      bytes: this.state.size,
      sent: this.sent,
      received: this.received,
    });
    const closed = new Promise<void>((resolve) => {
      const close = (): void => {
        this.socket.close(() => resolve());
      };
      if (error === undefined) close();
      else this.socket.send(tftpErrorPacket(TFTP_ERRORS.NOT_DEFINED, error), close);
    });
    // A read under way ends before the handle closes (FileHandle.close waits for it).
    const released = this.options.handle.close().catch(() => undefined);
    void Promise.all([closed, released]).then(this.resolveDone);
  }
}
