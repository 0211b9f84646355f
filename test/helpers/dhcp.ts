// A DHCP client's message for tests: a BOOTREQUEST with a client's usual header, for a MAC.

import type { DhcpMessage, DhcpOption } from '../../src/formats/dhcp/dhcp.ts';

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
