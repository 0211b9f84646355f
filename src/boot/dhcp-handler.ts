// The DHCP logic of network boot, apart from sockets (the smee way): a request and its context
// in, a reply or nothing out. Three modes:
//   proxy — another server gives addresses; this one answers PXE and UEFI HTTP boot clients only
//           (option 60 "PXEClient…"/"HTTPClient…"), with boot information and no address
//           (PXE 2.1 §2.2.4 "proxyDHCP"), on port 67 (an OFFER) and 4011 (an ACK to the client's
//           REQUEST or INFORM sent there). Any other client gets nothing.
//   full  — addresses from a range, leases kept in a LeaseStore (the catalog), RFC 2131 §4.3;
//           boot information for PXE clients only.
//   off   — nothing.
// The boot file by client: user class "iPXE" (RFC 3004; iPXE sends it) → the URL of its
// per-machine script; option 60 HTTPClient (UEFI 2.10 §24.7 HTTP boot) → an http:// URL of iPXE;
// PXEClient with architecture (RFC 4578 §2.1) 0 → the BIOS file (undionly.kpxe), 7 or 9 → the
// UEFI x64 file (ipxe.efi or snponly.efi), or shimx64.efi when the machine's chain is shim
// (boot-chain.ts: Secure Boot); any other architecture is not served.

import {
  DHCP_CLIENT_ARCH,
  DHCP_FLAG_BROADCAST,
  DHCP_MESSAGE_TYPE,
  DHCP_OP,
  DHCP_OPT,
  PXE_DISCOVERY,
  PXE_OPT,
  dhcpClientMac,
  dhcpMessageType,
  dhcpOptionIp,
  dhcpOptionString,
  findDhcpOption,
  ipv4Bytes,
  ipv4FromNumber,
  ipv4Number,
  parseClientArch,
  parseUserClass,
  serializeSubOptions,
  stringBytes,
  u32Bytes,
  type DhcpMessage,
  type DhcpOption,
} from '../formats/dhcp/dhcp.ts';
import { SHIM_BOOT_FILE, type UefiChain } from './boot-chain.ts';
import { bootFileUrl, ipxeScriptUrl } from './boot-url.ts';

export type DhcpMode = 'proxy' | 'full' | 'off';

/** A lease as the machine store keeps it (src/machines/machine-store.ts `Lease`). */
export interface DhcpLease {
  readonly ip: string;
  readonly mac: string;
  readonly expiresAt: string;
}

/** Where leases live: the machine store (src/machines/machine-store.ts) implements it. */
export interface LeaseStore {
  /** Gives `ip` to `mac` until `expiresAt` unless another MAC holds it unexpired; false if refused. */
  claimLease(ip: string, mac: string, expiresAt: string, now?: string): Promise<boolean>;
  getLeaseByIp(ip: string): Promise<DhcpLease | undefined>;
  getLeaseByMac(mac: string): Promise<DhcpLease | undefined>;
  /** Leases; with `activeAt` (ISO time), only those not expired then. */
  listLeases(activeAt?: string): Promise<DhcpLease[]>;
  releaseLease(ip: string, mac: string): Promise<boolean>;
}

export interface DhcpBootFiles {
  /** For BIOS PXE (architecture 0), a name under the TFTP root, e.g. undionly.kpxe. */
  readonly bios: string;
  /** For x64 UEFI PXE and HTTP boot (architectures 7, 9, 16), e.g. ipxe.efi or snponly.efi. */
  readonly uefi: string;
}

export interface DhcpFullSettings {
  /** First and last address given out (inclusive). */
  readonly rangeStart: string;
  readonly rangeEnd: string;
  readonly subnetMask: string;
  readonly router?: string;
  readonly dnsServers?: readonly string[];
  readonly leaseSeconds: number;
}

export interface DhcpContext {
  readonly mode: DhcpMode;
  /** This server's address on the boot interface: option 54, siaddr and the TFTP server. */
  readonly serverAddress: string;
  /** Base URL of the HTTP boot routes as clients reach them, e.g. http://10.0.0.1:8080. */
  readonly httpBase: string;
  readonly bootFiles: DhcpBootFiles;
  /** Required in full mode. */
  readonly full?: DhcpFullSettings;
  /** Required in full mode. */
  readonly leases?: LeaseStore;
  /** Current time in ms (Date.now by default) — for tests. */
  readonly now?: () => number;
  /** The chain of a UEFI PXE client, by MAC (boot-chain.ts); absent: always iPXE. */
  readonly uefiChain?: (mac: string) => Promise<UefiChain>;
}

export interface DhcpRequest {
  readonly message: DhcpMessage;
  /** The port it arrived on: 67, or 4011 for a proxyDHCP boot server request. */
  readonly port: number;
  /** The sender (for replies on 4011, which go back where the request came from). */
  readonly from: { readonly address: string; readonly port: number };
}

export interface DhcpReply {
  readonly message: DhcpMessage;
  readonly to: { readonly address: string; readonly port: number };
  /** Largest reply the client accepts (option 57, at least 576). */
  readonly maxSize: number;
  /** One line for the log. */
  readonly summary: string;
}

export type DhcpClientKind = 'ipxe' | 'http' | 'pxe' | 'other';

export interface DhcpClientInfo {
  readonly kind: DhcpClientKind;
  readonly mac: string;
  /** Option 93's first architecture; undefined when not sent. */
  readonly arch: number | undefined;
  readonly classId: string | undefined;
}

/** Offers hold an address this long before a REQUEST confirms it (RFC 2131 §4.3.1 leaves it open). */
const OFFER_HOLD_SECONDS = 60;
/** An address a client declined (in use by someone else, RFC 2131 §4.3.3) is not offered again for this long. */
const DECLINE_HOLD_SECONDS = 600;
/** The MAC a declined address is leased to while held. */
const DECLINED_MAC = '00:00:00:00:00:00';
const ZERO = '0.0.0.0';
const BROADCAST = '255.255.255.255';

export function classifyDhcpClient(message: DhcpMessage): DhcpClientInfo {
  const classId = dhcpOptionString(message, DHCP_OPT.CLASS_ID);
  const userClassData = findDhcpOption(message, DHCP_OPT.USER_CLASS);
  const userClasses = userClassData === undefined ? [] : parseUserClass(userClassData);
  const archData = findDhcpOption(message, DHCP_OPT.CLIENT_ARCH);
  let arch: number | undefined;
  if (archData !== undefined && archData.length >= 2 && archData.length % 2 === 0)
    arch = parseClientArch(archData)[0];
  let kind: DhcpClientKind = 'other';
  if (classId?.startsWith('HTTPClient')) kind = 'http';
  else if (classId?.startsWith('PXEClient')) kind = 'pxe';
  if (kind !== 'other' && userClasses.includes('iPXE')) kind = 'ipxe';
  return { kind, mac: dhcpClientMac(message), arch, classId };
}

export interface BootChoice {
  /** TFTP file name, or an http:// URL. */
  readonly file: string;
  /** Option 60 to answer with. */
  readonly classId: 'PXEClient' | 'HTTPClient';
}

/** Whether the client is a UEFI x64 PXE client (architecture 7 or 9), whose chain may be shim's. */
function isUefiPxe(client: DhcpClientInfo): boolean {
  return (
    client.kind === 'pxe' &&
    (client.arch === DHCP_CLIENT_ARCH.EFI_X64_BC || client.arch === DHCP_CLIENT_ARCH.EFI_X86_64)
  );
}

/**
 * The boot file for a client, or undefined when it is not a boot client this server serves.
 * `chain`: the UEFI PXE client's chain (iPXE unless told).
 */
export function chooseBootFile(
  client: DhcpClientInfo,
  context: DhcpContext,
  chain: UefiChain = 'ipxe',
): BootChoice | undefined {
  const arch = client.arch ?? DHCP_CLIENT_ARCH.X86_BIOS;
  switch (client.kind) {
    case 'ipxe':
      return {
        file: ipxeScriptUrl(context.httpBase),
        classId: client.classId?.startsWith('HTTPClient') ? 'HTTPClient' : 'PXEClient',
      };
    case 'http':
      if (arch === DHCP_CLIENT_ARCH.EFI_X64_HTTP) {
        return { file: bootFileUrl(context.httpBase, context.bootFiles.uefi), classId: 'HTTPClient' };
      }
      return undefined;
    case 'pxe':
      if (arch === DHCP_CLIENT_ARCH.X86_BIOS) return { file: context.bootFiles.bios, classId: 'PXEClient' };
      if (arch === DHCP_CLIENT_ARCH.EFI_X64_BC || arch === DHCP_CLIENT_ARCH.EFI_X86_64) {
        return { file: chain === 'shim' ? SHIM_BOOT_FILE : context.bootFiles.uefi, classId: 'PXEClient' };
      }
      return undefined;
    case 'other':
      return undefined;
  }
}

function option(code: number, data: Uint8Array): DhcpOption {
  return { code, data };
}

function bootOptions(
  choice: BootChoice,
  context: DhcpContext,
  request: DhcpMessage,
  proxy: boolean,
): DhcpOption[] {
  const options = [option(DHCP_OPT.CLASS_ID, stringBytes(choice.classId))];
  if (!choice.file.startsWith('http'))
    options.push(option(DHCP_OPT.TFTP_SERVER_NAME, stringBytes(context.serverAddress)));
  options.push(option(DHCP_OPT.BOOTFILE_NAME, stringBytes(choice.file)));
  if (choice.classId === 'PXEClient') {
    // PXE 2.1 §2.4: no boot server discovery, no menu — take the boot file named here. Proxy and
    // full mode alike: an offer with "PXEClient" and no option 43 is a BINL offer to EDK2/OVMF
    // (PxeBcParseDhcp4Packet), which then asks the boot server on 4011 for the file — in full
    // mode nobody answers there and OVMF gives up with PXE-E16.
    const control =
      PXE_DISCOVERY.DISABLE_BROADCAST | PXE_DISCOVERY.DISABLE_MULTICAST | PXE_DISCOVERY.USE_BOOTFILE;
    options.push(
      option(
        DHCP_OPT.VENDOR_SPECIFIC,
        serializeSubOptions([{ code: PXE_OPT.PXE_DISCOVERY_CONTROL, data: Uint8Array.of(control) }]),
      ),
    );
  }
  const uuid = findDhcpOption(request, DHCP_OPT.CLIENT_MACHINE_ID);
  // PXE 2.1 §2.2.4: a proxy echoes the client's machine identifier.
  if (proxy && uuid !== undefined) options.push(option(DHCP_OPT.CLIENT_MACHINE_ID, uuid));
  return options;
}

/**
 * The BOOTP fields of a reply with a boot file. siaddr (the next server) is this server even when
 * the file is an http:// URL: older iPXE builds such as Debian's 2019 one (dhcp_has_pxeopts in
 * src/net/udp/dhcp.c) count a "PXEClient" reply as carrying boot options only with a non-zero
 * siaddr and a file name; without it they ignore the proxy's OFFER and its ACK on 4011 and say
 * "Nothing to boot".
 */
function bootFields(choice: BootChoice, context: DhcpContext): { siaddr: string; file: string } {
  return { siaddr: context.serverAddress, file: fileField(choice.file) };
}

/**
 * The BOOTP `file` field holds 127 bytes (RFC 2131 §2); a longer name (iPXE script URLs are ~200)
 * travels in option 67 alone, which clients read first (RFC 2132 §9.5).
 */
function fileField(file: string): string {
  return file.length <= 127 ? file : '';
}

function maxSizeOf(request: DhcpMessage): number {
  const data = findDhcpOption(request, DHCP_OPT.MAX_MESSAGE_SIZE);
  const asked = data?.length === 2 ? ((data[0] ?? 0) << 8) | (data[1] ?? 0) : 0;
  // Never past an Ethernet frame's UDP payload (1500 - 20 IP - 8 UDP).
  return Math.min(Math.max(asked, 576), 1472);
}

function replyMessage(
  request: DhcpMessage,
  type: number,
  fields: { yiaddr?: string; siaddr?: string; file?: string; ciaddr?: string },
  options: readonly DhcpOption[],
  serverAddress: string,
): DhcpMessage {
  return {
    op: DHCP_OP.BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: fields.ciaddr ?? ZERO,
    yiaddr: fields.yiaddr ?? ZERO,
    siaddr: fields.siaddr ?? ZERO,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: '',
    file: fields.file ?? '',
    options: [
      option(DHCP_OPT.MESSAGE_TYPE, Uint8Array.of(type)),
      option(DHCP_OPT.SERVER_ID, ipv4Bytes(serverAddress)),
      ...options,
    ],
  };
}

/** RFC 2131 §4.1: where a reply goes (no ARP entry can be made without raw sockets: broadcast instead). */
function destination(request: DhcpMessage, type: number): { address: string; port: number } {
  if (request.giaddr !== ZERO) return { address: request.giaddr, port: 67 };
  if (type === DHCP_MESSAGE_TYPE.DHCPNAK) return { address: BROADCAST, port: 68 };
  if (request.ciaddr !== ZERO && (request.flags & DHCP_FLAG_BROADCAST) === 0)
    return { address: request.ciaddr, port: 68 };
  return { address: BROADCAST, port: 68 };
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DHCP_MESSAGE_TYPE).map(([k, v]) => [v, k]),
);

function reply(
  request: DhcpRequest,
  message: DhcpMessage,
  to: { address: string; port: number },
  client: DhcpClientInfo,
): DhcpReply {
  const type = message.options[0]?.data[0] ?? 0;
  const file = message.file === '' ? '' : ` file ${message.file}`;
  const address = message.yiaddr === ZERO ? '' : ` ${message.yiaddr}`;
  return {
    message,
    to,
    maxSize: maxSizeOf(request.message),
    summary: `${TYPE_NAMES[type] ?? type} to ${client.mac}${address}${file}`,
  };
}

function handleProxy(
  request: DhcpRequest,
  context: DhcpContext,
  client: DhcpClientInfo,
  type: number,
  chain: UefiChain,
): DhcpReply | null {
  const choice = chooseBootFile(client, context, chain);
  if (choice === undefined) return null;
  const fields = bootFields(choice, context);
  const options = bootOptions(choice, context, request.message, true);
  if (request.port === 4011) {
    // PXE 2.1 §2.2.5: the client asks the boot server directly; the ACK goes back to where it came from.
    if (type !== DHCP_MESSAGE_TYPE.DHCPREQUEST && type !== DHCP_MESSAGE_TYPE.DHCPINFORM) return null;
    const message = replyMessage(
      request.message,
      DHCP_MESSAGE_TYPE.DHCPACK,
      { ...fields, ciaddr: request.message.ciaddr },
      options,
      context.serverAddress,
    );
    return reply(request, message, { address: request.from.address, port: request.from.port }, client);
  }
  if (type === DHCP_MESSAGE_TYPE.DHCPDISCOVER) {
    const message = replyMessage(
      request.message,
      DHCP_MESSAGE_TYPE.DHCPOFFER,
      fields,
      options,
      context.serverAddress,
    );
    return reply(
      request,
      message,
      {
        address: request.message.giaddr !== ZERO ? request.message.giaddr : BROADCAST,
        port: request.message.giaddr !== ZERO ? 67 : 68,
      },
      client,
    );
  }
  // A REQUEST on 67 is for the address-giving server; a proxy that ACKed it would compete with it.
  return null;
}

function inRange(ip: string, settings: DhcpFullSettings): boolean {
  const n = ipv4Number(ip);
  return n >= ipv4Number(settings.rangeStart) && n <= ipv4Number(settings.rangeEnd);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function isFree(leases: LeaseStore, ip: string, mac: string, now: number): Promise<boolean> {
  const lease = await leases.getLeaseByIp(ip);
  return lease === undefined || lease.mac === mac || Date.parse(lease.expiresAt) <= now;
}

async function pickAddress(
  request: DhcpMessage,
  settings: DhcpFullSettings,
  leases: LeaseStore,
  mac: string,
  own: DhcpLease | undefined,
  now: number,
): Promise<string | undefined> {
  if (own !== undefined && inRange(own.ip, settings) && (await isFree(leases, own.ip, mac, now)))
    return own.ip;
  const requested = dhcpOptionIp(request, DHCP_OPT.REQUESTED_IP);
  if (requested !== undefined && inRange(requested, settings) && (await isFree(leases, requested, mac, now)))
    return requested;
  // The lowest address nobody else holds: one read of the leases, whatever the size of the range.
  const held = new Set<number>();
  for (const lease of await leases.listLeases(new Date(now).toISOString()))
    if (lease.mac !== mac) held.add(ipv4Number(lease.ip));
  const end = ipv4Number(settings.rangeEnd);
  for (let n = ipv4Number(settings.rangeStart); n <= end; n++) if (!held.has(n)) return ipv4FromNumber(n);
  return undefined;
}

function addressOptions(settings: DhcpFullSettings, withLease: boolean): DhcpOption[] {
  const options = [option(DHCP_OPT.SUBNET_MASK, ipv4Bytes(settings.subnetMask))];
  if (settings.router !== undefined) options.push(option(DHCP_OPT.ROUTER, ipv4Bytes(settings.router)));
  if (settings.dnsServers !== undefined && settings.dnsServers.length > 0) {
    const bytes = new Uint8Array(4 * settings.dnsServers.length);
    settings.dnsServers.forEach((ip, i) => bytes.set(ipv4Bytes(ip), 4 * i));
    options.push(option(DHCP_OPT.DOMAIN_NAME_SERVER, bytes));
  }
  if (withLease) {
    // RFC 2131 §4.4.5: T1 at half the lease, T2 at seven eighths.
    options.push(option(DHCP_OPT.LEASE_TIME, u32Bytes(settings.leaseSeconds)));
    options.push(option(DHCP_OPT.RENEWAL_TIME, u32Bytes(Math.floor(settings.leaseSeconds / 2))));
    options.push(option(DHCP_OPT.REBINDING_TIME, u32Bytes(Math.floor((settings.leaseSeconds * 7) / 8))));
  }
  return options;
}

async function handleFull(
  request: DhcpRequest,
  context: DhcpContext,
  client: DhcpClientInfo,
  type: number,
  chain: UefiChain,
): Promise<DhcpReply | null> {
  const settings = context.full;
  const leases = context.leases;
  if (settings === undefined || leases === undefined || request.port !== 67) return null;
  const now = (context.now ?? Date.now)();
  const m = request.message;
  const mac = client.mac;
  const choice = chooseBootFile(client, context, chain);
  const boot =
    choice === undefined
      ? { fields: {}, options: [] }
      : {
          fields: bootFields(choice, context),
          options: bootOptions(choice, context, m, false),
        };
  const serverId = dhcpOptionIp(m, DHCP_OPT.SERVER_ID);
  switch (type) {
    case DHCP_MESSAGE_TYPE.DHCPDISCOVER: {
      const own = await leases.getLeaseByMac(mac);
      const ip = await pickAddress(m, settings, leases, mac, own, now);
      if (ip === undefined) return null;
      const holdUntil =
        own?.ip === ip && Date.parse(own.expiresAt) > now + OFFER_HOLD_SECONDS * 1000
          ? Date.parse(own.expiresAt)
          : now + OFFER_HOLD_SECONDS * 1000;
      if (!(await leases.claimLease(ip, mac, iso(holdUntil), iso(now)))) return null;
      const message = replyMessage(
        m,
        DHCP_MESSAGE_TYPE.DHCPOFFER,
        { yiaddr: ip, ...boot.fields },
        [...addressOptions(settings, true), ...boot.options],
        context.serverAddress,
      );
      return reply(request, message, destination(m, DHCP_MESSAGE_TYPE.DHCPOFFER), client);
    }
    case DHCP_MESSAGE_TYPE.DHCPREQUEST: {
      if (serverId !== undefined && serverId !== context.serverAddress) {
        // RFC 2131 §4.3.2: the client took another server's offer; drop the address held for it.
        const held = await leases.getLeaseByMac(mac);
        if (held !== undefined) await leases.releaseLease(held.ip, mac);
        return null;
      }
      const ip = dhcpOptionIp(m, DHCP_OPT.REQUESTED_IP) ?? (m.ciaddr !== ZERO ? m.ciaddr : undefined);
      const nak = (): DhcpReply =>
        reply(
          request,
          replyMessage(m, DHCP_MESSAGE_TYPE.DHCPNAK, {}, [], context.serverAddress),
          destination(m, DHCP_MESSAGE_TYPE.DHCPNAK),
          client,
        );
      if (ip === undefined || !inRange(ip, settings)) return nak();
      if (!(await leases.claimLease(ip, mac, iso(now + settings.leaseSeconds * 1000), iso(now))))
        return nak();
      const message = replyMessage(
        m,
        DHCP_MESSAGE_TYPE.DHCPACK,
        { yiaddr: ip, ciaddr: m.ciaddr, ...boot.fields },
        [...addressOptions(settings, true), ...boot.options],
        context.serverAddress,
      );
      return reply(request, message, destination(m, DHCP_MESSAGE_TYPE.DHCPACK), client);
    }
    case DHCP_MESSAGE_TYPE.DHCPDECLINE: {
      const ip = dhcpOptionIp(m, DHCP_OPT.REQUESTED_IP);
      if (
        ip !== undefined &&
        inRange(ip, settings) &&
        (serverId === undefined || serverId === context.serverAddress)
      ) {
        await leases.releaseLease(ip, mac);
        await leases.claimLease(ip, DECLINED_MAC, iso(now + DECLINE_HOLD_SECONDS * 1000), iso(now));
      }
      return null;
    }
    case DHCP_MESSAGE_TYPE.DHCPRELEASE:
      if (m.ciaddr !== ZERO) await leases.releaseLease(m.ciaddr, mac);
      return null;
    case DHCP_MESSAGE_TYPE.DHCPINFORM: {
      // RFC 2131 §3.4: configuration only — no address, no lease time; sent to the client's address.
      const message = replyMessage(
        m,
        DHCP_MESSAGE_TYPE.DHCPACK,
        { ciaddr: m.ciaddr, ...boot.fields },
        [...addressOptions(settings, false), ...boot.options],
        context.serverAddress,
      );
      return reply(
        request,
        message,
        m.ciaddr !== ZERO ? { address: m.ciaddr, port: 68 } : destination(m, DHCP_MESSAGE_TYPE.DHCPACK),
        client,
      );
    }
    default:
      return null;
  }
}

/** The reply to one DHCP request, or null for none. */
export async function handleDhcpRequest(
  request: DhcpRequest,
  context: DhcpContext,
): Promise<DhcpReply | null> {
  const m = request.message;
  if (context.mode === 'off' || m.op !== DHCP_OP.BOOTREQUEST || m.htype !== 1 || m.hlen !== 6) return null;
  const type = dhcpMessageType(m);
  if (type === undefined) return null;
  const client = classifyDhcpClient(m);
  const chain =
    isUefiPxe(client) && context.uefiChain !== undefined ? await context.uefiChain(client.mac) : 'ipxe';
  if (context.mode === 'proxy') return handleProxy(request, context, client, type, chain);
  return handleFull(request, context, client, type, chain);
}
