// TFTP packets: RFC 1350 "The TFTP Protocol (Revision 2)" §5 and Appendix (RRQ, WRQ, DATA, ACK,
// ERROR), RFC 2347 "TFTP Option Extension" (options in requests, OACK), RFC 2348 (blksize),
// RFC 2349 (timeout, tsize) and RFC 7440 (windowsize). All integers are big-endian (network order).
//
//   RRQ/WRQ (RFC 1350 §5, RFC 2347 §2)
//    2 bytes   string    1 byte  string  1 byte  string  1 byte  string  1 byte
//   +--------+----------+------+--------+------+-------+------+--------+------+ ...
//   | 01/02  | filename |  0   |  mode  |  0   |  opt1 |  0   | value1 |  0   | ...
//   +--------+----------+------+--------+------+-------+------+--------+------+ ...
//
//   DATA (RFC 1350 §5)                ACK (RFC 1350 §5)
//    2 bytes  2 bytes   n bytes         2 bytes  2 bytes
//   +-------+---------+----------+     +-------+---------+
//   |  03   | Block # |   Data   |     |  04   | Block # |
//   +-------+---------+----------+     +-------+---------+
//
//   ERROR (RFC 1350 §5)                        OACK (RFC 2347 §2)
//    2 bytes  2 bytes     string   1 byte       2 bytes  string  1 b  string  1 b
//   +-------+-----------+--------+------+      +-------+-------+---+--------+---+ ...
//   |  05   | ErrorCode | ErrMsg |  0   |      |  06   |  opt1 | 0 | value1 | 0 | ...
//   +-------+-----------+--------+------+      +-------+-------+---+--------+---+ ...
//
// Strings are taken byte for byte (Latin-1) so that any filename a client sends reads back exactly;
// option names compare case-insensitively (RFC 2347 §2). A DATA packet of fewer than blksize bytes
// ends a transfer (RFC 1350 §6); its length is the datagram's, so `data` may be empty.

import { FormatError } from '../../core/errors.ts';

export const TFTP_OPCODES = {
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
} as const;

/** RFC 1350 Appendix "Error Codes", RFC 2347 §2 for 8. */
export const TFTP_ERRORS = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** RFC 1350: the block size when no blksize option is agreed. */
export const TFTP_DEFAULT_BLKSIZE = 512;
/** RFC 2348 §2: blksize is between 8 and 65464 octets. */
export const TFTP_MIN_BLKSIZE = 8;
export const TFTP_MAX_BLKSIZE = 65464;
/** RFC 7440 §3: windowsize is between 1 and 65535 blocks. */
export const TFTP_MAX_WINDOWSIZE = 65535;
/** RFC 2349 §2: timeout is between 1 and 255 seconds. */
export const TFTP_MIN_TIMEOUT = 1;
export const TFTP_MAX_TIMEOUT = 255;

/** Largest datagram parsed: a DATA packet of the largest block size (RFC 2348 §2) and its header. */
export const TFTP_MAX_PACKET = TFTP_MAX_BLKSIZE + 4;
/**
 * Options in one request or OACK: RFC 2347 defines four, and clients send few; a packet of
 * thousands of tiny options is an attack on the server's memory, not a request.
 */
export const TFTP_MAX_OPTIONS = 32;

export type TftpOption = readonly [name: string, value: string];

export type TftpPacket =
  | {
      readonly op: 'RRQ' | 'WRQ';
      readonly filename: string;
      readonly mode: string;
      readonly options: readonly TftpOption[];
    }
  | { readonly op: 'DATA'; readonly block: number; readonly data: Uint8Array }
  | { readonly op: 'ACK'; readonly block: number }
  | { readonly op: 'ERROR'; readonly code: number; readonly message: string }
  | { readonly op: 'OACK'; readonly options: readonly TftpOption[] };

function readString(bytes: Uint8Array, offset: number, what: string): [string, number] {
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new FormatError(`TFTP ${what} has no terminating NUL byte`, { offset });
  let s = '';
  for (let i = offset; i < end; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return [s, end + 1];
}

function readOptions(bytes: Uint8Array, offset: number): TftpOption[] {
  const options: TftpOption[] = [];
  let at = offset;
  while (at < bytes.length) {
    if (options.length >= TFTP_MAX_OPTIONS) {
      throw new FormatError(`TFTP packet has more than ${TFTP_MAX_OPTIONS} options`, {
        offset: at,
        code: 'LIMIT_EXCEEDED',
      });
    }
    const [name, afterName] = readString(bytes, at, 'option name');
    if (name === '') throw new FormatError('TFTP option name is empty', { offset: at });
    const [value, afterValue] = readString(bytes, afterName, `value of option "${name}"`);
    options.push([name, value]);
    at = afterValue;
  }
  return options;
}

/** Reads one TFTP datagram. Throws FormatError on anything else. */
export function parseTftpPacket(bytes: Uint8Array): TftpPacket {
  if (bytes.length < 4) {
    throw new FormatError(`TFTP packet of ${bytes.length} bytes is shorter than the 4-byte minimum`, {
      offset: 0,
    });
  }
  if (bytes.length > TFTP_MAX_PACKET) {
    throw new FormatError(`TFTP packet of ${bytes.length} bytes is longer than ${TFTP_MAX_PACKET}`, {
      offset: TFTP_MAX_PACKET,
      code: 'LIMIT_EXCEEDED',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const opcode = view.getUint16(0);
  switch (opcode) {
    case TFTP_OPCODES.RRQ:
    case TFTP_OPCODES.WRQ: {
      const [filename, afterName] = readString(bytes, 2, 'filename');
      const [mode, afterMode] = readString(bytes, afterName, 'mode');
      const options = readOptions(bytes, afterMode);
      return { op: opcode === TFTP_OPCODES.RRQ ? 'RRQ' : 'WRQ', filename, mode, options };
    }
    case TFTP_OPCODES.DATA:
      return { op: 'DATA', block: view.getUint16(2), data: bytes.subarray(4) };
    case TFTP_OPCODES.ACK:
      if (bytes.length !== 4) {
        throw new FormatError(`TFTP ACK is ${bytes.length} bytes, expected 4`, { offset: 4 });
      }
      return { op: 'ACK', block: view.getUint16(2) };
    case TFTP_OPCODES.ERROR: {
      const [message, end] = readString(bytes, 4, 'error message');
      if (end !== bytes.length) {
        throw new FormatError(`TFTP ERROR has ${bytes.length - end} bytes after its message`, {
          offset: end,
        });
      }
      return { op: 'ERROR', code: view.getUint16(2), message };
    }
    case TFTP_OPCODES.OACK:
      return { op: 'OACK', options: readOptions(bytes, 2) };
    default:
      throw new FormatError(`TFTP opcode ${opcode} is not one of 1–6`, {
        offset: 0,
        code: 'FORMAT_UNSUPPORTED',
      });
  }
}

function stringBytes(s: string, what: string, allowEmpty: boolean): number[] {
  if (!allowEmpty && s === '') throw new FormatError(`TFTP ${what} is empty`);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new FormatError(
        `TFTP ${what} has character U+${c.toString(16).padStart(4, '0')}, expected bytes 1–255`,
      );
    }
    out.push(c);
  }
  out.push(0);
  return out;
}

function checkU16(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new FormatError(`TFTP ${what} ${value} is not in 0–65535`);
  }
}

/** Writes one TFTP datagram; the inverse of parseTftpPacket. */
export function serializeTftpPacket(packet: TftpPacket): Uint8Array {
  switch (packet.op) {
    case 'RRQ':
    case 'WRQ':
    case 'OACK': {
      const body: number[] = [];
      if (packet.op === 'OACK' && packet.options.length === 0) {
        throw new FormatError('TFTP OACK names no option (RFC 2347 §2: at least one)');
      }
      if (packet.op !== 'OACK') {
        body.push(
          ...stringBytes(packet.filename, 'filename', true),
          ...stringBytes(packet.mode, 'mode', true),
        );
      }
      if (packet.options.length > TFTP_MAX_OPTIONS) {
        throw new FormatError(
          `TFTP packet has ${packet.options.length} options, at most ${TFTP_MAX_OPTIONS}`,
          {
            code: 'LIMIT_EXCEEDED',
          },
        );
      }
      for (const [name, value] of packet.options) {
        body.push(
          ...stringBytes(name, 'option name', false),
          ...stringBytes(value, `value of ${name}`, true),
        );
      }
      const out = new Uint8Array(2 + body.length);
      out[1] = TFTP_OPCODES[packet.op];
      out.set(body, 2);
      if (out.length > TFTP_MAX_PACKET) {
        throw new FormatError(`TFTP packet would be ${out.length} bytes, at most ${TFTP_MAX_PACKET}`, {
          code: 'LIMIT_EXCEEDED',
        });
      }
      return out;
    }
    case 'DATA': {
      checkU16(packet.block, 'block number');
      if (packet.data.length > TFTP_MAX_BLKSIZE) {
        throw new FormatError(`TFTP DATA of ${packet.data.length} bytes is over ${TFTP_MAX_BLKSIZE}`, {
          code: 'LIMIT_EXCEEDED',
        });
      }
      const out = new Uint8Array(4 + packet.data.length);
      writeTftpDataHeader(out, packet.block);
      out.set(packet.data, 4);
      return out;
    }
    case 'ACK': {
      checkU16(packet.block, 'block number');
      return Uint8Array.of(0, TFTP_OPCODES.ACK, packet.block >> 8, packet.block & 0xff);
    }
    case 'ERROR': {
      checkU16(packet.code, 'error code');
      const message = stringBytes(packet.message, 'error message', true);
      const out = new Uint8Array(4 + message.length);
      out[1] = TFTP_OPCODES.ERROR;
      out[2] = packet.code >> 8;
      out[3] = packet.code & 0xff;
      out.set(message, 4);
      return out;
    }
  }
}

/** Writes an opcode and a 16-bit number (a block number modulo 65536) at `offset`: 4 bytes. */
function writeHeader(buffer: Uint8Array, opcode: number, number: number, offset: number): void {
  buffer[offset] = 0;
  buffer[offset + 1] = opcode;
  buffer[offset + 2] = (number >>> 8) & 0xff;
  buffer[offset + 3] = number & 0xff;
}

/**
 * Writes the 4-byte DATA header in place at `offset` (opcode 3, block number modulo 65536) — what a
 * server does for each block without building a packet object.
 */
export function writeTftpDataHeader(buffer: Uint8Array, block: number, offset = 0): void {
  writeHeader(buffer, TFTP_OPCODES.DATA, block, offset);
}

/** Writes an ACK of `block` (modulo 65536) in place at `offset`: the 4 bytes a client sends. */
export function writeTftpAck(buffer: Uint8Array, block: number, offset = 0): void {
  writeHeader(buffer, TFTP_OPCODES.ACK, block, offset);
}

/**
 * Reads an ACK's block number without building an object (the server's per-packet path), or -1
 * when the datagram (the first `length` bytes of `packet`) is not a well-formed ACK.
 */
export function readTftpAck(packet: Uint8Array, length = packet.length): number {
  if (length !== 4 || packet[0] !== 0 || packet[1] !== TFTP_OPCODES.ACK) return -1;
  return ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
}

/** The value of an option by name (case-insensitive, RFC 2347 §2), or undefined. */
export function findTftpOption(options: readonly TftpOption[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of options) if (n.toLowerCase() === lower) return v;
  return undefined;
}
