// ConnectedUdpSocket against node:dgram peers, on 127.0.0.1 (and ::1).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { cpus } from 'node:os';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ConnectedUdpSocket, type ConnectedUdpHandlers } from './connected-udp.ts';

interface Peer {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly received: Buffer[];
  /** Resolves once `n` datagrams in all have arrived. */
  until(n: number): Promise<void>;
}

async function openPeer(address = '127.0.0.1'): Promise<Peer> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const received: Buffer[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (msg) => {
    received.push(msg);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (n: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (received.length < n) {
      if (Date.now() > deadline) throw new Error(`${received.length} datagrams, not ${n}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return { socket, port: socket.address().port, received, until };
}

interface Recorder extends ConnectedUdpHandlers {
  /** What the handlers were told, in order: a datagram's text, `answered STEPS LASTTAKEN` or `writable`. */
  readonly events: string[];
  readonly datagrams: Buffer[];
  readonly errors: string[];
}

/** Handlers that record what they are told; a datagram is copied out of the shared buffer. */
function recorder(): Recorder {
  const r: Recorder = {
    events: [],
    datagrams: [],
    errors: [],
    onDatagram(buffer: Buffer, length: number) {
      const datagram = Buffer.from(buffer.subarray(0, length));
      r.datagrams.push(datagram);
      r.events.push(datagram.toString());
    },
    onAnswered(steps: number, lastTaken: number) {
      r.events.push(`answered ${String(steps)} ${String(lastTaken)}`);
    },
    onWritable() {
      r.events.push('writable');
    },
    onError(code: string) {
      r.errors.push(code);
    },
  };
  return r;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a run of packets goes out as separate datagrams, the last one shorter', async () => {
  const peer = await openPeer();
  const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', peer.port);
  try {
    const buffer = Buffer.alloc(3 * 100 + 10, 0xee);
    for (let i = 0; i < 3; i++) buffer.fill(i + 1, 10 + i * 100, 10 + (i + 1) * 100);
    assert.equal(socket.send(buffer, 10, 100, 3, 40), 3);
    await peer.until(3);
    assert.deepEqual(
      peer.received.map((d) => [d.length, d[0], d.at(-1)]),
      [
        [100, 1, 1],
        [100, 2, 2],
        [40, 3, 3],
      ],
    );
    assert.equal(socket.sendPacket(Buffer.from('one')), 1);
    await peer.until(4);
    assert.equal(peer.received[3]?.toString(), 'one');
  } finally {
    socket.close();
    peer.socket.close();
  }
});

/**
 * A socket connected to a new peer, and the socket's own port (from the source of a first datagram,
 * which the peer then forgets).
 */
async function connectedPair(): Promise<{ peer: Peer; socket: ConnectedUdpSocket; port: number }> {
  const peer = await openPeer();
  const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', peer.port);
  const port = new Promise<number>((resolve) => peer.socket.once('message', (_m, r) => resolve(r.port)));
  socket.sendPacket(Buffer.from('hello'));
  await peer.until(1);
  peer.received.length = 0;
  return { peer, socket, port: await port };
}

test('datagrams from the peer reach the handler; from anyone else they are dropped', async () => {
  const { peer, socket, port: from } = await connectedPair();
  const stranger = await openPeer();
  const seen = recorder();
  socket.listen(seen);
  try {
    stranger.socket.send('not for you', from, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    peer.socket.send(Buffer.alloc(5000, 7), from, '127.0.0.1');
    peer.socket.send('ack', from, '127.0.0.1');
    await waitFor(() => seen.datagrams.length >= 2, 'two datagrams');
    assert.deepEqual(
      seen.datagrams.map((d) => d.length),
      [5000, 3],
    );
    assert.equal(seen.datagrams[1]?.toString(), 'ack');
    assert.deepEqual(seen.errors, []);
  } finally {
    socket.close();
    peer.socket.close();
    stranger.socket.close();
  }
});

test('a closed port at the peer is reported as ECONNREFUSED, read by the loop or by the armed thread', async () => {
  for (const armed of [false, true]) {
    const gone = await openPeer();
    const port = gone.port;
    await new Promise<void>((resolve) => gone.socket.close(resolve));
    const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', port);
    const seen = recorder();
    socket.listen(seen);
    try {
      if (armed) socket.arm(Buffer.from('a'), 1, 1, Buffer.alloc(10), 0, 10, 1, 10);
      socket.sendPacket(Buffer.from('anyone?'));
      await waitFor(() => seen.errors.length > 0, 'an error');
      assert.deepEqual(seen.errors, ['ECONNREFUSED'], armed ? 'armed' : 'not armed');
    } finally {
      socket.close();
    }
  }
});

test('IPv6 works the same', async () => {
  let peer: Peer;
  try {
    peer = await openPeer('::1');
  } catch {
    return; // no IPv6 loopback in this namespace
  }
  const socket = new ConnectedUdpSocket('::1', '::1', peer.port);
  try {
    assert.equal(socket.sendPacket(Buffer.from('six')), 1);
    await peer.until(1);
    assert.equal(peer.received[0]?.toString(), 'six');
  } finally {
    socket.close();
    peer.socket.close();
  }
});

test('bad addresses and packets outside the buffer are refused; a closed socket sends nothing', async () => {
  assert.throws(() => new ConnectedUdpSocket('localhost', '127.0.0.1', 9), { code: 'EINVAL' });
  assert.throws(() => new ConnectedUdpSocket('127.0.0.1', '::1', 9), { code: 'EINVAL' });
  assert.throws(() => new ConnectedUdpSocket('192.0.2.1', '127.0.0.1', 9), { code: 'EADDRNOTAVAIL' });
  const peer = await openPeer();
  const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', peer.port);
  const seen = recorder();
  socket.listen(seen);
  try {
    assert.equal(socket.send(Buffer.alloc(100), 0, 50, 3, 50), 0);
    assert.equal(socket.send(Buffer.alloc(100), 0, 50, 2, 60), 0);
    assert.deepEqual(seen.errors, ['EINVAL', 'EINVAL']);
  } finally {
    socket.close();
    socket.close();
  }
  assert.equal(socket.sendPacket(Buffer.from('late')), 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(peer.received.length, 0);
  peer.socket.close();
});

test('an armed sequence answers each expected datagram in turn, and reports its steps', async () => {
  const { peer, socket, port } = await connectedPair();
  const seen = recorder();
  socket.listen(seen);
  const say = async (text: string, received: number, events: number): Promise<void> => {
    peer.socket.send(text, port, '127.0.0.1');
    await peer.until(received);
    await waitFor(() => seen.events.length >= events, `${String(events)} events after ${text}`);
  };
  try {
    // Three steps of two packets (the last step one packet, 4 bytes), answering a1, a2, a3.
    const replies = Buffer.alloc(5 * 10);
    for (let i = 0; i < 5; i++) replies.fill(i, i * 10, (i + 1) * 10);
    socket.arm(Buffer.from('a1a2a3'), 2, 2, replies, 0, 10, 5, 4);
    await say('a1', 2, 0);
    await say('zz', 2, 2); // not expected: the steps answered so far are reported first
    await say('a1', 2, 3); // a step already answered is not answered again
    await say('a2', 4, 3);
    await say('a3', 5, 4); // the last step ends the sequence, and reports both steps since zz
    await say('a3', 5, 5); // nothing is armed any more
    assert.deepEqual(seen.events, ['answered 1 2', 'zz', 'a1', 'answered 2 1', 'a3']);
    assert.deepEqual(
      peer.received.map((d) => [d[0], d.length]),
      [
        [0, 10],
        [1, 10],
        [2, 10],
        [3, 10],
        [4, 4],
      ],
    );
  } finally {
    socket.close();
    peer.socket.close();
  }
});

test('answered steps are collected by takeAnswered; a sequence can be disarmed, or replaced once collected', async () => {
  const { peer, socket, port } = await connectedPair();
  const seen = recorder();
  socket.listen(seen);
  try {
    const replies = Buffer.alloc(30, 1);
    socket.arm(Buffer.from('xyz'), 1, 1, replies, 0, 10, 3, 10);
    peer.socket.send('x', port, '127.0.0.1');
    await peer.until(1);
    assert.throws(() => socket.arm(Buffer.from('q'), 1, 1, replies, 0, 10, 1, 10), { code: 'EBUSY' });
    assert.deepEqual(socket.takeAnswered(), [1, 1]);
    assert.equal(socket.takeAnswered()[0], 0);
    socket.arm(Buffer.from('q'), 1, 1, replies, 0, 10, 1, 10);
    socket.disarm();
    peer.socket.send('q', port, '127.0.0.1');
    await waitFor(() => seen.events.length === 1, 'the datagram');
    assert.deepEqual(seen.events, ['q']);
    assert.equal(peer.received.length, 1);
  } finally {
    socket.close();
    peer.socket.close();
  }
});

test('no step fires while a handler runs; close ends a wait for the next step at once', async () => {
  const { peer, socket, port } = await connectedPair();
  const seen = recorder();
  let answeredDuringHandler = -1;
  socket.listen({
    ...seen,
    onDatagram(buffer, length) {
      seen.onDatagram(buffer, length);
      // Long enough for the expected datagram, sent right behind this one, to arrive.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      answeredDuringHandler = socket.takeAnswered()[0];
    },
  });
  try {
    socket.arm(Buffer.from('ab'), 1, 1, Buffer.alloc(20, 5), 0, 10, 2, 10);
    peer.socket.send('z', port, '127.0.0.1');
    peer.socket.send('a', port, '127.0.0.1');
    await peer.until(1);
    await waitFor(() => socket.takeAnswered()[0] === 1, 'the step for a, collected');
    assert.equal(answeredDuringHandler, 0);
    assert.deepEqual(seen.events, ['z']);
    // The sequence waits for b: closing stops the thread waiting in recv, and nothing comes after.
    const started = process.hrtime.bigint();
    socket.close();
    assert.ok(process.hrtime.bigint() - started < 500_000_000n, 'close returns at once');
    peer.socket.send('b', port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(peer.received.length, 1);
    assert.deepEqual(seen.events, ['z']);
  } finally {
    socket.close();
    peer.socket.close();
  }
});

/**
 * A peer in a worker thread of its own, which goes on while this thread's event loop is blocked. It
 * says "a" then "b", each once the answer to the one before has arrived; "c" once this thread posts
 * it any message; "d" once "c" is answered. When "d" is answered it sets the first word of `done`.
 */
async function lockStepPeer(done: SharedArrayBuffer): Promise<{ worker: Worker; port: number }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const socket = dgram.createSocket('udp4');
    const answers = [];
    let target = 0;
    const say = (text) => socket.send(text, target, '127.0.0.1');
    socket.on('message', (msg, from) => {
      if (target === 0) { target = from.port; say('a'); return; }
      answers.push(msg[0]);
      if (answers.length === 1) say('b');
      if (answers.length === 3) say('d');
      if (answers.length === 4) {
        parentPort.postMessage(answers);
        Atomics.store(workerData, 0, 1);
        Atomics.notify(workerData, 0);
        socket.close();
      }
    });
    parentPort.on('message', () => say('c'));
    socket.bind(0, '127.0.0.1', () => parentPort.postMessage(socket.address().port));
  `;
  const worker = new Worker(source, { eval: true, workerData: new Int32Array(done) });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return { worker, port };
}

test('a queued sequence follows the armed one at once: its steps fire while onAnswered hears of the first', async () => {
  const done = new SharedArrayBuffer(4);
  const { worker, port } = await lockStepPeer(done);
  const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', port);
  const told: string[] = [];
  socket.listen({
    ...recorder(),
    onAnswered(steps, lastTaken) {
      told.push(`answered ${String(steps)} ${String(lastTaken)}`);
      // The peer says "c" now, and "d" once "c" is answered: both are answered while this blocks.
      worker.postMessage('go');
      const woken = Atomics.wait(new Int32Array(done), 0, 0, 5000);
      told.push(`${woken} ${socket.takeAnswered().join(' ')}`);
    },
  });
  try {
    const replies = Buffer.from([0, 1, 2, 3]);
    const answers = new Promise<number[]>((resolve) => worker.once('message', resolve));
    socket.arm(Buffer.from('ab'), 1, 1, replies, 0, 1, 2, 1);
    assert.equal(socket.follow(Buffer.from('cd'), 1, 1, replies, 2, 1, 2, 1), true);
    assert.equal(socket.follow(Buffer.from('ef'), 1, 1, replies, 0, 1, 2, 1), false, 'one is queued already');
    socket.sendPacket(Buffer.from('hello'));
    assert.deepEqual(await answers, [0, 1, 2, 3]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(told, ['answered 2 1', 'ok 2 1']);
    assert.equal(socket.follow(Buffer.from('ef'), 1, 1, replies, 0, 1, 2, 1), false, 'nothing is armed');
  } finally {
    socket.close();
    await worker.terminate();
  }
});

test('disarm ends a queued sequence too', async () => {
  const { peer, socket, port } = await connectedPair();
  const seen = recorder();
  socket.listen(seen);
  try {
    const replies = Buffer.alloc(20, 1);
    socket.arm(Buffer.from('a'), 1, 1, replies, 0, 10, 1, 10);
    assert.equal(socket.follow(Buffer.from('b'), 1, 1, replies, 10, 10, 1, 10), true);
    socket.disarm();
    peer.socket.send('a', port, '127.0.0.1');
    peer.socket.send('b', port, '127.0.0.1');
    await waitFor(() => seen.events.length === 2, 'both datagrams');
    assert.deepEqual(seen.events, ['a', 'b']);
    assert.equal(peer.received.length, 0);
    // Nor does it follow the next sequence armed.
    socket.arm(Buffer.from('c'), 1, 1, replies, 0, 10, 1, 10);
    peer.socket.send('c', port, '127.0.0.1');
    await peer.until(1);
    peer.socket.send('b', port, '127.0.0.1');
    await waitFor(() => seen.events.length === 4, 'the step for c, and b');
    assert.deepEqual(seen.events, ['a', 'b', 'answered 1 1', 'b']);
    assert.equal(peer.received.length, 1);
  } finally {
    socket.close();
    peer.socket.close();
  }
});

test('the thread backs off from polling for a peer slower than a poll', { timeout: 20_000 }, async () => {
  const { peer, socket, port } = await connectedPair();
  socket.listen(recorder());
  // Step i answers the byte i with the byte i; the peer says each byte 5 ms after the answer to the
  // one before, over a hundred times as long as the thread polls.
  const steps = 40;
  const bytes = Buffer.from(Array.from({ length: steps }, (_, i) => i));
  const say = (i: number): void => {
    setTimeout(() => peer.socket.send(bytes.subarray(i, i + 1), port, '127.0.0.1'), 5);
  };
  peer.socket.on('message', (msg: Buffer) => {
    if (msg[0] !== undefined && msg[0] < steps - 1) say(msg[0] + 1);
  });
  try {
    socket.arm(bytes, 1, 1, bytes, 0, 1, steps, 1);
    say(0);
    await peer.until(steps);
    const [polled, caught] = socket.polls();
    // Polling in every wait would be 40 polls; backing off, it is 5 (waits 1, 3, 7, 15 and 31), a
    // few more if the host held the thread back long enough for a poll to catch a byte.
    assert.ok(caught <= 1, `${String(caught)} caught`);
    if (cpus().length > 1) assert.ok(polled >= 1 && polled <= 12, `${String(polled)} waits polled`);
    else assert.equal(polled, 0, 'one CPU: nothing to poll for');
  } finally {
    socket.close();
    peer.socket.close();
  }
});

test('an armed sequence must name one expected datagram for each step of packets', async () => {
  const { peer, socket } = await connectedPair();
  try {
    const replies = Buffer.alloc(100);
    const bad: [Buffer, number, number, number][] = [
      [Buffer.from('abc'), 2, 1, 1], // 3 bytes are not whole datagrams of 2
      [Buffer.alloc(17), 17, 1, 1], // longer than 16 bytes
      [Buffer.from('ab'), 1, 1, 3], // 3 steps of packets, 2 datagrams
      [Buffer.from('abcd'), 1, 2, 3], // 2 steps of packets, 4 datagrams
      [Buffer.from('ab'), 1, 0, 3], // no packet per step
    ];
    for (const [expect, expectLength, perStep, count] of bad) {
      assert.throws(() => socket.arm(expect, expectLength, perStep, replies, 0, 10, count, 10), {
        code: 'EINVAL',
      });
    }
    assert.throws(() => socket.arm(Buffer.from('a'), 1, 1, replies, 95, 10, 1, 10), { code: 'EINVAL' });
  } finally {
    socket.close();
    peer.socket.close();
  }
});
