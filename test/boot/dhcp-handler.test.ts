import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import {
  DHCP_MESSAGE_TYPE,
  DHCP_OPT,
  PXE_OPT,
  dhcpMessageType,
  dhcpOptionIp,
  dhcpOptionString,
  findDhcpOption,
  parseDhcpMessage,
  parseSubOptions,
  serializeDhcpMessage,
  serializeUserClass,
  type DhcpMessage,
  type DhcpOption,
} from '../../src/formats/dhcp/dhcp.ts';
import { ipxeScriptUrl } from '../../src/boot/boot-url.ts';
import { clientMessage } from '../helpers/dhcp.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';
import {
  handleDhcpRequest,
  type DhcpContext,
  type DhcpMode,
  type LeaseStore,
} from '../../src/boot/dhcp-handler.ts';

const SERVER = '10.9.0.1';
const HTTP = 'http://10.9.0.1:8080';
const FILES = { bios: 'undionly.kpxe', uefi: 'ipxe.efi' };

function request(
  type: number,
  opts: {
    mac?: number;
    classId?: string;
    arch?: number;
    userClass?: string;
    extra?: DhcpOption[];
    ciaddr?: string;
  } = {},
): DhcpMessage {
  const options: DhcpOption[] = [{ code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(type) }];
  if (opts.classId !== undefined) options.push({ code: DHCP_OPT.CLASS_ID, data: Buffer.from(opts.classId) });
  if (opts.arch !== undefined)
    options.push({ code: DHCP_OPT.CLIENT_ARCH, data: Uint8Array.of(opts.arch >> 8, opts.arch & 0xff) });
  if (opts.userClass !== undefined)
    options.push({ code: DHCP_OPT.USER_CLASS, data: Buffer.from(opts.userClass) });
  options.push({
    code: DHCP_OPT.CLIENT_MACHINE_ID,
    data: Uint8Array.of(0, ...new Uint8Array(16).fill(0xab)),
  });
  options.push(...(opts.extra ?? []));
  // Through the codec both ways, as the server does.
  const mac = [0x52, 0x54, 0, 0, 0, opts.mac ?? 1];
  return parseDhcpMessage(
    serializeDhcpMessage(clientMessage(mac, options, { ciaddr: opts.ciaddr ?? '0.0.0.0' })),
  );
}

const databases: Database[] = [];
after(async () => {
  for (const database of databases) await database.close();
});

/** A context of `mode` whose leases are kept by the machine store, on a new SQLite database in memory. */
async function context(mode: DhcpMode, uefi = 'ipxe.efi'): Promise<DhcpContext & { leases: MachineStore }> {
  const database = await openDatabase({ kind: 'sqlite', path: ':memory:' });
  databases.push(database);
  return {
    mode,
    serverAddress: SERVER,
    httpBase: HTTP,
    bootFiles: { ...FILES, uefi },
    full: {
      rangeStart: '10.9.0.100',
      rangeEnd: '10.9.0.102',
      subnetMask: '255.255.255.0',
      router: '10.9.0.1',
      dnsServers: ['10.9.0.1'],
      leaseSeconds: 3600,
    },
    leases: new MachineStore(database),
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  };
}

const from = { address: '0.0.0.0', port: 68 };
/** Option 43 as sent to PXE clients: PXE_DISCOVERY_CONTROL (6), length 1, 0x0b (no broadcast,
 * no multicast, use the boot file), then END. */
const PXE_43 = Uint8Array.of(6, 1, 0x0b, 255);

// Every mode × client kind × architecture: the boot file offered, or no answer.
const CASES: { name: string; classId?: string; arch?: number; userClass?: string; file: string | null }[] = [
  { name: 'BIOS PXE', classId: 'PXEClient:Arch:00000:UNDI:002001', arch: 0, file: 'undionly.kpxe' },
  { name: 'PXE without option 93 (BIOS)', classId: 'PXEClient', file: 'undionly.kpxe' },
  { name: 'UEFI x64 PXE (7)', classId: 'PXEClient:Arch:00007:UNDI:003016', arch: 7, file: 'ipxe.efi' },
  { name: 'UEFI x64 PXE (9)', classId: 'PXEClient:Arch:00009:UNDI:003016', arch: 9, file: 'ipxe.efi' },
  {
    name: 'UEFI x64 HTTP',
    classId: 'HTTPClient:Arch:00016:UNDI:003001',
    arch: 16,
    file: `${HTTP}/boot/files/ipxe.efi`,
  },
  {
    name: 'iPXE on BIOS',
    classId: 'PXEClient:Arch:00000:UNDI:002001',
    arch: 0,
    userClass: 'iPXE',
    file: ipxeScriptUrl(HTTP),
  },
  {
    name: 'iPXE on UEFI',
    classId: 'PXEClient:Arch:00007:UNDI:003010',
    arch: 7,
    userClass: 'iPXE',
    file: ipxeScriptUrl(HTTP),
  },
  {
    name: 'iPXE with an RFC 3004 user class',
    classId: 'PXEClient',
    arch: 0,
    userClass: Buffer.from(serializeUserClass(['iPXE'])).toString('latin1'),
    file: ipxeScriptUrl(HTTP),
  },
  { name: 'UEFI IA32 PXE (unserved)', classId: 'PXEClient:Arch:00006', arch: 6, file: null },
  { name: 'ARM64 UEFI PXE (unserved)', classId: 'PXEClient:Arch:00011', arch: 11, file: null },
  { name: 'ARM64 HTTP (unserved)', classId: 'HTTPClient:Arch:00019', arch: 19, file: null },
  { name: 'not a PXE client', file: null },
  { name: 'a vendor class that is not PXE', classId: 'MSFT 5.0', file: null },
  { name: 'iPXE user class without PXE class', userClass: 'iPXE', file: null },
];

for (const c of CASES) {
  test(`proxy: ${c.name}`, async () => {
    const ctx = await context('proxy');
    const m = request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, c);
    const reply = await handleDhcpRequest({ message: m, port: 67, from }, ctx);
    if (c.file === null) {
      assert.equal(reply, null);
      return;
    }
    assert.ok(reply);
    const r = reply.message;
    assert.equal(dhcpMessageType(r), DHCP_MESSAGE_TYPE.DHCPOFFER);
    assert.equal(r.yiaddr, '0.0.0.0', 'a proxy gives no address');
    assert.equal(
      r.file,
      c.file.length <= 127 ? c.file : '',
      'a name too long for the file field is in option 67 only',
    );
    assert.equal(dhcpOptionString(r, DHCP_OPT.BOOTFILE_NAME), c.file);
    assert.equal(dhcpOptionIp(r, DHCP_OPT.SERVER_ID), SERVER);
    assert.equal(r.xid, 42);
    assert.equal(findDhcpOption(r, DHCP_OPT.LEASE_TIME), undefined);
    assert.deepEqual(
      findDhcpOption(r, DHCP_OPT.CLIENT_MACHINE_ID),
      Uint8Array.of(0, ...new Uint8Array(16).fill(0xab)),
    );
    assert.deepEqual(reply.to, { address: '255.255.255.255', port: 68 });
    const http = c.file.startsWith('http');
    assert.equal(
      dhcpOptionString(r, DHCP_OPT.CLASS_ID),
      c.classId?.startsWith('HTTPClient') ? 'HTTPClient' : 'PXEClient',
    );
    assert.equal(r.siaddr, SERVER, 'the next server, for HTTP URLs too (iPXE needs it)');
    assert.equal(dhcpOptionString(r, DHCP_OPT.TFTP_SERVER_NAME), http ? undefined : SERVER);
    if (!c.classId?.startsWith('HTTPClient')) {
      const pxe = parseSubOptions(findDhcpOption(r, DHCP_OPT.VENDOR_SPECIFIC) ?? new Uint8Array());
      assert.deepEqual(pxe, [{ code: PXE_OPT.PXE_DISCOVERY_CONTROL, data: Uint8Array.of(0x0b) }]);
    }
    // The same client asks the boot server on 4011: an ACK back to where it came from.
    const ack = await handleDhcpRequest(
      {
        message: request(DHCP_MESSAGE_TYPE.DHCPREQUEST, { ...c, ciaddr: '10.9.0.50' }),
        port: 4011,
        from: { address: '10.9.0.50', port: 68 },
      },
      ctx,
    );
    assert.ok(ack);
    assert.equal(dhcpMessageType(ack.message), DHCP_MESSAGE_TYPE.DHCPACK);
    assert.equal(dhcpOptionString(ack.message, DHCP_OPT.BOOTFILE_NAME), c.file);
    assert.equal(ack.message.siaddr, SERVER);
    assert.deepEqual(ack.to, { address: '10.9.0.50', port: 68 });
    // A REQUEST on 67 belongs to the address-giving server.
    assert.equal(
      await handleDhcpRequest({ message: request(DHCP_MESSAGE_TYPE.DHCPREQUEST, c), port: 67, from }, ctx),
      null,
    );
  });

  test(`full: ${c.name}`, async () => {
    const ctx = await context('full');
    const offer = await handleDhcpRequest(
      { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, c), port: 67, from },
      ctx,
    );
    assert.ok(offer, 'every client gets an address in full mode');
    assert.equal(dhcpMessageType(offer.message), DHCP_MESSAGE_TYPE.DHCPOFFER);
    assert.equal(offer.message.yiaddr, '10.9.0.100');
    assert.equal(dhcpOptionString(offer.message, DHCP_OPT.BOOTFILE_NAME), c.file ?? undefined);
    assert.equal(offer.message.siaddr, c.file === null ? '0.0.0.0' : SERVER);
    // A PXE-aware DHCP server's offer to a PXE client: "PXEClient" and option 43 (PXE 2.1 §2.2.1).
    const pxe = c.file !== null && !c.classId?.startsWith('HTTPClient');
    assert.deepEqual(findDhcpOption(offer.message, DHCP_OPT.VENDOR_SPECIFIC), pxe ? PXE_43 : undefined);
    assert.equal(dhcpOptionIp(offer.message, DHCP_OPT.SUBNET_MASK), '255.255.255.0');
    assert.equal(dhcpOptionIp(offer.message, DHCP_OPT.ROUTER), '10.9.0.1');
    assert.deepEqual(findDhcpOption(offer.message, DHCP_OPT.LEASE_TIME), Uint8Array.of(0, 0, 0x0e, 0x10));
    const req = request(DHCP_MESSAGE_TYPE.DHCPREQUEST, {
      ...c,
      extra: [
        { code: DHCP_OPT.REQUESTED_IP, data: Uint8Array.of(10, 9, 0, 100) },
        { code: DHCP_OPT.SERVER_ID, data: Uint8Array.of(10, 9, 0, 1) },
      ],
    });
    const ack = await handleDhcpRequest({ message: req, port: 67, from }, ctx);
    assert.ok(ack);
    assert.equal(dhcpMessageType(ack.message), DHCP_MESSAGE_TYPE.DHCPACK);
    assert.equal(ack.message.yiaddr, '10.9.0.100');
    assert.equal(dhcpOptionString(ack.message, DHCP_OPT.BOOTFILE_NAME), c.file ?? undefined);
    assert.deepEqual(findDhcpOption(ack.message, DHCP_OPT.VENDOR_SPECIFIC), pxe ? PXE_43 : undefined);
    assert.deepEqual(
      (await ctx.leases.listLeases()).map((l) => [l.ip, l.mac, l.expiresAt]),
      [['10.9.0.100', '52:54:00:00:00:01', '2026-01-01T01:00:00.000Z']],
    );
  });
}

test('off: nothing is answered', async () => {
  for (const c of CASES) {
    assert.equal(
      await handleDhcpRequest(
        { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, c), port: 67, from },
        await context('off'),
      ),
      null,
    );
  }
});

/** The options area of a serialized reply (after the 236-byte header and the magic cookie) as
 * [code, bytes] pairs, in order. */
function rawOptions(bytes: Uint8Array): [number, number[]][] {
  const out: [number, number[]][] = [];
  let i = 240;
  while (i < bytes.length && bytes[i] !== 255) {
    const code = bytes[i] ?? 0;
    if (code === 0) {
      i++;
      continue;
    }
    const len = bytes[i + 1] ?? 0;
    out.push([code, [...bytes.subarray(i + 2, i + 2 + len)]]);
    i += 2 + len;
  }
  return out;
}

const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];

/** Options 60 "PXEClient", 43 (PXE_DISCOVERY_CONTROL 0x0b) and 67 `file`, as bytes. */
function assertPxeBootOptions(options: [number, number[]][], file: string): void {
  assert.deepEqual(
    options.find(([code]) => code === 60),
    [60, ascii('PXEClient')],
  );
  assert.deepEqual(
    options.find(([code]) => code === 43),
    [43, [6, 1, 0x0b, 255]],
  );
  assert.deepEqual(
    options.find(([code]) => code === 67),
    [67, ascii(file)],
  );
}

test('bytes on the wire: OVMF PXE (arch 7) in full mode gets a PXE offer it boots from', async () => {
  // OVMF's PxeBcParseDhcp4Packet: an offer with yiaddr, "PXEClient" and no option 43 is a BINL
  // offer, and OVMF then asks the boot server on 4011 — nobody answers in full mode (PXE-E16).
  // With PXE_DISCOVERY_CONTROL in option 43 it is a PXE 1.0 offer and the file here is used.
  const reply = await handleDhcpRequest(
    {
      message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, {
        classId: 'PXEClient:Arch:00007:UNDI:003000',
        arch: 7,
      }),
      port: 67,
      from,
    },
    await context('full'),
  );
  assert.ok(reply);
  const bytes = serializeDhcpMessage(reply.message, reply.maxSize);
  assert.deepEqual([...bytes.subarray(16, 24)], [10, 9, 0, 100, 10, 9, 0, 1], 'yiaddr, siaddr');
  assert.deepEqual([...bytes.subarray(108, 117)], [...ascii('ipxe.efi'), 0], 'file field');
  assertPxeBootOptions(rawOptions(bytes), 'ipxe.efi');
  assert.deepEqual(reply.to, { address: '255.255.255.255', port: 68 });
});

test('bytes on the wire: iPXE beside another DHCP server gets the script URL from the proxy', async () => {
  // Older iPXE builds such as Debian's 2019 one (dhcp_has_pxeopts) take a "PXEClient" reply as
  // boot options only with a non-zero siaddr and a file name; otherwise they ignore the proxy's
  // OFFER and ACK.
  const ctx = await context('proxy');
  const ipxe = { classId: 'PXEClient:Arch:00000:UNDI:002001', arch: 0, userClass: 'iPXE' };
  const offer = await handleDhcpRequest(
    { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, ipxe), port: 67, from },
    ctx,
  );
  const ack = await handleDhcpRequest(
    {
      message: request(DHCP_MESSAGE_TYPE.DHCPREQUEST, { ...ipxe, ciaddr: '10.9.0.60' }),
      port: 4011,
      from: { address: '10.9.0.60', port: 68 },
    },
    ctx,
  );
  for (const [name, reply, ciaddr] of [
    ['OFFER', offer, [0, 0, 0, 0]],
    ['ACK', ack, [10, 9, 0, 60]],
  ] as const) {
    assert.ok(reply, name);
    const bytes = serializeDhcpMessage(reply.message, reply.maxSize);
    assert.deepEqual(
      [...bytes.subarray(12, 24)],
      [...ciaddr, 0, 0, 0, 0, 10, 9, 0, 1],
      `${name}: ciaddr, no yiaddr, siaddr`,
    );
    assert.equal(bytes[108], 0, `${name}: the URL is too long for the file field`);
    const options = rawOptions(bytes);
    assert.deepEqual(options[0], [53, [name === 'OFFER' ? 2 : 5]]);
    assert.deepEqual(options[1], [54, [10, 9, 0, 1]]);
    assertPxeBootOptions(options, ipxeScriptUrl(HTTP));
  }
  assert.deepEqual(ack?.to, { address: '10.9.0.60', port: 68 });
});

test('snponly.efi by config', async () => {
  const reply = await handleDhcpRequest(
    { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, { classId: 'PXEClient', arch: 7 }), port: 67, from },
    await context('proxy', 'snponly.efi'),
  );
  assert.equal(reply?.message.file, 'snponly.efi');
});

test('full: a /16 range with its first 5,000 addresses held is served with one read of the leases', async () => {
  const ctx = await context('full');
  const full = {
    rangeStart: '10.9.0.1',
    rangeEnd: '10.9.255.254',
    subnetMask: '255.255.0.0',
    leaseSeconds: 3600,
  };
  const expires = '2026-01-01T01:00:00.000Z';
  for (let i = 0; i < 5000; i++) {
    const n = i + 1;
    const held = await ctx.leases.claimLease(
      `10.9.${n >> 8}.${n & 255}`,
      `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      expires,
    );
    assert.ok(held);
  }
  // An expired lease of someone else's does not hold its address.
  await ctx.leases.claimLease('10.9.19.137', '02:00:00:00:ff:ff', '2025-12-31T00:00:00.000Z');
  const reads = { byIp: 0, list: 0 };
  const store = ctx.leases;
  const leases: LeaseStore = {
    claimLease: (ip, mac, expiresAt, now) => store.claimLease(ip, mac, expiresAt, now),
    getLeaseByMac: (mac) => store.getLeaseByMac(mac),
    releaseLease: (ip, mac) => store.releaseLease(ip, mac),
    getLeaseByIp: (ip) => (reads.byIp++, store.getLeaseByIp(ip)),
    listLeases: (at) => (reads.list++, store.listLeases(at)),
  };
  const reply = await handleDhcpRequest(
    { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, { mac: 7 }), port: 67, from },
    { ...ctx, full, leases },
  );
  assert.equal(reply?.message.yiaddr, '10.9.19.137');
  assert.deepEqual(reads, { byIp: 0, list: 1 });
});

test('full: leases — same address again, range exhausted, NAK, another server chosen, DECLINE, RELEASE, INFORM', async () => {
  const ctx = await context('full');
  const discover = (mac: number): Promise<string | undefined> =>
    handleDhcpRequest(
      { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, { mac }), port: 67, from },
      ctx,
    ).then((r) => r?.message.yiaddr);
  const requestIp = (mac: number, ip: number[], serverId?: number[]) =>
    handleDhcpRequest(
      {
        message: request(DHCP_MESSAGE_TYPE.DHCPREQUEST, {
          mac,
          extra: [
            { code: DHCP_OPT.REQUESTED_IP, data: Uint8Array.from(ip) },
            ...(serverId ? [{ code: DHCP_OPT.SERVER_ID, data: Uint8Array.from(serverId) }] : []),
          ],
        }),
        port: 67,
        from,
      },
      ctx,
    );
  assert.equal(await discover(1), '10.9.0.100');
  assert.equal(await discover(1), '10.9.0.100', 'the held offer is offered again');
  assert.equal(await discover(2), '10.9.0.101');
  assert.equal(await discover(3), '10.9.0.102');
  assert.equal(await discover(4), undefined, 'range exhausted: no offer');
  // Client 2 asks for client 1's address: NAK (broadcast).
  const nak = await requestIp(2, [10, 9, 0, 100]);
  assert.equal(nak && dhcpMessageType(nak.message), DHCP_MESSAGE_TYPE.DHCPNAK);
  assert.deepEqual(nak?.to, { address: '255.255.255.255', port: 68 });
  // Out of range: NAK.
  const out = await requestIp(1, [192, 168, 1, 1]);
  assert.equal(out && dhcpMessageType(out.message), DHCP_MESSAGE_TYPE.DHCPNAK);
  // Client 3 took another server's offer: its held address is freed.
  assert.equal(await requestIp(3, [10, 9, 0, 102], [10, 9, 0, 254]), null);
  assert.equal(await discover(4), '10.9.0.102');
  // Client 2 declines its address: not offered again for a while.
  await handleDhcpRequest(
    {
      message: request(DHCP_MESSAGE_TYPE.DHCPDECLINE, {
        mac: 2,
        extra: [{ code: DHCP_OPT.REQUESTED_IP, data: Uint8Array.of(10, 9, 0, 101) }],
      }),
      port: 67,
      from,
    },
    ctx,
  );
  assert.equal((await ctx.leases.getLeaseByIp('10.9.0.101'))?.mac, '00:00:00:00:00:00');
  // Client 1 releases: its address is free.
  assert.equal(
    await handleDhcpRequest(
      { message: request(DHCP_MESSAGE_TYPE.DHCPRELEASE, { mac: 1, ciaddr: '10.9.0.100' }), port: 67, from },
      ctx,
    ),
    null,
  );
  assert.equal(await ctx.leases.getLeaseByIp('10.9.0.100'), undefined);
  // INFORM: configuration only, to the client's own address.
  const inform = await handleDhcpRequest(
    { message: request(DHCP_MESSAGE_TYPE.DHCPINFORM, { mac: 9, ciaddr: '10.9.0.77' }), port: 67, from },
    ctx,
  );
  assert.ok(inform);
  assert.equal(dhcpMessageType(inform.message), DHCP_MESSAGE_TYPE.DHCPACK);
  assert.equal(inform.message.yiaddr, '0.0.0.0');
  assert.equal(findDhcpOption(inform.message, DHCP_OPT.LEASE_TIME), undefined);
  assert.deepEqual(inform.to, { address: '10.9.0.77', port: 68 });
  // Renewal (ciaddr set, no server id): ACK unicast.
  const renew = await handleDhcpRequest(
    { message: request(DHCP_MESSAGE_TYPE.DHCPREQUEST, { mac: 4, ciaddr: '10.9.0.102' }), port: 67, from },
    ctx,
  );
  assert.equal(renew && dhcpMessageType(renew.message), DHCP_MESSAGE_TYPE.DHCPACK);
  assert.deepEqual(renew?.to, { address: '10.9.0.102', port: 68 });
});

test('any request: the handler answers or not, and an answer serializes', async () => {
  const interesting = fc.constantFrom(
    DHCP_OPT.MESSAGE_TYPE,
    DHCP_OPT.CLASS_ID,
    DHCP_OPT.CLIENT_ARCH,
    DHCP_OPT.USER_CLASS,
    DHCP_OPT.CLIENT_MACHINE_ID,
    DHCP_OPT.REQUESTED_IP,
    DHCP_OPT.SERVER_ID,
    DHCP_OPT.MAX_MESSAGE_SIZE,
  );
  const optionArb = fc.record({
    code: interesting,
    data: fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(
        Uint8Array.of(1),
        Uint8Array.of(3),
        Buffer.from('PXEClient'),
        Buffer.from('HTTPClient'),
        Buffer.from('iPXE'),
        Uint8Array.of(0, 7),
      ),
    ),
  });
  const contexts = { proxy: await context('proxy'), full: await context('full') };
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(optionArb, { selector: (o) => o.code, maxLength: 8 }),
      fc.constantFrom('proxy' as const, 'full' as const),
      fc.constantFrom(67, 4011),
      fc.constantFrom('0.0.0.0', '10.9.0.101', '192.168.0.1'),
      async (options, mode, port, ciaddr) => {
        const m = request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, { ciaddr });
        const message = {
          ...m,
          options: options.map((o) => ({ code: o.code, data: Uint8Array.from(o.data) })),
        };
        const reply = await handleDhcpRequest({ message, port, from }, contexts[mode]);
        if (reply !== null) parseDhcpMessage(serializeDhcpMessage(reply.message, reply.maxSize));
      },
    ),
    { numRuns: 3000 },
  );
});

test('a UEFI PXE client whose chain is shim gets shimx64.efi; BIOS, HTTP boot and iPXE clients are never asked', async () => {
  for (const mode of ['proxy', 'full'] as const) {
    const asked: string[] = [];
    const ctx: DhcpContext = {
      ...(await context(mode)),
      uefiChain: (mac) => {
        asked.push(mac);
        return Promise.resolve('shim');
      },
    };
    for (const c of CASES) {
      const reply = await handleDhcpRequest(
        { message: request(DHCP_MESSAGE_TYPE.DHCPDISCOVER, { ...c, mac: 9 }), port: 67, from },
        ctx,
      );
      const file = reply === null ? null : (dhcpOptionString(reply.message, DHCP_OPT.BOOTFILE_NAME) ?? null);
      const uefiPxe = c.arch === 7 || c.arch === 9 ? c.userClass === undefined : false;
      assert.equal(file, uefiPxe ? 'shimx64.efi' : c.file, `${mode}: ${c.name}`);
    }
    assert.deepEqual(
      asked,
      ['52:54:00:00:00:09', '52:54:00:00:00:09'],
      'asked for the two UEFI PXE clients only',
    );
  }
});
