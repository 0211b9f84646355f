import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import { negotiateTftpRead } from './options.ts';
import {
  TFTP_MAX_OPTIONS,
  findTftpOption,
  parseTftpPacket,
  readTftpAck,
  serializeTftpPacket,
  type TftpPacket,
} from './tftp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Captured on 127.0.0.1 by a Node dgram socket bound to 127.0.0.1:7070 printing each datagram as
// hex, while running `curl --tftp-blksize 1468 tftp://127.0.0.1:7070/pxelinux.0` (curl 7.88.1)
// and `atftp --option "blksize 1468" --option "tsize 0" --option "windowsize 16" -g -r
// undionly.kpxe 127.0.0.1 7070` (atftp 0.8.0, Debian 12).
const CURL_RRQ =
  '00017078656c696e75782e30006f63746574007473697a65003000626c6b73697a6500313436380074696d656f7574003600';
const ATFTP_RRQ =
  '0001756e64696f6e6c792e6b707865006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a6500313600';

test('a real curl read request', () => {
  assert.deepEqual(parseTftpPacket(hex(CURL_RRQ)), {
    op: 'RRQ',
    filename: 'pxelinux.0',
    mode: 'octet',
    options: [
      ['tsize', '0'],
      ['blksize', '1468'],
      ['timeout', '6'],
    ],
  });
  assert.deepEqual(serializeTftpPacket(parseTftpPacket(hex(CURL_RRQ))), hex(CURL_RRQ));
});

test('a real atftp read request with windowsize', () => {
  const p = parseTftpPacket(hex(ATFTP_RRQ));
  assert.equal(p.op, 'RRQ');
  assert.equal(p.filename, 'undionly.kpxe');
  assert.equal(findTftpOption(p.options, 'WINDOWSIZE'), '16');
  assert.deepEqual(serializeTftpPacket(p), hex(ATFTP_RRQ));
});

test('the examples of RFC 2347 §4 and RFC 1350 §5', () => {
  // RFC 2347 §4: "|  1  | foobar |  0  | octet |  0  | blksize |  0  | 1432 |  0  |" and its OACK.
  const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from('foobar\0octet\0blksize\x001432\0', 'latin1')]);
  assert.deepEqual(parseTftpPacket(rrq), {
    op: 'RRQ',
    filename: 'foobar',
    mode: 'octet',
    options: [['blksize', '1432']],
  });
  assert.deepEqual(
    serializeTftpPacket({ op: 'OACK', options: [['blksize', '1432']] }),
    hex('0006 626c6b73697a6500 3134333200'),
  );
  assert.deepEqual(serializeTftpPacket({ op: 'ACK', block: 1 }), hex('00040001'));
  assert.deepEqual(
    serializeTftpPacket({ op: 'DATA', block: 65535, data: Uint8Array.of(0xaa) }),
    hex('0003ffffaa'),
  );
  assert.deepEqual(
    serializeTftpPacket({ op: 'ERROR', code: 1, message: 'File not found' }),
    hex('00050001 46696c65206e6f7420666f756e6400'),
  );
  assert.equal(readTftpAck(hex('0004fffe')), 0xfffe);
  assert.equal(readTftpAck(hex('0003fffe')), -1);
  assert.equal(readTftpAck(hex('0004fffe00')), -1);
});

test('option negotiation (RFC 2347/2348/2349/7440)', () => {
  const s = negotiateTftpRead(
    [
      ['BLKSIZE', '100000'],
      ['tsize', '0'],
      ['timeout', '0'],
      ['windowsize', '500'],
      ['multicast', ''],
    ],
    1234,
    { maxBlksize: 8192, maxWindowsize: 64 },
  );
  assert.equal(s.blksize, 8192);
  assert.equal(s.windowsize, 64);
  assert.equal(s.timeout, undefined);
  assert.deepEqual(s.oack, [
    ['BLKSIZE', '8192'],
    ['tsize', '1234'],
    ['windowsize', '64'],
  ]);
  const none = negotiateTftpRead([['blksize', '7']], 0, { maxBlksize: 65464, maxWindowsize: 64 });
  assert.equal(none.blksize, 512);
  assert.deepEqual(none.oack, []);
});

test('the window is lowered to fit the byte limit, whatever the order of the options', () => {
  const limits = { maxBlksize: 65464, maxWindowsize: 64, maxWindowBytes: 1 << 20 };
  const before = negotiateTftpRead(
    [
      ['windowsize', '64'],
      ['blksize', '65464'],
    ],
    0,
    limits,
  );
  assert.equal(before.windowsize, 16);
  assert.deepEqual(before.oack, [
    ['windowsize', '16'],
    ['blksize', '65464'],
  ]);
  const after = negotiateTftpRead(
    [
      ['blksize', '1468'],
      ['windowsize', '64'],
    ],
    0,
    limits,
  );
  assert.equal(after.windowsize, 64);
  const tiny = negotiateTftpRead(
    [
      ['blksize', '8192'],
      ['windowsize', '8'],
    ],
    0,
    { ...limits, maxWindowBytes: 1000 },
  );
  assert.equal(tiny.windowsize, 1);
  assert.deepEqual(tiny.oack[1], ['windowsize', '1']);
});

test("a timeout above the server's maximum is refused, not lowered (RFC 2349: echoed as asked)", () => {
  const limits = { maxBlksize: 65464, maxWindowsize: 64, maxTimeout: 5 };
  const over = negotiateTftpRead(
    [
      ['timeout', '255'],
      ['tsize', '0'],
    ],
    7,
    limits,
  );
  assert.equal(over.timeout, undefined);
  assert.deepEqual(over.oack, [['tsize', '7']]);
  const at = negotiateTftpRead([['timeout', '5']], 7, limits);
  assert.equal(at.timeout, 5);
  assert.deepEqual(at.oack, [['timeout', '5']]);
});

const latin1String = (min: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)),
    minLength: min,
    maxLength: 40,
  });
const optionsArb = fc.array(fc.tuple(latin1String(1), latin1String(0)), { maxLength: 8 });
const packetArb: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({
    op: fc.constantFrom('RRQ' as const, 'WRQ' as const),
    filename: latin1String(0),
    mode: latin1String(0),
    options: optionsArb,
  }),
  fc.record({
    op: fc.constant('DATA' as const),
    block: fc.integer({ min: 0, max: 65535 }),
    data: fc.uint8Array({ maxLength: 1500 }),
  }),
  fc.record({ op: fc.constant('ACK' as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({
    op: fc.constant('ERROR' as const),
    code: fc.integer({ min: 0, max: 65535 }),
    message: latin1String(0),
  }),
  fc.record({
    op: fc.constant('OACK' as const),
    options: fc.array(fc.tuple(latin1String(1), latin1String(0)), { minLength: 1, maxLength: 8 }),
  }),
);

test('serialize then parse gives the packet back', () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const parsed = parseTftpPacket(serializeTftpPacket(packet));
      if (packet.op === 'DATA' && parsed.op === 'DATA') {
        assert.equal(parsed.block, packet.block);
        assert.deepEqual(Uint8Array.from(parsed.data), Uint8Array.from(packet.data));
      } else {
        assert.deepEqual(parsed, { ...packet });
      }
    }),
    { numRuns: 2000 },
  );
});

test('any bytes parse to a packet or fail with FormatError', () => {
  const packets = [CURL_RRQ, ATFTP_RRQ].map(hex);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        fc
          .tuple(fc.constantFrom(...packets), fc.nat(), fc.integer({ min: 0, max: 255 }))
          .map(([p, at, b]) => {
            const copy = p.slice(0, 2 + (at % p.length));
            copy[at % copy.length] = b;
            return copy;
          }),
      ),
      (bytes) => {
        try {
          parseTftpPacket(bytes);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
    { numRuns: 5000 },
  );
});

test('limits: too many options, packet too long, bad opcode', () => {
  const many = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.from('f\0octet\0', 'latin1'),
    Buffer.from('a\0b\0'.repeat(TFTP_MAX_OPTIONS + 1), 'latin1'),
  ]);
  assert.throws(
    () => parseTftpPacket(many),
    (e: unknown) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
  assert.throws(
    () => parseTftpPacket(new Uint8Array(70000)),
    (e: unknown) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
  assert.throws(
    () => parseTftpPacket(hex('00090000')),
    (e: unknown) => e instanceof FormatError && e.code === 'FORMAT_UNSUPPORTED',
  );
  assert.throws(() => parseTftpPacket(hex('0001666f6f')), /no terminating NUL/);
});
