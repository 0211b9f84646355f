// The DHCP socket loop around dhcp-handler.ts: receives on one interface's address, answers what
// the handler answers, logs and drops anything it cannot read, and never dies of one packet.
//
// Sockets (Linux; Node's dgram has no SO_BINDTODEVICE and no IP_PKTINFO):
//   - 0.0.0.0:67 — the only socket a client's broadcast (255.255.255.255, from 0.0.0.0) reaches;
//     a socket bound to the interface's own address does not receive limited broadcasts.
//   - ADDRESS:67 — the interface's address: unicast requests (renewals) and the replies. Sending a
//     limited broadcast from a socket bound to an interface's address leaves by that interface
//     (the kernel picks the device of the source address), so replies go out the right port.
//   - ADDRESS:4011 — proxy mode's boot server port (PXE 2.1 §2.2.5), unicast from the client.
// Both port-67 sockets use SO_REUSEADDR so that another DHCP server (e.g. dnsmasq giving addresses
// beside a proxy) may bind the port too; Linux hands broadcasts to every such socket. A broadcast
// that arrived on another interface cannot be told apart by the socket; requests carrying an
// address (ciaddr, giaddr) outside the interface's subnet are dropped, and in proxy mode only PXE
// clients are answered. Run the server on the boot network's interface (or in its namespace).

import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { AppError, errorText } from '../core/errors.ts';
import { dhcpClientMac, parseDhcpMessage, serializeDhcpMessage, ipv4Number } from '../formats/dhcp/dhcp.ts';
import { silentBootLog, type BootLog } from './boot-log.ts';
import {
  handleDhcpRequest,
  type DhcpBootFiles,
  type DhcpContext,
  type DhcpFullSettings,
  type LeaseStore,
} from './dhcp-handler.ts';
import { bindUdp } from './udp.ts';
import { interfaceIpv4s, type InterfaceAddress } from './interfaces.ts';
import type { UefiChain } from './boot-chain.ts';

export interface DhcpServerOptions {
  readonly mode: 'proxy' | 'full';
  /** The boot network's interface, e.g. br0. */
  readonly interface: string;
  /** Its IPv4 address; by default the interface's first. */
  readonly serverAddress?: string;
  readonly bootFiles: DhcpBootFiles;
  readonly httpBase: string;
  /** Full mode: the range and options given out. */
  readonly range?: DhcpFullSettings;
  /** Full mode: where leases are kept (the catalog). */
  readonly leases?: LeaseStore;
  /** The chain of a UEFI PXE client by MAC (dhcp-handler.ts); absent: iPXE. */
  readonly uefiChain?: (mac: string) => Promise<UefiChain>;
  /** Told the MAC (lower case, colons) of each request from this network, before it is answered. */
  readonly onRequest?: (mac: string) => void;
  readonly signal?: AbortSignal;
  readonly log?: BootLog;
  /** Ports (default 67 and 4011): other values only for tests. */
  readonly serverPort?: number;
  readonly proxyPort?: number;
}

export interface DhcpServer {
  readonly serverAddress: string;
  close(): Promise<void>;
}

/** An interface's IPv4 address (`wanted`, or its first) and netmask; INVALID_ARGUMENT if it has none. */
export function interfaceAddress(name: string, wanted?: string): InterfaceAddress {
  const addresses = interfaceIpv4s(name);
  if (addresses.length === 0) {
    throw new AppError('INVALID_ARGUMENT', `interface ${name} has no IPv4 address`, {
      hint: `name the boot network's interface with --interface (seen: ${Object.keys(networkInterfaces()).join(', ')})`,
    });
  }
  const found = wanted === undefined ? addresses[0] : addresses.find((a) => a.address === wanted);
  if (found === undefined) {
    throw new AppError('INVALID_ARGUMENT', `interface ${name} does not have address ${wanted ?? ''}`, {
      hint: `its addresses: ${addresses.map((a) => a.address).join(', ')}`,
    });
  }
  return found;
}

/** Starts answering DHCP on one interface; resolves once the sockets are bound. */
export async function startDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const log = options.log ?? silentBootLog;
  const iface = interfaceAddress(options.interface, options.serverAddress);
  const serverAddress = iface.address;
  const mask = ipv4Number(iface.netmask);
  const subnet = ipv4Number(serverAddress) & mask;
  if (options.mode === 'full' && (options.range === undefined || options.leases === undefined)) {
    throw new AppError('INVALID_ARGUMENT', 'DHCP full mode needs an address range and a lease store', {
      hint: 'set dhcp.range in the config (first and last address) or use --dhcp proxy',
    });
  }
  const context: DhcpContext = {
    mode: options.mode,
    serverAddress,
    httpBase: options.httpBase,
    bootFiles: options.bootFiles,
    ...(options.range === undefined ? {} : { full: options.range }),
    ...(options.leases === undefined ? {} : { leases: options.leases }),
    ...(options.uefiChain === undefined ? {} : { uefiChain: options.uefiChain }),
  };
  const serverPort = options.serverPort ?? 67;
  const proxyPort = options.proxyPort ?? 4011;
  const sockets: dgram.Socket[] = [];
  const make = (): dgram.Socket => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    sockets.push(s);
    return s;
  };
  const anySocket = make();
  const unicastSocket = make();
  const proxySocket = options.mode === 'proxy' ? make() : undefined;
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const sameSubnet = (ip: string): boolean => ip === '0.0.0.0' || (ipv4Number(ip) & mask) === subnet;

  async function handle(msg: Buffer, from: dgram.RemoteInfo, port: number): Promise<void> {
    const client = `${from.address}:${from.port}`;
    log.count?.({ counter: 'dhcp-packet', direction: 'received' });
    let message;
    try {
      message = parseDhcpMessage(msg);
    } catch (e) {
      log.count?.({ counter: 'dhcp-packet', direction: 'dropped' });
      log.log('debug', 'DHCP packet dropped', { client, error: errorText(e) });
      return;
    }
    if (!sameSubnet(message.ciaddr) || !sameSubnet(message.giaddr)) {
      log.count?.({ counter: 'dhcp-packet', direction: 'dropped' });
      log.log('debug', 'DHCP request from another network dropped', {
        client,
        ciaddr: message.ciaddr,
        giaddr: message.giaddr,
      });
      return;
    }
    options.onRequest?.(dhcpClientMac(message));
    const reply = await handleDhcpRequest(
      { message, port, from: { address: from.address, port: from.port } },
      context,
    );
    if (reply === null || closed) return;
    const bytes = serializeDhcpMessage(reply.message, reply.maxSize);
    const out = port === proxyPort && proxySocket !== undefined ? proxySocket : unicastSocket;
    await new Promise<void>((resolve) => {
      out.send(bytes, reply.to.port, reply.to.address, (e) => {
        if (e) log.log('warn', 'DHCP reply not sent', { client, to: reply.to, error: e.message });
        else {
          log.count?.({ counter: 'dhcp-packet', direction: 'sent' });
          log.log('info', `DHCP ${reply.summary}`, { client, to: `${reply.to.address}:${reply.to.port}` });
        }
        resolve();
      });
    });
  }

  const listen = (socket: dgram.Socket, port: number): void => {
    socket.on('message', (msg, from) => {
      const p = handle(msg, from, port).catch((e: unknown) => {
        log.log('error', 'DHCP request failed', { error: errorText(e) });
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    });
    socket.on('error', (e) => log.log('error', 'DHCP socket error', { error: e.message }));
  };

  try {
    await bindUdp(anySocket, { port: serverPort, address: '0.0.0.0', exclusive: true });
    await bindUdp(unicastSocket, { port: serverPort, address: serverAddress, exclusive: true });
    unicastSocket.setBroadcast(true);
    if (proxySocket !== undefined)
      await bindUdp(proxySocket, { port: proxyPort, address: serverAddress, exclusive: true });
  } catch (cause) {
    for (const s of sockets) s.close();
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new AppError(
      'IO_ERROR',
      `cannot listen for DHCP on ${options.interface} (${serverAddress}): ${code}`,
      {
        hint:
          code === 'EACCES'
            ? 'DHCP ports are below 1024: run as root or grant CAP_NET_BIND_SERVICE'
            : 'is another DHCP server bound without SO_REUSEADDR?',
        cause,
      },
    );
  }
  listen(anySocket, serverPort);
  listen(unicastSocket, serverPort);
  if (proxySocket !== undefined) listen(proxySocket, proxyPort);
  log.log('info', 'DHCP server listening', {
    mode: options.mode,
    interface: options.interface,
    address: serverAddress,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.all([...inFlight]);
      log.log('info', 'DHCP server stopped', {});
    })();
    return closing;
  };
  if (options.signal !== undefined) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { serverAddress, close };
}
