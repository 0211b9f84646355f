// Run inside a network namespace whose loopback has a slow queue (tbf): sends COUNT packets through
// a ConnectedUdpSocket with a small send buffer, resuming on onWritable each time the kernel takes
// only part of them, to a node:dgram receiver. Prints what happened as one JSON line.
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

const order: number[] = [];
const socket = new ConnectedUdpSocket('127.0.0.1', '127.0.0.1', receiver.address().port);
let next = 0;
let partialSends = 0;
let writableEvents = 0;
const errors: string[] = [];

const finished = new Promise<void>((resolve) => {
  receiver.on('message', (msg) => {
    order.push(msg.readUInt32BE(0));
    if (order.length === count) resolve();
  });
});
const sendRest = (): void => {
  const sent = socket.send(packets, next * stride, stride, count - next, stride);
  if (sent < count - next) partialSends++;
  next += sent;
};
socket.listen({
  onDatagram: () => undefined,
  onWritable: () => {
    writableEvents++;
    sendRest();
  },
  onError: (code) => errors.push(code),
});
socket.setSendBufferSize(4096);
sendRest();
await Promise.race([finished, new Promise((r) => setTimeout(r, 10_000).unref())]);
socket.close();
receiver.close();
const inOrder = order.every((n, i) => n === i);
process.stdout.write(
  `${JSON.stringify({ received: order.length, inOrder, partialSends, writableEvents, errors })}\n`,
);
