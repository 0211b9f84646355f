// One TFTP read transfer as a pure state machine: (state, event) → (state, actions), no I/O.
// RFC 1350 §2 and §6 (lock-step DATA/ACK, a DATA shorter than blksize ends the transfer, so a file
// of exactly N×blksize ends with an empty block N+1), RFC 2347 §2 (the OACK stands for block 0: the
// client's ACK 0 acknowledges it), RFC 2348 (blksize), RFC 2349 (timeout, tsize; the timeout itself
// is the caller's) and RFC 7440 §4 (windowsize: up to windowsize blocks go out before an ACK; an ACK
// of a block inside the window restarts the window after that block).
//
// Block numbers are absolute here (1, 2, … past 65535); only the wire takes them modulo 65536, and
// an ACK's 16-bit number is read as the one block at or after the last one acknowledged that it can
// name. An ACK of the last block acknowledged again (a duplicate) or of a block never sent is
// ignored: answering a duplicate ACK with a resend is the Sorcerer's Apprentice bug of RFC 1350,
// which doubles every packet from then on. Only a timeout resends.
//
// File data is read ahead into a ring of `ringBlocks` blocks, one read at a time, each of at most
// `readBlocks` blocks: the blocks from the oldest not acknowledged on must stay in the ring, so a
// read never goes further than ringBlocks blocks past it. A client that has never answered gets
// nothing read beyond its first packet (the OACK, or DATA 1), so a request never answered holds at
// most one block of file data.

export interface TftpTransferConfig {
  readonly blksize: number;
  readonly windowsize: number;
  /** The transfer opens with an OACK (options were agreed) instead of DATA 1. */
  readonly oack: boolean;
  /** Timeouts in a row tolerated from a client that has answered, each followed by a resend. */
  readonly retries: number;
  /** Timeouts tolerated from a client that has never answered, counted from the first packet. */
  readonly firstRetries: number;
  /** Blocks the read-ahead ring holds: at least windowsize, or the file's last block. */
  readonly ringBlocks: number;
  /** Blocks read at once at most (at most ringBlocks). */
  readonly readBlocks: number;
}

export type TftpFinish =
  | 'done'
  | 'client error'
  | 'stopped'
  /** A client that had answered went silent. */
  | 'timed out'
  /** A client that never answered the first packet. */
  | 'no answer';

export interface TftpTransferStats {
  readonly retransmissions: number;
  readonly ignoredAcks: number;
  readonly windowRestarts: number;
}

export interface TftpTransferState {
  readonly config: TftpTransferConfig;
  /** The file's size as far as reads have found it (a file cut short while served ends earlier). */
  readonly size: number;
  /** The block that ends the file: the first one shorter than blksize (possibly empty). */
  readonly lastBlock: number;
  /** The oldest block not acknowledged; 0 while the OACK waits for its ACK 0. */
  readonly base: number;
  /** The highest block sent (0: none). */
  readonly sentUpTo: number;
  /** The highest block read into the ring. */
  readonly readUpTo: number;
  /** The highest block asked of the read in progress; readUpTo when none is. */
  readonly readingUpTo: number;
  /** Whether the client has acknowledged anything (the OACK or a block). */
  readonly answered: boolean;
  /** Timeouts since the client last acknowledged something new. */
  readonly timeouts: number;
  readonly finished: TftpFinish | undefined;
  readonly stats: TftpTransferStats;
}

export type TftpTransferEvent =
  /** An ACK from the client, its block number as on the wire (0–65535). */
  | { readonly type: 'ack'; readonly block: number }
  /** An ERROR from the client. */
  | { readonly type: 'error' }
  /** Nothing new acknowledged for the caller's timeout since the last send. */
  | { readonly type: 'timeout' }
  /** The read asked for last has ended with `bytes` bytes (fewer than asked: the file ends there). */
  | { readonly type: 'read'; readonly bytes: number }
  /** The server ends the transfer (shutting down, over a limit), telling the client `message` if given. */
  | { readonly type: 'stop'; readonly message: string | undefined };

export type TftpTransferAction =
  /** Send blocks first..last (absolute; block 0 is the OACK); a resend after a timeout is 'resend'. */
  | { readonly type: 'send' | 'resend'; readonly first: number; readonly last: number }
  /** Read `length` bytes of the file at `position` into the ring, for blocks first..last. */
  | {
      readonly type: 'read';
      readonly first: number;
      readonly last: number;
      readonly position: number;
      readonly length: number;
    }
  /** The transfer is over: send an ERROR with `error` first when given, then let everything go. */
  | { readonly type: 'finish'; readonly outcome: TftpFinish; readonly error: string | undefined };

export interface TftpTransferStep {
  readonly state: TftpTransferState;
  readonly actions: readonly TftpTransferAction[];
}

/** The block that ends a file of `size` bytes: RFC 1350 §6, a file of N×blksize ends with an empty one. */
function lastBlockOf(size: number, blksize: number): number {
  return Math.floor(size / blksize) + 1;
}

/** The bytes of DATA block `block` (1 … lastBlock) in the file as `state` knows it. */
export function tftpBlockLength(state: TftpTransferState, block: number): number {
  const { blksize } = state.config;
  return block < state.lastBlock ? blksize : state.size - (state.lastBlock - 1) * blksize;
}

/** The ring slot of block `block` (1-based blocks, 0-based slots). */
export function tftpRingSlot(config: TftpTransferConfig, block: number): number {
  return (block - 1) % config.ringBlocks;
}

/** The last block of the window that starts at `state.base`. */
function windowEnd(state: TftpTransferState): number {
  return Math.min(state.base + state.config.windowsize - 1, state.lastBlock);
}

/** Sends what the window still lacks from the ring, then asks for the next read if there is room. */
function advance(state: TftpTransferState, actions: TftpTransferAction[]): TftpTransferState {
  let next = state;
  if (next.base >= 1) {
    const upTo = Math.min(windowEnd(next), next.readUpTo);
    if (upTo > next.sentUpTo) {
      actions.push({ type: 'send', first: next.sentUpTo + 1, last: upTo });
      next = { ...next, sentUpTo: upTo };
    }
  }
  return readAhead(next, actions);
}

/** Asks for the next read when none is under way and the ring has room for it. */
function readAhead(state: TftpTransferState, actions: TftpTransferAction[]): TftpTransferState {
  const { config } = state;
  if (state.readingUpTo !== state.readUpTo || state.readUpTo >= state.lastBlock) return state;
  const first = state.readUpTo + 1;
  // Before any answer, only the first packet: DATA 1 (nothing with an OACK, which needs no data).
  const limit = state.answered ? Math.max(state.base, 1) + config.ringBlocks - 1 : config.oack ? 0 : 1;
  const last = Math.min(first + config.readBlocks - 1, state.lastBlock, limit);
  if (last < first) return state;
  // A read smaller than a whole one waits for room, unless the window is waiting for it.
  const needed = state.base >= 1 && first <= windowEnd(state);
  if (!needed && last - first + 1 < Math.min(config.readBlocks, state.lastBlock - first + 1)) return state;
  const position = (first - 1) * config.blksize;
  const length = Math.min((last - first + 1) * config.blksize, state.size - position);
  actions.push({ type: 'read', first, last, position, length });
  return { ...state, readingUpTo: last };
}

function finish(state: TftpTransferState, outcome: TftpFinish, error: string | undefined): TftpTransferStep {
  return { state: { ...state, finished: outcome }, actions: [{ type: 'finish', outcome, error }] };
}

/** A transfer of a file of `size` bytes: its first state and actions (the OACK, or the read of DATA 1). */
export function startTftpTransfer(config: TftpTransferConfig, size: number): TftpTransferStep {
  const lastBlock = lastBlockOf(size, config.blksize);
  const state: TftpTransferState = {
    config,
    size,
    lastBlock,
    base: config.oack ? 0 : 1,
    sentUpTo: 0,
    readUpTo: 0,
    readingUpTo: 0,
    answered: false,
    timeouts: 0,
    finished: undefined,
    stats: { retransmissions: 0, ignoredAcks: 0, windowRestarts: 0 },
  };
  const actions: TftpTransferAction[] = config.oack ? [{ type: 'send', first: 0, last: 0 }] : [];
  return { state: readAhead(state, actions), actions };
}

function onAck(state: TftpTransferState, wire: number): TftpTransferStep {
  // The block at or after the last one acknowledged (base - 1) whose number modulo 65536 is `wire`.
  const acked = state.base - 1 + ((wire - (state.base - 1)) & 0xffff);
  if (acked === state.base - 1 || acked > state.sentUpTo) {
    const stats = { ...state.stats, ignoredAcks: state.stats.ignoredAcks + 1 };
    return { state: { ...state, stats }, actions: [] };
  }
  if (acked >= state.lastBlock) return finish(state, 'done', undefined);
  const inside = acked < state.sentUpTo;
  const stats = inside ? { ...state.stats, windowRestarts: state.stats.windowRestarts + 1 } : state.stats;
  const actions: TftpTransferAction[] = [];
  // An ACK inside the window: the client missed the block after it, and the window restarts there.
  const moved = { ...state, base: acked + 1, sentUpTo: acked, answered: true, timeouts: 0, stats };
  return { state: advance(moved, actions), actions };
}

function onTimeout(state: TftpTransferState): TftpTransferStep {
  // Nothing in flight: the window waits for a read, not for the client.
  if (state.sentUpTo < state.base) return { state, actions: [] };
  const timeouts = state.timeouts + 1;
  if (!state.answered && timeouts > state.config.firstRetries) return finish(state, 'no answer', undefined);
  if (timeouts > state.config.retries) return finish(state, 'timed out', 'timed out');
  const stats = { ...state.stats, retransmissions: state.stats.retransmissions + 1 };
  return {
    state: { ...state, timeouts, stats },
    actions: [{ type: 'resend', first: state.base, last: state.sentUpTo }],
  };
}

function onRead(state: TftpTransferState, bytes: number): TftpTransferStep {
  const { blksize } = state.config;
  const first = state.readUpTo + 1;
  const position = (first - 1) * blksize;
  const asked = Math.min((state.readingUpTo - first + 1) * blksize, state.size - position);
  let next: TftpTransferState = { ...state, readUpTo: state.readingUpTo };
  if (bytes < asked) {
    // The file was cut short while served: it ends where the read ended.
    const size = position + bytes;
    const lastBlock = lastBlockOf(size, blksize);
    next = { ...next, size, lastBlock, readUpTo: lastBlock, readingUpTo: lastBlock };
  }
  const actions: TftpTransferAction[] = [];
  return { state: advance(next, actions), actions };
}

/** The transfer's next state and what to do, given what happened. A finished transfer ignores everything. */
export function stepTftpTransfer(state: TftpTransferState, event: TftpTransferEvent): TftpTransferStep {
  if (state.finished !== undefined) return { state, actions: [] };
  switch (event.type) {
    case 'ack':
      return onAck(state, event.block);
    case 'error':
      return finish(state, 'client error', undefined);
    case 'timeout':
      return onTimeout(state);
    case 'read':
      return onRead(state, event.bytes);
    case 'stop':
      return finish(state, 'stopped', event.message);
  }
}
