// A DHCP client's message for tests: a BOOTREQUEST with a client's usual header, for a MAC; and a
// real client, busybox udhcpc (Debian udhcpc), asking for a lease as a BIOS PXE client.

import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/engines/run.ts';
import type { DhcpMessage, DhcpOption } from '../../src/formats/dhcp/dhcp.ts';

const EVENT_SCRIPT = fileURLToPath(new URL('../boot/udhcpc-event.sh', import.meta.url));

/**
 * One lease asked by udhcpc on `iface` inside the namespace `ns` (tries, one second apart), as a
 * BIOS PXE client; its event script prints `EVENT bound ip=… boot_file=… siaddr=… serverid=…`.
 * Everything it printed.
 */
export async function udhcpcLease(
  ns: string,
  iface: string,
  options: { readonly tries: number; readonly extra?: readonly string[] },
): Promise<string> {
  const lease = await runProgram('ip', [
    'netns',
    'exec',
    ns,
    'udhcpc',
    '-i',
    iface,
    '-f',
    '-q',
    '-n',
    '-t',
    String(options.tries),
    '-T',
    '1',
    '-s',
    EVENT_SCRIPT,
    '-V',
    'PXEClient:Arch:00000:UNDI:002001',
    ...(options.extra ?? []),
  ]);
  return lease.stdout.toString() + lease.stderr;
}

/** The 16-byte chaddr of a 6-byte MAC. */
function chaddrOf(mac: readonly number[]): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac);
  return chaddr;
}

/**
 * A BOOTREQUEST (op 1, Ethernet) from `mac` with `options`; every other header field a client
 * leaves empty unless `fields` sets it (xid 42, no flags).
 */
export function clientMessage(
  mac: readonly number[],
  options: readonly DhcpOption[],
  fields: Partial<Omit<DhcpMessage, 'chaddr' | 'options'>> = {},
): DhcpMessage {
  return {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 42,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    sname: '',
    file: '',
    ...fields,
    chaddr: chaddrOf(mac),
    options,
  };
}
