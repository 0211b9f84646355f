// A DHCP client for test/boot/dhcp-server.test.ts, run inside the client's network namespace:
//   node dhcp-netns-client.ts MODE
// Sends garbage, a non-PXE DHCPDISCOVER, a BIOS PXE DHCPDISCOVER, then (full) a DHCPREQUEST on 67
// or (proxy) a DHCPREQUEST to the server's port 4011, from 0.0.0.0:68 as a real client does, and
// prints what came back as one JSON object.

import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  DHCP_OPT,
  dhcpMessageType,
  ipv4Bytes,
  parseDhcpMessage,
  serializeDhcpMessage,
  type DhcpOption,
} from '../../src/formats/dhcp/dhcp.ts';
import { clientMessage } from '../helpers/dhcp.ts';

const mode = process.argv[2] ?? 'proxy';
const SERVER = '10.123.0.1';

function discover(
  xid: number,
  pxe: boolean,
  extra: DhcpOption[] = [],
  type = 1,
  ciaddr = '0.0.0.0',
): Uint8Array {
  const options: DhcpOption[] = [{ code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(type) }];
  if (pxe) {
    options.push({ code: DHCP_OPT.CLASS_ID, data: Buffer.from('PXEClient:Arch:00000:UNDI:002001') });
    options.push({ code: DHCP_OPT.CLIENT_ARCH, data: Uint8Array.of(0, 0) });
  }
  options.push(...extra);
  return serializeDhcpMessage(
    clientMessage([0x52, 0x54, 0, 0xaa, 0xbb, pxe ? 1 : 2], options, { xid, flags: 0x8000, ciaddr }),
  );
}

/** One reply as printed: what dhcp-server.test.ts checks. */
export interface DhcpReplySeen {
  xid: number;
  type: number | undefined;
  yiaddr: string;
  siaddr: string;
  file: string;
  from: string;
}

const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const got: DhcpReplySeen[] = [];
socket.on('message', (msg, from) => {
  try {
    const m = parseDhcpMessage(msg);
    got.push({
      xid: m.xid,
      type: dhcpMessageType(m),
      yiaddr: m.yiaddr,
      siaddr: m.siaddr,
      file: m.file,
      from: `${from.address}:${from.port}`,
    });
  } catch {
    // not DHCP
  }
});
await new Promise<void>((resolve) => socket.bind(68, '0.0.0.0', resolve));
socket.setBroadcast(true);
const send = (bytes: Uint8Array, address = '255.255.255.255', port = 67): Promise<void> =>
  new Promise((resolve, reject) => socket.send(bytes, port, address, (e) => (e ? reject(e) : resolve())));
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (let i = 0; i < 50; i++) await send(randomBytes(i * 11));
await send(discover(1, false));
await send(discover(2, true));
await wait(700);
if (mode === 'full') {
  const offered = got.find((g) => g.xid === 2)?.yiaddr ?? '0.0.0.0';
  const ip = ipv4Bytes(offered);
  await send(
    discover(
      3,
      true,
      [
        { code: DHCP_OPT.REQUESTED_IP, data: ip },
        { code: DHCP_OPT.SERVER_ID, data: Uint8Array.of(10, 123, 0, 1) },
      ],
      3,
    ),
  );
} else {
  // PXE 2.1 §2.2.5: the boot server request goes to port 4011, from the address the client got.
  await send(discover(3, true, [], 3, '10.123.0.2'), SERVER, 4011);
}
await wait(700);
process.stdout.write(`${JSON.stringify(got)}\n`);
socket.close();
