// DHCP messages: RFC 2131 "Dynamic Host Configuration Protocol" §2 (message format, Figure 1 and
// Table 1), §3.1 and §4.1 (option overload order, reply destinations), RFC 2132 (options: §3.1 pad,
// §3.2 end, §9.3 option overload, §9.6 message type, and the others named in DHCP_OPT), RFC 3396
// (an option longer than 255 bytes is split into several instances that are concatenated), the
// Preboot Execution Environment (PXE) Specification 2.1 §2.2–2.4 (option 43's PXE sub-options),
// RFC 4578 §2.1–2.3 (options 93 client system architecture, 94 client network interface
// identifier, 97 client machine identifier), RFC 3004 §4 (77 user class) and RFC 5071 (iPXE's 175).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+---------------+---------------+
//   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//   +---------------+---------------+---------------+---------------+
//   |                            xid (4)                            |
//   +-------------------------------+-------------------------------+
//   |           secs (2)            |           flags (2)           |
//   +-------------------------------+-------------------------------+
//   |                          ciaddr  (4)                          |
//   |                          yiaddr  (4)                          |
//   |                          siaddr  (4)                          |
//   |                          giaddr  (4)                          |
//   +---------------------------------------------------------------+
//   |                          chaddr  (16)                         |
//   |                          sname   (64)                         |
//   |                          file    (128)                        |
//   +---------------------------------------------------------------+
//   |              magic cookie 99.130.83.99 (4, RFC 2131 §3)       |
//   |                          options (variable)                   |
//   +---------------------------------------------------------------+
//
// Options are code (1 byte), length (1 byte), data; pad (0) and end (255) have no length. In the
// model, options are one entry per code, in first-seen order, with split instances joined (RFC
// 3396 §7); option 52 is applied (its fields read as options, RFC 2131 §4.1: file first, then
// sname) and not kept, and serializeDhcpMessage puts it back when options overflow into them.

import { FormatError } from '../../core/errors.ts';

export const DHCP_OP = { BOOTREQUEST: 1, BOOTREPLY: 2 } as const;

/** RFC 2132 and later option codes used here (names as in the RFCs). */
export const DHCP_OPT = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DOMAIN_NAME_SERVER: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OPTION_OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLASS_ID: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_MACHINE_ID: 97,
  IPXE_ENCAP: 175,
  END: 255,
} as const;

/** RFC 2132 §9.6. */
export const DHCP_MESSAGE_TYPE = {
  DHCPDISCOVER: 1,
  DHCPOFFER: 2,
  DHCPREQUEST: 3,
  DHCPDECLINE: 4,
  DHCPACK: 5,
  DHCPNAK: 6,
  DHCPRELEASE: 7,
  DHCPINFORM: 8,
} as const;

/** RFC 4578 §2.1 and the IANA "Processor Architecture Types" registry. */
export const DHCP_CLIENT_ARCH = {
  X86_BIOS: 0,
  EFI_IA32: 6,
  EFI_X64_BC: 7,
  EFI_X86_64: 9,
  EFI_ARM32: 10,
  EFI_ARM64: 11,
  EFI_X86_HTTP: 15,
  EFI_X64_HTTP: 16,
  EFI_ARM64_HTTP: 19,
} as const;

/** PXE 2.1 §2.4 Table 2-1: sub-options of option 43 when option 60 is "PXEClient". */
export const PXE_OPT = {
  PXE_MTFTP_IP: 1,
  PXE_MTFTP_CPORT: 2,
  PXE_MTFTP_SPORT: 3,
  PXE_MTFTP_TMOUT: 4,
  PXE_MTFTP_DELAY: 5,
  PXE_DISCOVERY_CONTROL: 6,
  PXE_DISCOVERY_MCAST_ADDR: 7,
  PXE_BOOT_SERVERS: 8,
  PXE_BOOT_MENU: 9,
  PXE_MENU_PROMPT: 10,
  PXE_MCAST_ADDRS_ALLOC: 11,
  PXE_CREDENTIAL_TYPES: 12,
  PXE_BOOT_ITEM: 71,
} as const;

/**
 * PXE 2.1 §2.4, PXE_DISCOVERY_CONTROL bits: 0 no broadcast discovery, 1 no multicast discovery,
 * 2 only servers in PXE_BOOT_SERVERS, 3 download the boot file named in this offer (no menu).
 */
export const PXE_DISCOVERY = {
  DISABLE_BROADCAST: 1,
  DISABLE_MULTICAST: 2,
  ONLY_BOOT_SERVERS: 4,
  USE_BOOTFILE: 8,
} as const;

/** RFC 2131 §3. */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Bytes before the options: the fixed fields (236) and the magic cookie (4). */
export const DHCP_HEADER_SIZE = 240;
/** RFC 2131 §2: the flags field's broadcast bit. */
export const DHCP_FLAG_BROADCAST = 0x8000;
/** RFC 1542 §3.3 (BOOTP relays): some clients drop replies shorter than a BOOTP message (300 bytes). */
export const DHCP_MIN_MESSAGE = 300;
/** RFC 2131 §2: every client accepts 576-byte messages; larger ones only when option 57 allows. */
export const DHCP_DEFAULT_MAX_MESSAGE = 576;
/**
 * Largest datagram read: DHCP rides on UDP over Ethernet, and no real message is bigger than a
 * jumbo frame; anything past this is not DHCP.
 */
export const DHCP_MAX_MESSAGE = 9000;

export interface DhcpOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface DhcpMessage {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** The 16-byte client hardware address field; the first `hlen` bytes are the address. */
  readonly chaddr: Uint8Array;
  readonly sname: string;
  readonly file: string;
  readonly options: readonly DhcpOption[];
}

function ipAt(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** `a.b.c.d` → 4 bytes; throws FormatError for anything else. */
export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new FormatError(`"${ip}" is not an IPv4 address a.b.c.d`);
  parts.forEach((p, i) => {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255)
      throw new FormatError(`"${ip}" is not an IPv4 address a.b.c.d`);
    out[i] = Number(p);
  });
  return out;
}

/** `a.b.c.d` → its 32-bit value (a in the high byte), for ranges and masks; throws as ipv4Bytes. */
export function ipv4Number(ip: string): number {
  const b = ipv4Bytes(ip);
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

/** A 32-bit value → `a.b.c.d` (the high byte first): ipv4Number's inverse. */
export function ipv4FromNumber(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function cString(bytes: Uint8Array, offset: number, length: number): string {
  const field = bytes.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return latin1(nul < 0 ? field : field.subarray(0, nul));
}

/** Reads options from one area into `into` (RFC 3396 §7: instances of a code are joined). */
function readOptionArea(
  bytes: Uint8Array,
  start: number,
  end: number,
  into: Map<number, Uint8Array[]>,
): void {
  let at = start;
  while (at < end) {
    const code = bytes[at] ?? 0;
    if (code === DHCP_OPT.PAD) {
      at++;
      continue;
    }
    if (code === DHCP_OPT.END) return;
    if (at + 1 >= end) throw new FormatError(`DHCP option ${code} has no length byte`, { offset: at });
    const length = bytes[at + 1] ?? 0;
    if (at + 2 + length > end) {
      throw new FormatError(`DHCP option ${code} of ${length} bytes runs past its area`, { offset: at });
    }
    const parts = into.get(code) ?? [];
    parts.push(bytes.subarray(at + 2, at + 2 + length));
    into.set(code, parts);
    at += 2 + length;
  }
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0].slice();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads one DHCP message (a UDP payload). Throws FormatError on anything else. */
export function parseDhcpMessage(bytes: Uint8Array): DhcpMessage {
  if (bytes.length < DHCP_HEADER_SIZE) {
    throw new FormatError(`DHCP message of ${bytes.length} bytes is shorter than ${DHCP_HEADER_SIZE}`, {
      offset: bytes.length,
    });
  }
  if (bytes.length > DHCP_MAX_MESSAGE) {
    throw new FormatError(`DHCP message of ${bytes.length} bytes is longer than ${DHCP_MAX_MESSAGE}`, {
      offset: DHCP_MAX_MESSAGE,
      code: 'LIMIT_EXCEEDED',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cookie = view.getUint32(236);
  if (cookie !== DHCP_MAGIC_COOKIE) {
    throw new FormatError(`DHCP magic cookie is 0x${cookie.toString(16)}, expected 0x63825363`, {
      offset: 236,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
  const op = bytes[0] ?? 0;
  if (op !== DHCP_OP.BOOTREQUEST && op !== DHCP_OP.BOOTREPLY) {
    throw new FormatError(`DHCP op is ${op}, expected 1 (BOOTREQUEST) or 2 (BOOTREPLY)`, { offset: 0 });
  }
  const hlen = bytes[2] ?? 0;
  if (hlen > 16) throw new FormatError(`DHCP hlen is ${hlen}, at most 16`, { offset: 2 });
  const found = new Map<number, Uint8Array[]>();
  readOptionArea(bytes, DHCP_HEADER_SIZE, bytes.length, found);
  let sname = cString(bytes, 44, 64);
  let file = cString(bytes, 108, 128);
  const overload = found.get(DHCP_OPT.OPTION_OVERLOAD);
  if (overload !== undefined) {
    const value = joined(overload);
    if (value.length !== 1 || (value[0] ?? 0) < 1 || (value[0] ?? 0) > 3) {
      throw new FormatError('DHCP option overload (52) must be one byte 1, 2 or 3', {
        offset: DHCP_HEADER_SIZE,
      });
    }
    found.delete(DHCP_OPT.OPTION_OVERLOAD);
    const which = value[0] ?? 0;
    if (which & 1) {
      readOptionArea(bytes, 108, 236, found);
      file = '';
    }
    if (which & 2) {
      readOptionArea(bytes, 44, 108, found);
      sname = '';
    }
  }
  const options: DhcpOption[] = [];
  for (const [code, parts] of found) options.push({ code, data: joined(parts) });
  return {
    op,
    htype: bytes[1] ?? 0,
    hlen,
    hops: bytes[3] ?? 0,
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: ipAt(bytes, 12),
    yiaddr: ipAt(bytes, 16),
    siaddr: ipAt(bytes, 20),
    giaddr: ipAt(bytes, 24),
    chaddr: bytes.slice(28, 44),
    sname,
    file,
    options,
  };
}

function encodeOption(code: number, data: Uint8Array): number[] {
  const out: number[] = [];
  if (data.length === 0) return [code, 0];
  for (let at = 0; at < data.length; at += 255) {
    const part = data.subarray(at, at + 255);
    out.push(code, part.length, ...part);
  }
  return out;
}

function stringField(s: string, size: number, what: string): Uint8Array {
  if (s.length >= size)
    throw new FormatError(`DHCP ${what} "${s}" is ${s.length} bytes, at most ${size - 1}`);
  const out = new Uint8Array(size);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff)
      throw new FormatError(`DHCP ${what} has character U+${c.toString(16)}, expected bytes 1–255`);
    out[i] = c;
  }
  return out;
}

function checkUint(value: number, bits: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new FormatError(`DHCP ${what} ${value} is not a ${bits}-bit unsigned integer`);
  }
}

/**
 * Writes a DHCP message of at most `maxSize` bytes (default 576, RFC 2131 §2), at least 300: options
 * that do not fit overflow into `file` and then `sname` when those are empty (option 52).
 */
export function serializeDhcpMessage(message: DhcpMessage, maxSize = DHCP_DEFAULT_MAX_MESSAGE): Uint8Array {
  checkUint(message.op, 8, 'op');
  checkUint(message.htype, 8, 'htype');
  checkUint(message.hlen, 8, 'hlen');
  checkUint(message.hops, 8, 'hops');
  checkUint(message.xid, 32, 'xid');
  checkUint(message.secs, 16, 'secs');
  checkUint(message.flags, 16, 'flags');
  if (message.chaddr.length > 16)
    throw new FormatError(`DHCP chaddr is ${message.chaddr.length} bytes, at most 16`);
  const encoded: number[][] = [];
  const seen = new Set<number>();
  for (const option of message.options) {
    if (
      option.code === DHCP_OPT.PAD ||
      option.code === DHCP_OPT.END ||
      option.code === DHCP_OPT.OPTION_OVERLOAD
    ) {
      throw new FormatError(`DHCP option ${option.code} is written by the serializer, not given`);
    }
    checkUint(option.code, 8, 'option code');
    if (seen.has(option.code)) throw new FormatError(`DHCP option ${option.code} given twice`);
    seen.add(option.code);
    encoded.push(encodeOption(option.code, option.data));
  }
  const limit = Math.max(maxSize, DHCP_MIN_MESSAGE);
  const areas: { start: number; size: number; used: number[] }[] = [];
  // Main area: everything up to `limit`, keeping 3 bytes for option 52 and 1 for end.
  const mainCapacity = limit - DHCP_HEADER_SIZE - 1;
  areas.push({ start: DHCP_HEADER_SIZE, size: mainCapacity, used: [] });
  if (message.file === '') areas.push({ start: 108, size: 127, used: [] });
  if (message.sname === '') areas.push({ start: 44, size: 63, used: [] });
  const totalMain = encoded.reduce((n, e) => n + e.length, 0);
  let overload = 0;
  if (totalMain <= mainCapacity) {
    areas[0]?.used.push(...encoded.flat());
  } else {
    const main = areas[0];
    if (main === undefined) throw new FormatError('DHCP options area missing');
    const capacity = mainCapacity - 3;
    let area = 0;
    for (const e of encoded) {
      for (;;) {
        const target = areas[area];
        if (target === undefined) {
          throw new FormatError(`DHCP options (${totalMain} bytes) do not fit in a ${limit}-byte message`, {
            code: 'LIMIT_EXCEEDED',
          });
        }
        const room = (area === 0 ? capacity : target.size) - target.used.length;
        if (e.length <= room) {
          target.used.push(...e);
          if (target.start === 108) overload |= 1;
          if (target.start === 44) overload |= 2;
          break;
        }
        area++;
      }
    }
    main.used.unshift(DHCP_OPT.OPTION_OVERLOAD, 1, overload);
  }
  const mainUsed = areas[0]?.used ?? [];
  const size = Math.max(DHCP_MIN_MESSAGE, DHCP_HEADER_SIZE + mainUsed.length + 1);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = message.op;
  out[1] = message.htype;
  out[2] = message.hlen;
  out[3] = message.hops;
  view.setUint32(4, message.xid);
  view.setUint16(8, message.secs);
  view.setUint16(10, message.flags);
  out.set(ipv4Bytes(message.ciaddr), 12);
  out.set(ipv4Bytes(message.yiaddr), 16);
  out.set(ipv4Bytes(message.siaddr), 20);
  out.set(ipv4Bytes(message.giaddr), 24);
  out.set(message.chaddr, 28);
  out.set(stringField(message.sname, 64, 'sname'), 44);
  out.set(stringField(message.file, 128, 'file'), 108);
  view.setUint32(236, DHCP_MAGIC_COOKIE);
  out.set(mainUsed, DHCP_HEADER_SIZE);
  out[DHCP_HEADER_SIZE + mainUsed.length] = DHCP_OPT.END;
  for (const area of areas.slice(1)) {
    if (area.used.length === 0) continue;
    out.fill(0, area.start, area.start + area.size + 1);
    out.set(area.used, area.start);
    out[area.start + area.used.length] = DHCP_OPT.END;
  }
  return out;
}

// ——— Option values ———

export function findDhcpOption(message: DhcpMessage, code: number): Uint8Array | undefined {
  return message.options.find((o) => o.code === code)?.data;
}

export function dhcpMessageType(message: DhcpMessage): number | undefined {
  const data = findDhcpOption(message, DHCP_OPT.MESSAGE_TYPE);
  return data?.length === 1 ? data[0] : undefined;
}

export function dhcpOptionString(message: DhcpMessage, code: number): string | undefined {
  const data = findDhcpOption(message, code);
  return data === undefined ? undefined : latin1(data);
}

export function dhcpOptionIp(message: DhcpMessage, code: number): string | undefined {
  const data = findDhcpOption(message, code);
  return data?.length === 4 ? ipAt(data, 0) : undefined;
}

/** The client's MAC address as lower-case aa:bb:cc:dd:ee:ff (the first hlen bytes of chaddr). */
export function dhcpClientMac(message: DhcpMessage): string {
  return [...message.chaddr.subarray(0, message.hlen)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** RFC 4578 §2.1: a list of 16-bit architecture types. */
export function parseClientArch(data: Uint8Array): number[] {
  if (data.length === 0 || data.length % 2 !== 0) {
    throw new FormatError(`DHCP option 93 is ${data.length} bytes, expected a non-empty even length`);
  }
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push(((data[i] ?? 0) << 8) | (data[i + 1] ?? 0));
  return out;
}

export interface ClientNdi {
  readonly type: number;
  readonly major: number;
  readonly minor: number;
}

/** RFC 4578 §2.2: type 1 (UNDI), major and minor version. */
export function parseClientNdi(data: Uint8Array): ClientNdi {
  if (data.length !== 3) throw new FormatError(`DHCP option 94 is ${data.length} bytes, expected 3`);
  return { type: data[0] ?? 0, major: data[1] ?? 0, minor: data[2] ?? 0 };
}

/**
 * RFC 4578 §2.3: type 0 and a 16-byte UUID, given as 8-4-4-4-12 lower-case hex of the bytes in
 * the order sent (PXE clients send the SMBIOS UUID as the firmware stores it).
 */
export function parseClientMachineId(data: Uint8Array): string {
  if (data.length !== 17 || data[0] !== 0) {
    throw new FormatError(
      `DHCP option 97 is ${data.length} bytes of type ${data[0] ?? 'none'}, expected type 0 and 16 bytes`,
    );
  }
  const hex = [...data.subarray(1)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * RFC 3004 §4: user class data is a list of (length, bytes) entries. iPXE and others send a bare
 * string ("iPXE") instead; data that is not a well-formed list is read as one such string.
 */
export function parseUserClass(data: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const length = data[at] ?? 0;
    if (length === 0 || at + 1 + length > data.length) return [latin1(data)];
    out.push(latin1(data.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  return out;
}

export function serializeUserClass(classes: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const c of classes) {
    if (c.length === 0 || c.length > 255) throw new FormatError(`user class "${c}" must be 1–255 bytes`);
    out.push(c.length, ...stringField(c, c.length + 1, 'user class').subarray(0, c.length));
  }
  return Uint8Array.from(out);
}

/** Encapsulated sub-options (option 43 per PXE 2.1 §2.4, option 175 for iPXE): code, length, data. */
export function parseSubOptions(data: Uint8Array): DhcpOption[] {
  const out: DhcpOption[] = [];
  let at = 0;
  while (at < data.length) {
    const code = data[at] ?? 0;
    if (code === DHCP_OPT.PAD) {
      at++;
      continue;
    }
    if (code === DHCP_OPT.END) break;
    const length = data[at + 1];
    if (length === undefined || at + 2 + length > data.length) {
      throw new FormatError(`sub-option ${code} runs past its option`, { offset: at });
    }
    out.push({ code, data: data.slice(at + 2, at + 2 + length) });
    at += 2 + length;
  }
  return out;
}

/** The inverse of parseSubOptions; ends with END (255) as PXE 2.1 §2.4 asks for option 43. */
export function serializeSubOptions(options: readonly DhcpOption[]): Uint8Array {
  const out: number[] = [];
  for (const o of options) {
    if (o.data.length > 255)
      throw new FormatError(`sub-option ${o.code} is ${o.data.length} bytes, at most 255`);
    out.push(o.code, o.data.length, ...o.data);
  }
  out.push(DHCP_OPT.END);
  return Uint8Array.from(out);
}

export function u32Bytes(value: number): Uint8Array {
  checkUint(value, 32, 'value');
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function stringBytes(s: string): Uint8Array {
  return stringField(s, s.length + 1, 'option string').subarray(0, s.length);
}
