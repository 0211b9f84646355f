// Run inside a network namespace whose loopback has a slow queue (tbf): sends COUNT packets through
// a ConnectedUdpSocket with a small send buffer, resuming on onWritable each time the kernel takes
// only part of them, to a node:dgram receiver; twice, the first run sent with send(), the second
// by a step of an armed sequence, fired by a datagram from the receiver, with a sequence queued to
// follow it. Then says the datagram again: the queued sequence must have ended with the step the
// kernel did not take whole. Prints what happened as one JSON line.
//
//   node connected-udp-full-buffer.ts COUNT

import dgram from 'node:dgram';
import { ConnectedUdpSocket } from '../../src/engines/connected-udp.ts';

const count = Number(process.argv[2] ?? 200);
const stride = 1000;

const receiver = dgram.createSocket('udp4');
await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
const packets = Buffer.alloc(count * stride);
for (let i = 0; i < count; i++) packets.writeUInt32BE(i, i * stride);

const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', receiver.address().port);
socket.setSendBufferSize(4096);
let socketPort = 0;

/** Sends the packets, by `start(sendRest)`, resuming on onWritable; what arrived, in which order. */
async function run(start: (sendRest: () => void) => void) {
  const order: number[] = [];
  let next = 0;
  let partialSends = 0;
  let writableEvents = 0;
  const answered: number[][] = [];
  const errors: string[] = [];
  const finished = new Promise<void>((resolve) => {
    receiver.removeAllListeners('message');
    receiver.on('message', (msg, from) => {
      socketPort = from.port;
      order.push(msg.readUInt32BE(0));
      if (order.length === count) resolve();
    });
  });
  const taken = (sent: number, of: number): void => {
    if (sent < of) partialSends++;
    next += sent;
  };
  const sendRest = (): void =>
    taken(socket.send(packets, next * stride, stride, count - next, stride), count - next);
  socket.listen({
    onDatagram: () => undefined,
    onAnswered: (steps, lastTaken) => {
      answered.push([steps, lastTaken]);
      taken(lastTaken, count);
    },
    onWritable: () => {
      writableEvents++;
      sendRest();
    },
    onError: (code) => errors.push(code),
  });
  start(sendRest);
  await Promise.race([finished, new Promise((r) => setTimeout(r, 10_000).unref())]);
  const inOrder = order.every((n, i) => n === i);
  return { received: order.length, inOrder, partialSends, writableEvents, answered, errors };
}

const sent = await run((sendRest) => sendRest());
let followed = false;
const armed = await run(() => {
  socket.arm(Buffer.from('go'), 2, count, packets, 0, stride, count, stride);
  followed = socket.follow(Buffer.from('go'), 2, 1, Buffer.from('followed'), 0, 8, 1, 8);
  receiver.send('go', socketPort, '127.0.0.1');
});

// "go" again: with nothing armed any more, it reaches onDatagram, and nothing is sent.
let unanswered = 0;
let strays = 0;
receiver.removeAllListeners('message');
receiver.on('message', () => strays++);
const heard = new Promise<void>((resolve) => {
  socket.listen({
    onDatagram: () => {
      unanswered++;
      resolve();
    },
    onAnswered: () => undefined,
    onWritable: () => undefined,
    onError: () => undefined,
  });
});
receiver.send('go', socketPort, '127.0.0.1');
await Promise.race([heard, new Promise((r) => setTimeout(r, 2000).unref())]);
await new Promise((r) => setTimeout(r, 100));
socket.close();
receiver.close();
process.stdout.write(`${JSON.stringify({ sent, armed, afterward: { followed, unanswered, strays } })}\n`);
