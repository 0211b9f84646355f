// winsmith's TFTP server against real clients (curl, atftp) and a raw peer, on 127.0.0.1.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTftpServer, type TftpServer } from '../../src/boot/tftp-server.ts';
import { AppError } from '../../src/core/errors.ts';
import { runProgram } from '../../src/engines/run.ts';
import { TFTP_ERRORS, type TftpPacket } from '../../src/formats/tftp/tftp.ts';
import { holdTempDir, openRawPeer, type RawPeer } from './tftp-helpers.ts';

let dir = '';
let root = '';
let server: TftpServer;
let releaseTempDir: () => Promise<void> = () => Promise.resolve();
const files = new Map<string, Buffer>();
const MiB = 1024 * 1024;

before(async () => {
  ({ dir, release: releaseTempDir } = await holdTempDir());
  root = join(dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  const add = async (name: string, bytes: Buffer): Promise<void> => {
    files.set(name, bytes);
    await writeFile(join(root, name), bytes);
  };
  await add('empty', Buffer.alloc(0));
  await add('n512', randomBytes(512 * 4));
  await add('n1468', randomBytes(1468 * 3));
  await add('odd', randomBytes(100_001));
  await add('four', randomBytes(4 * MiB));
  await add('sub/one', randomBytes(3000));
  // 40 MiB: 81,920 blocks of 512 bytes, past 65,535: block numbers wrap.
  await add('big', randomBytes(40 * MiB));
  await writeFile(join(dir, 'secret'), 'outside the root\n');
  await symlink(join(dir, 'secret'), join(root, 'link-out'));
  await symlink(dir, join(root, 'dir-out'));
  await symlink('sub/one', join(root, 'link-in'));
  // Every client here is on 127.0.0.1: the limit of transfers from one address is lifted.
  server = await startTftpServer({ root, port: 0, timeoutMs: 300, retries: 3, maxPerAddress: 64 });
});

after(async () => {
  await server.close();
  await releaseTempDir();
});

/** The block numbers of DATA packets, the opcode of others. */
function blocks(packets: TftpPacket[]): (number | string)[] {
  return packets.map((p) => (p.op === 'DATA' ? p.block : p.op));
}

async function curlGet(name: string, blksize: number, port = server.port): Promise<Buffer> {
  const out = join(dir, `curl-${name.replaceAll('/', '_')}-${blksize}`);
  await runProgram('curl', [
    '-sS',
    '--tftp-blksize',
    String(blksize),
    '-o',
    out,
    `tftp://127.0.0.1:${String(port)}/${name}`,
  ]);
  return readFile(out);
}

async function atftpGet(name: string, options: readonly string[]): Promise<Buffer> {
  const out = join(
    dir,
    `atftp-${name.replaceAll('/', '_')}-${options.join('_').replaceAll(' ', '')}-${Math.random()}`,
  );
  await runProgram('atftp', [
    ...options.flatMap((o) => ['--option', o]),
    '-g',
    '-r',
    name,
    '-l',
    out,
    '127.0.0.1',
    String(server.port),
  ]);
  return readFile(out);
}

// curl 7.88 fails on any empty TFTP file (exit 71, getpeername(): seen against atftpd too): the
// 0-byte file is fetched with atftp only.
test(
  'curl: exactly N×blksize, an odd size, a subdirectory, a symlink inside',
  { timeout: 60_000 },
  async () => {
    for (const [name, blksize] of [
      ['n512', 512],
      ['n1468', 1468],
      ['odd', 8192],
      ['sub/one', 512],
    ] as const) {
      assert.ok(
        (await curlGet(name, blksize)).equals(files.get(name) ?? Buffer.alloc(1)),
        `${name} at ${blksize}`,
      );
    }
    assert.ok((await curlGet('link-in', 512)).equals(files.get('sub/one') ?? Buffer.alloc(1)));
  },
);

test('atftp with blksize, tsize and windowsize', { timeout: 60_000 }, async () => {
  for (const name of ['empty', 'n512', 'n1468', 'odd']) {
    for (const options of [
      [],
      ['blksize 1468', 'tsize 0'],
      ['blksize 1468', 'tsize 0', 'windowsize 16'],
      ['blksize 512', 'windowsize 4'],
    ]) {
      assert.ok(
        (await atftpGet(name, options)).equals(files.get(name) ?? Buffer.alloc(1)),
        `${name} ${options.join(',')}`,
      );
    }
  }
});

test('past 65535 blocks the block number wraps (40 MiB at blksize 512)', { timeout: 120_000 }, async () => {
  const big = files.get('big') ?? Buffer.alloc(1);
  assert.ok((await atftpGet('big', ['blksize 512', 'windowsize 32'])).equals(big), 'atftp, windowsize 32');
  assert.ok((await curlGet('big', 512)).equals(big), 'curl, lock-step');
});

test('many transfers at once', { timeout: 60_000 }, async () => {
  const results = await Promise.all(
    Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0 ? atftpGet('odd', ['blksize 1468', `windowsize ${1 + (i % 8)}`]) : curlGet('odd', 512 + i),
    ),
  );
  for (const r of results) assert.ok(r.equals(files.get('odd') ?? Buffer.alloc(1)));
});

async function requestError(filename: string): Promise<{ code: number; message: string }> {
  const peer = await openRawPeer(server.port);
  try {
    peer.send({ op: 'RRQ', filename, mode: 'octet', options: [] });
    const { packet } = await peer.next();
    assert.equal(packet.op, 'ERROR', `${filename}: expected an ERROR, got ${packet.op}`);
    return { code: packet.code, message: packet.message };
  } finally {
    peer.close();
  }
}

test('no path outside the root by any means', { timeout: 30_000 }, async () => {
  const violations = [
    '../secret',
    '../../../etc/passwd',
    'sub/../../secret',
    '..\\..\\x',
    'sub\\..\\..\\secret',
    '%2e%2e/secret',
    '%2E%2E%5csecret',
    'link-out',
    'dir-out/secret',
  ];
  for (const name of violations) {
    const e = await requestError(name);
    assert.equal(e.code, TFTP_ERRORS.ACCESS_VIOLATION, `${name}: ${e.message}`);
  }
  // An absolute path is read under the root: /etc/passwd is root/etc/passwd, which does not exist.
  assert.equal((await requestError('/etc/passwd')).code, TFTP_ERRORS.FILE_NOT_FOUND);
  assert.equal((await requestError('sub')).code, TFTP_ERRORS.FILE_NOT_FOUND);
  assert.equal((await requestError('missing')).code, TFTP_ERRORS.FILE_NOT_FOUND);
  // Real clients get the refusal too.
  await assert.rejects(atftpGet('../secret', []), /outside the TFTP root|failed/);
  await assert.rejects(curlGet('dir-out/secret', 512));
});

test('write requests and other modes are refused', { timeout: 10_000 }, async () => {
  const peer = await openRawPeer(server.port);
  try {
    peer.send({ op: 'WRQ', filename: 'new', mode: 'octet', options: [] });
    const w = (await peer.next()).packet;
    assert.deepEqual(w.op === 'ERROR' ? w.code : -1, TFTP_ERRORS.ACCESS_VIOLATION);
    peer.send({ op: 'RRQ', filename: 'odd', mode: 'mail', options: [] });
    const m = (await peer.next()).packet;
    assert.deepEqual(m.op === 'ERROR' ? m.code : -1, TFTP_ERRORS.ILLEGAL_OPERATION);
  } finally {
    peer.close();
  }
});

test(
  'duplicate ACKs are ignored; a lost ACK is retransmitted after the timeout; then the transfer gives up',
  { timeout: 20_000 },
  async () => {
    const peer = await openRawPeer(server.port);
    try {
      peer.send({ op: 'RRQ', filename: 'n512', mode: 'octet', options: [] });
      const first = await peer.next();
      assert.equal(first.packet.op === 'DATA' ? first.packet.block : -1, 1);
      peer.send({ op: 'ACK', block: 1 }, first.port);
      peer.send({ op: 'ACK', block: 1 }, first.port);
      peer.send({ op: 'ACK', block: 1 }, first.port);
      // One DATA 2, not three (the sorcerer's apprentice), before any timeout (300 ms).
      const got = await peer.drain(150);
      assert.deepEqual(blocks(got), [2]);
      // No ACK: DATA 2 again after the timeout, up to 3 retries, then an ERROR.
      const again = await peer.drain(2000);
      assert.deepEqual(blocks(again), [2, 2, 2, 'ERROR']);
    } finally {
      peer.close();
    }
  },
);

test('a file cut short while it is served ends at what is left, inside a window too', async () => {
  const name = 'shrinking';
  const bytes = randomBytes(MiB);
  await writeFile(join(root, name), bytes);
  // The file is cut once the first window is out (blocks 1–256 read by then, 64 KiB a read); the
  // read of blocks 513–640 finds it ending in block 514, 488 bytes long, inside the window 513–528.
  const cut = 512 * 512 + 1000;
  const peer = await openRawPeer(server.port);
  try {
    const oack = await windowedRequest(peer, name, 512, 16);
    assert.equal(oack.packet.op, 'OACK');
    peer.send({ op: 'ACK', block: 0 }, oack.port);
    const received = new Map<number, Buffer>();
    for (let done = false; !done;) {
      let highest = 0;
      for (let i = 0; i < 16; i++) {
        const { packet } = await peer.next();
        if (packet.op !== 'DATA') throw new Error(`expected DATA, got ${packet.op}`);
        received.set(packet.block, Buffer.from(packet.data));
        highest = Math.max(highest, packet.block);
        if (packet.data.length < 512) {
          done = true;
          break;
        }
      }
      if (highest === 16) await truncate(join(root, name), cut);
      peer.send({ op: 'ACK', block: highest }, oack.port);
    }
    assert.deepEqual([...received.keys()].at(-1), 514);
    const got = Buffer.concat([...received.values()]);
    assert.equal(got.length, cut);
    assert.ok(got.equals(bytes.subarray(0, cut)));
    assert.deepEqual(await peer.drain(100), [], 'nothing past the last block');
  } finally {
    peer.close();
  }
});

/** A raw read request with blksize and windowsize; the OACK (or first packet) and the transfer's port. */
async function windowedRequest(
  peer: RawPeer,
  filename: string,
  blksize: number,
  windowsize: number,
): Promise<{ packet: TftpPacket; port: number }> {
  const options = [
    ['blksize', String(blksize)],
    ['windowsize', String(windowsize)],
  ] as const;
  peer.send({ op: 'RRQ', filename, mode: 'octet', options });
  return peer.next();
}

test('a window holds at most 256 KiB', async () => {
  const peer = await openRawPeer(server.port);
  try {
    const oack = await windowedRequest(peer, 'big', 65464, 64);
    assert.deepEqual(oack.packet, {
      op: 'OACK',
      options: [
        ['blksize', '65464'],
        ['windowsize', '4'],
      ],
    });
    peer.send({ op: 'ERROR', code: 0, message: 'enough' }, oack.port);
  } finally {
    peer.close();
  }
});

test("a windowsize above the server's maximum is lowered to it", async () => {
  const own = await startTftpServer({ root, port: 0, maxWindowsize: 200 });
  try {
    const peer = await openRawPeer(own.port);
    try {
      const oack = await windowedRequest(peer, 'odd', 8, 2000);
      assert.deepEqual(oack.packet.op === 'OACK' ? oack.packet.options.at(-1) : [], ['windowsize', '200']);
      peer.send({ op: 'ACK', block: 0 }, oack.port);
      // 200 blocks of 8 bytes in one window, each with its number.
      const window = await peer.drain(300);
      assert.deepEqual(
        blocks(window),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      peer.send({ op: 'ERROR', code: 0, message: 'enough' }, oack.port);
    } finally {
      peer.close();
    }
  } finally {
    await own.close();
  }
});

test('an ACK inside the window restarts the window after that block', async () => {
  const peer = await openRawPeer(server.port);
  try {
    const oack = await windowedRequest(peer, 'odd', 1024, 4);
    assert.equal(oack.packet.op, 'OACK');
    peer.send({ op: 'ACK', block: 0 }, oack.port);
    assert.deepEqual(blocks(await peer.drain(150)), [1, 2, 3, 4]);
    // Block 3 "lost": the client acknowledges 2, and the next window starts at 3.
    peer.send({ op: 'ACK', block: 2 }, oack.port);
    const next = await peer.drain(150);
    assert.deepEqual(blocks(next), [3, 4, 5, 6]);
    const odd = files.get('odd') ?? Buffer.alloc(0);
    const third = next[0];
    assert.ok(third?.op === 'DATA' && Buffer.from(third.data).equals(odd.subarray(2048, 3072)));
    peer.send({ op: 'ERROR', code: 0, message: 'enough' }, oack.port);
  } finally {
    peer.close();
  }
});

test('window after window: a duplicate ACK, an ACK inside a window, then a timeout resends the window', async () => {
  // A timeout of its own, long beside the 150 ms between ACKs, so that a busy host does not make
  // the timer retransmit early.
  const own = await startTftpServer({ root, port: 0, timeoutMs: 1000, retries: 3 });
  const peer = await openRawPeer(own.port);
  try {
    const oack = await windowedRequest(peer, 'odd', 1024, 4);
    peer.send({ op: 'ACK', block: 0 }, oack.port);
    assert.deepEqual(blocks(await peer.drain(150)), [1, 2, 3, 4]);
    peer.send({ op: 'ACK', block: 4 }, oack.port);
    assert.deepEqual(blocks(await peer.drain(150)), [5, 6, 7, 8]);
    // A duplicate of an ACK already answered is ignored.
    peer.send({ op: 'ACK', block: 4 }, oack.port);
    assert.deepEqual(blocks(await peer.drain(150)), []);
    // Block 7 "lost" in the window the socket sent: the window restarts after 6.
    peer.send({ op: 'ACK', block: 6 }, oack.port);
    const restarted = await peer.drain(150);
    assert.deepEqual(blocks(restarted), [7, 8, 9, 10]);
    const odd = files.get('odd') ?? Buffer.alloc(0);
    const seventh = restarted[0];
    assert.ok(seventh?.op === 'DATA' && Buffer.from(seventh.data).equals(odd.subarray(6144, 7168)));
    peer.send({ op: 'ACK', block: 10 }, oack.port);
    assert.deepEqual(blocks(await peer.drain(150)), [11, 12, 13, 14]);
    // No ACK: the timer sends that window again (not an earlier one), whole.
    const first = await peer.next(5000);
    assert.deepEqual(blocks([first.packet, ...(await peer.drain(150))]), [11, 12, 13, 14]);
    peer.send({ op: 'ERROR', code: 0, message: 'enough' }, oack.port);
  } finally {
    peer.close();
    await own.close();
  }
});

test('shutdown in the middle of a transfer ends it cleanly', { timeout: 20_000 }, async () => {
  const own = await startTftpServer({ root, port: 0 });
  const peer = await openRawPeer(own.port);
  try {
    peer.send({ op: 'RRQ', filename: 'odd', mode: 'octet', options: [['blksize', '1024']] });
    const oack = await peer.next();
    assert.equal(oack.packet.op, 'OACK');
    peer.send({ op: 'ACK', block: 0 }, oack.port);
    assert.equal((await peer.next()).packet.op, 'DATA');
    assert.equal(own.sessionCount(), 1);
    await own.close();
    assert.equal(own.sessionCount(), 0);
    const rest = await peer.drain(100);
    assert.equal(rest.at(-1)?.op, 'ERROR');
  } finally {
    peer.close();
  }
});

test('garbage never stops the server', { timeout: 20_000 }, async () => {
  const peer = await openRawPeer(server.port);
  const dgram = await import('node:dgram');
  const raw = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 2000; i++) raw.send(randomBytes(i % 700), server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await curlGet('n1468', 1468)).equals(files.get('n1468') ?? Buffer.alloc(1)));
  } finally {
    raw.close();
    peer.close();
  }
});

test('a port already taken is a clean error', async () => {
  await assert.rejects(startTftpServer({ root, port: server.port }), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'IO_ERROR');
    assert.match(e.message, /EADDRINUSE/);
    return true;
  });
});
