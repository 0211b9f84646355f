import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiateTftpRead } from '../formats/tftp/options.ts';
import {
  startTftpTransfer,
  stepTftpTransfer,
  tftpBlockLength,
  tftpRingSlot,
  type TftpTransferAction,
  type TftpTransferConfig,
  type TftpTransferEvent,
  type TftpTransferState,
} from './tftp-transfer.ts';

const lockStep: TftpTransferConfig = {
  blksize: 512,
  windowsize: 1,
  oack: false,
  retries: 3,
  firstRetries: 2,
  ringBlocks: 8,
  readBlocks: 4,
};
const windowed: TftpTransferConfig = {
  ...lockStep,
  windowsize: 4,
  oack: true,
  ringBlocks: 16,
  readBlocks: 8,
};

/** A transfer driven event by event, keeping every action in order. */
class Driver {
  state: TftpTransferState;
  readonly log: TftpTransferAction[] = [];
  /** The last read asked for. */
  private reading: TftpTransferAction | undefined;
  constructor(config: TftpTransferConfig, size: number) {
    const { state, actions } = startTftpTransfer(config, size);
    this.state = state;
    this.keep(actions);
  }
  private keep(actions: readonly TftpTransferAction[]): void {
    this.log.push(...actions);
    this.reading = actions.findLast((a) => a.type === 'read') ?? this.reading;
  }
  /** The actions of one event. */
  on(event: TftpTransferEvent): TftpTransferAction[] {
    const { state, actions } = stepTftpTransfer(this.state, event);
    this.state = state;
    this.keep(actions);
    return [...actions];
  }
  ack(block: number): TftpTransferAction[] {
    return this.on({ type: 'ack', block: block & 0xffff });
  }
  /** Completes the read in progress in full; its actions. */
  read(): TftpTransferAction[] {
    const pending = this.reading;
    assert.ok(pending?.type === 'read', 'a read was asked for');
    return this.on({ type: 'read', bytes: pending.length });
  }
}

const send = (first: number, last: number): TftpTransferAction => ({ type: 'send', first, last });
const resend = (first: number, last: number): TftpTransferAction => ({ type: 'resend', first, last });

test('lock-step: the read of block 1, DATA 1, then one block an ACK', () => {
  const d = new Driver(lockStep, 1500);
  assert.deepEqual(d.log, [{ type: 'read', first: 1, last: 1, position: 0, length: 512 }]);
  assert.deepEqual(d.read(), [send(1, 1)]);
  // The first answer: the rest is read ahead (up to 4 blocks a read), then goes out block by block.
  assert.deepEqual(d.ack(1), [{ type: 'read', first: 2, last: 3, position: 512, length: 988 }]);
  assert.deepEqual(d.read(), [send(2, 2)]);
  assert.deepEqual(d.ack(2), [send(3, 3)]);
  assert.equal(tftpBlockLength(d.state, 3), 476);
  assert.deepEqual(d.ack(3), [{ type: 'finish', outcome: 'done', error: undefined }]);
});

test('block numbers wrap past 65535: ACKs are read as the blocks they name after the last one acknowledged', () => {
  // 70,000 blocks of 8 bytes and a last one of 3: the ACKs of blocks 65,536 on are 0, 1, …
  const config = { ...lockStep, blksize: 8, windowsize: 16, oack: true, ringBlocks: 64, readBlocks: 32 };
  const d = new Driver(config, 8 * 70_000 + 3);
  assert.equal(d.state.lastBlock, 70_001);
  d.ack(0);
  const sent: number[] = [];
  let outcome: string | undefined;
  for (let i = 0; i < 100_000 && outcome === undefined; i++) {
    const pending = d.log.length;
    if (d.state.readingUpTo > d.state.readUpTo) d.read();
    for (const a of d.log.slice(pending))
      if (a.type === 'send') for (let b = a.first; b <= a.last; b++) sent.push(b);
    if (d.state.sentUpTo >= d.state.base) {
      for (const a of d.ack(d.state.sentUpTo)) {
        if (a.type === 'send') for (let b = a.first; b <= a.last; b++) sent.push(b);
        if (a.type === 'finish') outcome = a.outcome;
      }
    }
  }
  assert.equal(outcome, 'done');
  assert.equal(sent.length, 70_001);
  assert.ok(
    sent.every((b, i) => b === i + 1),
    'every block once, in order',
  );
  assert.equal(d.state.stats.ignoredAcks, 0);
  assert.equal(tftpBlockLength(d.state, 70_001), 3);
  assert.equal(tftpRingSlot(config, 65_537), 0);
});

test('an ACK after the wrap that names an old block is a duplicate, not a jump back', () => {
  const config = { ...lockStep, blksize: 8, ringBlocks: 4, readBlocks: 2 };
  const d = new Driver(config, 8 * 70_000);
  d.read();
  for (let b = 1; b <= 65_540; b++) {
    d.ack(b);
    if (d.state.readingUpTo > d.state.readUpTo) d.read();
  }
  assert.equal(d.state.base, 65_541);
  assert.equal(d.state.sentUpTo, 65_541);
  // 65,540 modulo 65,536 is 4: block 4 again would be a jump back; it is the duplicate of 65,540.
  assert.deepEqual(d.ack(4), []);
  assert.equal(d.state.stats.ignoredAcks, 1);
  assert.deepEqual(d.ack(65_541)[0], send(65_542, 65_542));
});

test('a file of 0 bytes is one empty DATA block', () => {
  const d = new Driver(lockStep, 0);
  assert.equal(d.state.lastBlock, 1);
  assert.deepEqual(d.log, [{ type: 'read', first: 1, last: 1, position: 0, length: 0 }]);
  assert.deepEqual(d.read(), [send(1, 1)]);
  assert.equal(tftpBlockLength(d.state, 1), 0);
  assert.deepEqual(d.ack(1), [{ type: 'finish', outcome: 'done', error: undefined }]);
});

test('a file of exactly N×blksize ends with an empty DATA block', () => {
  const d = new Driver(windowed, 3 * 512);
  assert.equal(d.state.lastBlock, 4);
  d.ack(0);
  assert.deepEqual(d.read(), [send(1, 4)]);
  assert.equal(tftpBlockLength(d.state, 3), 512);
  assert.equal(tftpBlockLength(d.state, 4), 0);
  // An ACK of block 3 is not the end: block 4, the empty one, is.
  assert.deepEqual(d.ack(3), [send(4, 4)]);
  assert.deepEqual(d.ack(4), [{ type: 'finish', outcome: 'done', error: undefined }]);
});

test('duplicate ACKs never cause a resend (no Sorcerer’s Apprentice)', () => {
  const d = new Driver(lockStep, 4000);
  d.read();
  d.ack(1);
  d.read();
  assert.deepEqual(d.ack(2), [send(3, 3)]);
  for (let i = 0; i < 5; i++) assert.deepEqual(d.ack(2), [], 'a duplicate ACK 2');
  assert.deepEqual(d.ack(1), [], 'an older ACK');
  assert.equal(d.state.stats.ignoredAcks, 6);
  assert.equal(d.state.stats.retransmissions, 0);
  assert.deepEqual(d.ack(3), [send(4, 4)]);
});

test('an ACK inside a window restarts the window after that block (RFC 7440)', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  assert.deepEqual(d.read()[0], send(1, 4));
  d.read();
  // Block 3 lost: the client acknowledges 2, and the window restarts at 3.
  assert.deepEqual(d.ack(2), [send(3, 6)]);
  assert.equal(d.state.stats.windowRestarts, 1);
  assert.equal(d.state.base, 3);
  assert.deepEqual(d.ack(6)[0], send(7, 10));
});

test('an ACK of a block never sent is ignored', () => {
  const d = new Driver(windowed, 20 * 512);
  assert.deepEqual(d.ack(1), [], 'before the OACK is acknowledged');
  d.ack(0);
  d.read();
  assert.deepEqual(d.ack(5), []);
  assert.deepEqual(d.ack(40_000), []);
  assert.equal(d.state.stats.ignoredAcks, 3);
  assert.equal(d.state.base, 1);
});

test('a timeout resends the window sent so far, up to the retries, then gives up with an ERROR', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  d.read();
  d.ack(4);
  for (let i = 0; i < 3; i++) assert.deepEqual(d.on({ type: 'timeout' }), [resend(5, 8)]);
  assert.equal(d.state.stats.retransmissions, 3);
  assert.deepEqual(d.on({ type: 'timeout' }), [{ type: 'finish', outcome: 'timed out', error: 'timed out' }]);
});

test('an ACK that moves on gives the retries back', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  d.read();
  d.on({ type: 'timeout' });
  d.on({ type: 'timeout' });
  d.ack(4);
  assert.equal(d.state.timeouts, 0);
  for (let i = 0; i < 3; i++) assert.deepEqual(d.on({ type: 'timeout' }), [resend(5, 8)]);
});

test('a client that never answers gets its first packet a few times, then nothing: no ERROR, no read', () => {
  const d = new Driver({ ...windowed, firstRetries: 2, retries: 5 }, 1 << 20);
  assert.deepEqual(d.log, [send(0, 0)], 'the OACK, and nothing read');
  assert.deepEqual(d.on({ type: 'timeout' }), [resend(0, 0)]);
  assert.deepEqual(d.on({ type: 'timeout' }), [resend(0, 0)]);
  assert.deepEqual(d.on({ type: 'timeout' }), [{ type: 'finish', outcome: 'no answer', error: undefined }]);
  assert.ok(!d.log.some((a) => a.type === 'read'));
});

test('without an OACK, a client that never answers has only block 1 read', () => {
  const d = new Driver({ ...lockStep, ringBlocks: 64, readBlocks: 32 }, 1 << 20);
  assert.deepEqual(d.log, [{ type: 'read', first: 1, last: 1, position: 0, length: 512 }]);
  assert.deepEqual(d.read(), [send(1, 1)]);
  assert.deepEqual(d.on({ type: 'timeout' }), [resend(1, 1)]);
  assert.deepEqual(d.on({ type: 'timeout' }), [resend(1, 1)]);
  assert.equal(d.on({ type: 'timeout' })[0]?.type, 'finish');
  assert.equal(d.log.filter((a) => a.type === 'read').length, 1);
});

test('a timeout while the window waits for a read resends nothing and counts nothing', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  assert.deepEqual(d.on({ type: 'timeout' }), []);
  assert.equal(d.state.timeouts, 0);
  assert.deepEqual(d.read()[0], send(1, 4));
});

test('the read-ahead never goes past the ring from the oldest block not acknowledged', () => {
  const d = new Driver(windowed, 100 * 512);
  d.ack(0);
  // Blocks 1–8 read: the window goes out, and blocks 9–16 are read meanwhile.
  assert.deepEqual(d.read(), [
    send(1, 4),
    { type: 'read', first: 9, last: 16, position: 4096, length: 4096 },
  ]);
  assert.deepEqual(d.read(), []);
  // Blocks 1–16 in the ring, 16 slots: no room for another read of 8 until block 8 is acknowledged.
  assert.deepEqual(d.ack(4), [send(5, 8)]);
  assert.deepEqual(d.ack(8), [
    send(9, 12),
    { type: 'read', first: 17, last: 24, position: 8192, length: 4096 },
  ]);
  assert.ok(d.state.readingUpTo - d.state.base + 1 <= windowed.ringBlocks);
});

test('options refused or lowered in the OACK shape the transfer', () => {
  const limits = { maxBlksize: 1468, maxWindowsize: 8, maxTimeout: 5 };
  const agreed = negotiateTftpRead(
    [
      ['blksize', '65464'],
      ['windowsize', '64'],
      ['timeout', '255'],
    ],
    10_000,
    limits,
  );
  assert.deepEqual(agreed.oack, [
    ['blksize', '1468'],
    ['windowsize', '8'],
  ]);
  const d = new Driver(
    { ...windowed, blksize: agreed.blksize, windowsize: agreed.windowsize, oack: agreed.oack.length > 0 },
    10_000,
  );
  d.ack(0);
  assert.deepEqual(d.read(), [send(1, 7)], '10,000 bytes: 7 blocks of 1468 (the last 1192), one window of 8');
  assert.equal(tftpBlockLength(d.state, 7), 1192);
  // Every option refused: no OACK, DATA 1 of 512 bytes answers the request.
  const refused = negotiateTftpRead(
    [
      ['blksize', '4'],
      ['timeout', '255'],
    ],
    10_000,
    limits,
  );
  assert.deepEqual(refused.oack, []);
  const plain = new Driver({ ...lockStep, oack: refused.oack.length > 0, blksize: refused.blksize }, 10_000);
  assert.deepEqual(plain.log, [{ type: 'read', first: 1, last: 1, position: 0, length: 512 }]);
});

test('stopped mid-transfer: the client is told, and nothing happens after', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  d.read();
  assert.deepEqual(d.on({ type: 'stop', message: 'server shutting down' }), [
    { type: 'finish', outcome: 'stopped', error: 'server shutting down' },
  ]);
  assert.deepEqual(d.ack(4), []);
  assert.deepEqual(d.on({ type: 'timeout' }), []);
  assert.deepEqual(d.on({ type: 'stop', message: undefined }), []);
});

test("the client's ERROR ends the transfer without an ERROR back", () => {
  const d = new Driver(windowed, 20 * 512);
  assert.deepEqual(d.on({ type: 'error' }), [{ type: 'finish', outcome: 'client error', error: undefined }]);
});

test('a file cut short while served ends where a read ended, inside a window too', () => {
  const d = new Driver(windowed, 20 * 512);
  d.ack(0);
  d.read(); // blocks 1–8
  d.ack(4);
  // Blocks 9–16 asked for; the file now ends 100 bytes into block 10.
  const actions = d.on({ type: 'read', bytes: 512 + 100 });
  assert.deepEqual(d.state.lastBlock, 10);
  assert.equal(d.state.size, 9 * 512 + 100);
  assert.deepEqual(actions, []);
  assert.deepEqual(d.ack(8), [send(9, 10)]);
  assert.equal(tftpBlockLength(d.state, 10), 100);
  assert.equal(d.ack(10)[0]?.type, 'finish');
});
