import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import {
  DHCP_MESSAGE_TYPE,
  DHCP_OPT,
  PXE_OPT,
  dhcpClientMac,
  dhcpMessageType,
  dhcpOptionString,
  findDhcpOption,
  ipv4Number,
  parseClientArch,
  parseClientMachineId,
  parseClientNdi,
  parseDhcpMessage,
  parseSubOptions,
  parseUserClass,
  serializeDhcpMessage,
  serializeSubOptions,
  serializeUserClass,
  type DhcpMessage,
} from './dhcp.ts';

import { clientMessage } from '../../../test/helpers/dhcp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function message(
  options: DhcpMessage['options'],
  extra: Parameters<typeof clientMessage>[2] = {},
): DhcpMessage {
  return clientMessage([0x52, 0x54, 0x00, 0x12, 0x34, 0x56], options, {
    xid: 0x12345678,
    secs: 4,
    flags: 0x8000,
    ...extra,
  });
}

// Captured: the DHCPDISCOVER of the iPXE option ROM of QEMU's e1000 (Debian ipxe-qemu, SeaBIOS,
// `qemu-system-x86_64 -accel tcg -boot n -device e1000,mac=52:54:00:12:34:56` on a tap in a network
// namespace), received by a Node dgram socket on 0.0.0.0:67 in that namespace, printed as hex.
const IPXE_DISCOVER =
  '010106004c48ef4b00040000000000000000000000000000000000005254001234560000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363' +
  '350101390205c05d0200005e030102013c20505845436c69656e743a417263683a30303030303a554e44493a30303230' +
  '30314d04695058453717010306070c0f111a2b3c4243778081828384858687afcbaf30b105018086100eeb0301000017' +
  '01012201011301011101012701011901012901011001022101011501011801011201013d070152540012345661110000' +
  '000000000000000000000000000000ff';

test('a real iPXE DHCPDISCOVER', () => {
  const m = parseDhcpMessage(hex(IPXE_DISCOVER));
  assert.equal(dhcpMessageType(m), DHCP_MESSAGE_TYPE.DHCPDISCOVER);
  assert.equal(dhcpClientMac(m), '52:54:00:12:34:56');
  assert.equal(m.flags, 0);
  assert.equal(dhcpOptionString(m, DHCP_OPT.CLASS_ID), 'PXEClient:Arch:00000:UNDI:002001');
  assert.deepEqual(parseUserClass(findDhcpOption(m, DHCP_OPT.USER_CLASS) ?? new Uint8Array()), ['iPXE']);
  assert.deepEqual(parseClientArch(findDhcpOption(m, DHCP_OPT.CLIENT_ARCH) ?? new Uint8Array()), [0]);
  assert.deepEqual(parseClientNdi(findDhcpOption(m, DHCP_OPT.CLIENT_NDI) ?? new Uint8Array()), {
    type: 1,
    major: 2,
    minor: 1,
  });
  assert.equal(
    parseClientMachineId(findDhcpOption(m, DHCP_OPT.CLIENT_MACHINE_ID) ?? new Uint8Array()),
    '00000000-0000-0000-0000-000000000000',
  );
  const ipxe = parseSubOptions(findDhcpOption(m, DHCP_OPT.IPXE_ENCAP) ?? new Uint8Array());
  assert.ok(
    ipxe.some((o) => o.code === 0xeb),
    'iPXE version sub-option',
  );
  // Written back, the options area is byte for byte the client's.
  const again = serializeDhcpMessage(m, 1500);
  assert.deepEqual(again.subarray(0, 236), hex(IPXE_DISCOVER).subarray(0, 236));
  assert.deepEqual(parseDhcpMessage(again), m);
});

test('RFC 2131 §2 layout: fields at their offsets, cookie, end, padded to 300 bytes', () => {
  const bytes = serializeDhcpMessage(
    message([{ code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(1) }], {
      ciaddr: '10.0.0.7',
      siaddr: '10.0.0.1',
      file: 'undionly.kpxe',
    }),
  );
  assert.equal(bytes.length, 300);
  assert.deepEqual(bytes.subarray(0, 12), hex('01010600 12345678 0004 8000'));
  assert.deepEqual(bytes.subarray(12, 16), Uint8Array.of(10, 0, 0, 7));
  assert.deepEqual(bytes.subarray(20, 24), Uint8Array.of(10, 0, 0, 1));
  assert.deepEqual(bytes.subarray(28, 34), hex('525400123456'));
  assert.equal(Buffer.from(bytes.subarray(108, 121)).toString('latin1'), 'undionly.kpxe');
  assert.deepEqual(bytes.subarray(236, 244), hex('63825363 350101 ff'));
  const back = parseDhcpMessage(bytes);
  assert.equal(dhcpMessageType(back), DHCP_MESSAGE_TYPE.DHCPDISCOVER);
  assert.equal(dhcpClientMac(back), '52:54:00:12:34:56');
});

test('RFC 4578 options 93, 94, 97; RFC 3004 user class; iPXE bare user class', () => {
  assert.deepEqual(parseClientArch(hex('0000')), [0]);
  assert.deepEqual(parseClientArch(hex('00070009')), [7, 9]);
  assert.throws(() => parseClientArch(hex('00')), FormatError);
  assert.deepEqual(parseClientNdi(hex('010201')), { type: 1, major: 2, minor: 1 });
  assert.equal(
    parseClientMachineId(hex('00 00112233445566778899aabbccddeeff')),
    '00112233-4455-6677-8899-aabbccddeeff',
  );
  assert.throws(() => parseClientMachineId(hex('01 00112233445566778899aabbccddeeff')), FormatError);
  // RFC 3004 §4: length-prefixed entries.
  assert.deepEqual(parseUserClass(hex('0469505845 03616263')), ['iPXE', 'abc']);
  assert.deepEqual(serializeUserClass(['iPXE', 'abc']), hex('0469505845 03616263'));
  // iPXE sends "iPXE" without a length byte ('i' = 105 is not a length that fits).
  assert.deepEqual(parseUserClass(Buffer.from('iPXE')), ['iPXE']);
});

test('PXE 2.1 §2.4 vendor options in option 43', () => {
  const data = serializeSubOptions([{ code: PXE_OPT.PXE_DISCOVERY_CONTROL, data: Uint8Array.of(0x0b) }]);
  assert.deepEqual(data, hex('06010b ff'));
  assert.deepEqual(parseSubOptions(data), [{ code: 6, data: Uint8Array.of(0x0b) }]);
  assert.throws(() => parseSubOptions(hex('0605 01')), FormatError);
});

test('RFC 3396: an option over 255 bytes is split and joined; RFC 2131 §4.1 overload into file and sname', () => {
  const long = new Uint8Array(600).map((_, i) => i & 0xff);
  const m = message([
    { code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(5) },
    { code: DHCP_OPT.VENDOR_SPECIFIC, data: long },
  ]);
  const big = serializeDhcpMessage(m, 1500);
  assert.deepEqual(parseDhcpMessage(big), m);
  // 576 bytes leave 335 for options: the rest goes to file (option 52 = 1) and sname.
  const small = serializeDhcpMessage(
    message([
      { code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(5) },
      { code: DHCP_OPT.VENDOR_SPECIFIC, data: new Uint8Array(250).fill(7) },
      { code: DHCP_OPT.BOOTFILE_NAME, data: new Uint8Array(120).fill(0x41) },
      { code: DHCP_OPT.HOST_NAME, data: new Uint8Array(50).fill(0x42) },
    ]),
    576,
  );
  assert.ok(small.length <= 576, `${small.length} bytes`);
  assert.deepEqual(small.subarray(240, 243), hex('340103'));
  assert.equal(small[108], DHCP_OPT.BOOTFILE_NAME);
  assert.equal(small[44], DHCP_OPT.HOST_NAME);
  const back = parseDhcpMessage(small);
  assert.equal(back.file, '');
  assert.equal(dhcpOptionString(back, DHCP_OPT.HOST_NAME), 'B'.repeat(50));
  assert.equal(findDhcpOption(back, DHCP_OPT.BOOTFILE_NAME)?.length, 120);
  assert.equal(findDhcpOption(back, DHCP_OPT.OPTION_OVERLOAD), undefined);
  assert.throws(
    () => serializeDhcpMessage(message([{ code: 43, data: new Uint8Array(1000) }]), 576),
    (e: unknown) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
});

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const text = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });
const messageArb: fc.Arbitrary<DhcpMessage> = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.nat(16),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: text(63),
    file: text(127),
    options: fc
      .uniqueArray(
        fc.record({
          code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52),
          data: fc.uint8Array({ maxLength: 300 }),
        }),
        { selector: (o) => o.code, maxLength: 10 },
      )
      .map((os) => os.map((o) => ({ ...o }))),
  })
  .map((m) => ({ ...m }));

test('an IPv4 address as a 32-bit number, high byte first', () => {
  assert.equal(ipv4Number('0.0.0.0'), 0);
  assert.equal(ipv4Number('10.9.0.1'), 0x0a090001);
  assert.equal(ipv4Number('255.255.255.0'), 0xffffff00);
  assert.throws(() => ipv4Number('10.9.0'), FormatError);
});

test('serialize then parse gives the message back', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      assert.deepEqual(parseDhcpMessage(serializeDhcpMessage(m, 8000)), m);
    }),
    { numRuns: 1000 },
  );
});

test('any bytes parse to a message or fail with FormatError', () => {
  const seed = serializeDhcpMessage(
    message([
      { code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(1) },
      { code: DHCP_OPT.CLASS_ID, data: Buffer.from('PXEClient:Arch:00000:UNDI:002001') },
      { code: DHCP_OPT.CLIENT_ARCH, data: hex('0000') },
    ]),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 700 }),
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.nat(255)), { maxLength: 8 }).map((edits) => {
          const copy = seed.slice();
          for (const [at, b] of edits) copy[at] = b;
          return copy;
        }),
      ),
      (bytes) => {
        try {
          parseDhcpMessage(bytes);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
    { numRuns: 5000 },
  );
});
