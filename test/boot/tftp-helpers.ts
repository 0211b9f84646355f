// A raw TFTP peer for tests: a UDP socket on 127.0.0.1 that sends packets and waits for the next one.

import dgram from 'node:dgram';
import { parseTftpPacket, serializeTftpPacket, type TftpPacket } from '../../src/formats/tftp/tftp.ts';

export interface RawPeer {
  /** Sends to the server's listening port (requests) or to the transfer's port (after the first reply). */
  send(packet: TftpPacket, port?: number): void;
  /** The next packet and the port it came from; rejects after `ms`. */
  next(ms?: number): Promise<{ packet: TftpPacket; port: number }>;
  /** Packets received within `ms` from now. */
  drain(ms: number): Promise<TftpPacket[]>;
  close(): void;
}

export async function openRawPeer(serverPort: number): Promise<RawPeer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const queue: { packet: TftpPacket; port: number }[] = [];
  let waiter: (() => void) | undefined;
  socket.on('message', (msg, from) => {
    queue.push({ packet: parseTftpPacket(msg), port: from.port });
    waiter?.();
  });
  return {
    send(packet, port = serverPort) {
      socket.send(serializeTftpPacket(packet), port, '127.0.0.1');
    },
    async next(ms = 3000) {
      const deadline = Date.now() + ms;
      while (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no TFTP packet within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiter = () => {
            clearTimeout(t);
            resolve();
          };
        });
        waiter = undefined;
      }
      const first = queue.shift();
      if (first === undefined) throw new Error('queue empty');
      return first;
    },
    async drain(ms) {
      await new Promise((r) => setTimeout(r, ms));
      return queue.splice(0).map((q) => q.packet);
    },
    close() {
      socket.close();
    },
  };
}
