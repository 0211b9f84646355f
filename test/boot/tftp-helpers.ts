// Raw TFTP peers for tests, on loopback: a UDP socket that sends packets and waits for the next one,
// and a small windowed client (RFC 7440) that fetches a whole file.

import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { withTempDir } from '../../src/io/output.ts';
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

/** A peer on `address` (a loopback address: 127.0.0.0/8 is all local) sending to the server on 127.0.0.1. */
export async function openRawPeer(serverPort: number, address = '127.0.0.1'): Promise<RawPeer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
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

/**
 * Fetches `filename` from the server on 127.0.0.1 with blksize and windowsize, from a socket on
 * `address`: ACKs each window, or the last block in order when one is missing (RFC 7440 §4), and
 * again after 1 s of silence. Resolves to the size and SHA-256 of what came (nothing is kept);
 * rejects on an ERROR or after 30 s.
 */
export async function fetchWindowed(
  serverPort: number,
  filename: string,
  options: { readonly address: string; readonly blksize: number; readonly windowsize: number },
): Promise<{ size: number; sha256: string }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, options.address, resolve));
  const { blksize, windowsize } = options;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let transferPort = 0;
      let received = 0;
      let inWindow = 0;
      const ack = (): void => {
        socket.send(serializeTftpPacket({ op: 'ACK', block: received & 0xffff }), transferPort, '127.0.0.1');
      };
      const silence = setInterval(() => {
        if (transferPort !== 0) ack();
      }, 1000);
      const deadline = setTimeout(() => {
        finish(new Error(`${filename}: not fetched within 30 s`));
      }, 30_000);
      const finish = (e: Error | undefined): void => {
        clearInterval(silence);
        clearTimeout(deadline);
        if (e === undefined) resolve();
        else reject(e);
      };
      socket.on('message', (msg, from) => {
        const packet = parseTftpPacket(msg);
        transferPort = from.port;
        if (packet.op === 'ERROR') {
          finish(new Error(`${filename}: ERROR ${packet.code} ${packet.message}`));
        } else if (packet.op === 'OACK') {
          ack();
        } else if (packet.op === 'DATA') {
          if (packet.block !== ((received + 1) & 0xffff)) {
            inWindow = 0;
            ack();
            return;
          }
          received++;
          hash.update(packet.data);
          size += packet.data.length;
          inWindow++;
          const last = packet.data.length < blksize;
          if (last || inWindow === windowsize) {
            inWindow = 0;
            ack();
          }
          if (last) finish(undefined);
        }
      });
      const requested = [
        ['blksize', String(blksize)],
        ['windowsize', String(windowsize)],
      ] as const;
      socket.send(
        serializeTftpPacket({ op: 'RRQ', filename, mode: 'octet', options: requested }),
        serverPort,
        '127.0.0.1',
      );
    });
  } finally {
    socket.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** A temporary directory held open across a test file's tests (before … after); release removes it. */
export async function holdTempDir(): Promise<{ dir: string; release: () => Promise<void> }> {
  let release: () => void = () => undefined;
  let dir = '';
  let done: Promise<void> = Promise.resolve();
  await new Promise<void>((ready) => {
    done = withTempDir(async (d) => {
      dir = d;
      ready();
      await new Promise<void>((resolve) => (release = resolve));
    });
  });
  return {
    dir,
    release: async () => {
      release();
      await done;
    },
  };
}
