// BCD device elements (element format 1, REG_BINARY): decode and encode.
//
// Layout, all little-endian (sources: /work/shared/research/windows-formats.md §2.2, checked against
// the bcdboot-made store in fixtures/real/bcd; the device and local-device type numbers are those of
// the boot library's BL_DEVICE_TYPE / BL_LOCAL_DEVICE_TYPE as documented by ReactOS boot/environ/
// include/bl.h; the nesting of a file path record inside a ramdisk device follows DiscUtils.BootConfig
// DeviceAndPathRecord and BCD-SYS update_device.sh):
//
//   element  +0x00 16  additional-options object GUID (mixed-endian; zero = none)
//            +0x10     device record
//   record   +0x00 u32 device type: 6 partition, 5 boot, 0 local (block I/O) device, 8 locate, …
//            +0x04 u32 flags
//            +0x08 u32 record size in bytes, header included
//            +0x0C u32 0
//   partition (type 6, size 0x48):
//            +0x10 16  GPT: partition unique GUID; MBR: partition start byte offset (u64) + 8 zeros
//            +0x20 u32 block I/O type 0 (hard disk)
//            +0x24 u32 partition style: 0 GPT, 1 MBR
//            +0x28 16  GPT: disk GUID; MBR: disk signature (u32) + 12 zeros
//            +0x38 16  zeros
//   boot (type 5, size 0x48): the partition bootmgr was started from; the rest is zero.
//   ramdisk (type 0, flags 1, local type 3):
//            +0x10 u32 local device type 3 (ramdisk)
//            +0x14 20  image base (u64), image size (u64), image offset (u32): zero in stored elements
//            +0x28     file path: u32 version 1, u32 length (of the file path, its header included),
//                      u32 path type 5, then the device record the image lives on, then the image
//                      path in UTF-16LE with a terminating NUL.
//
// Anything else (locate, VHD and file devices, network devices, records with non-zero reserved
// fields) decodes to { kind: 'raw' } holding the bytes, and encodes back to exactly those bytes.

import { FormatError } from '../../core/errors.ts';
import { NULL_GUID, guidFromBytes, guidToBytes, normalizeGuid } from './guid.ts';
import { aliasOf } from './tables.ts';
import { readUtf16z, utf16z } from '../utf16.ts';

/** A corrupt or hostile element cannot make decoding allocate or recurse without bound. */
export const MAX_DEVICE_BYTES = 64 * 1024;
/** A ramdisk names the device its image is on; real stores nest once. */
export const MAX_DEVICE_DEPTH = 4;

const DEVICE_TYPE_LOCAL = 0;
const DEVICE_TYPE_BOOT = 5;
const DEVICE_TYPE_PARTITION = 6;
const LOCAL_TYPE_RAMDISK = 3;
const RECORD_HEADER = 16;
const PARTITION_RECORD_SIZE = 0x48;
const FILE_PATH_HEADER = 12;
const FILE_PATH_TYPE = 5;

interface DeviceOptions {
  /** The additional-options object, e.g. {ramdiskoptions}; absent when zero. */
  readonly options?: string;
}

export interface GptPartitionDevice extends DeviceOptions {
  readonly kind: 'partition';
  readonly style: 'gpt';
  readonly partitionGuid: string;
  readonly diskGuid: string;
}

export interface MbrPartitionDevice extends DeviceOptions {
  readonly kind: 'partition';
  readonly style: 'mbr';
  /** Byte offset of the partition from the start of the disk. */
  readonly partitionOffset: number;
  /** The disk signature (MBR offset 0x1B8) as 8 lower-case hex digits. */
  readonly diskSignature: string;
}

export interface BootDevice extends DeviceOptions {
  readonly kind: 'boot';
}

export interface RamdiskDevice extends DeviceOptions {
  readonly kind: 'ramdisk';
  /** The image file, e.g. \sources\boot.wim. */
  readonly path: string;
  /** The device the image file is on. */
  readonly parent: BcdDevice;
}

export interface RawDevice {
  readonly kind: 'raw';
  /** The device type at +0x10, for information. */
  readonly deviceType: number;
  /** The whole element, hex. */
  readonly hex: string;
}

export type BcdDevice = GptPartitionDevice | MbrPartitionDevice | BootDevice | RamdiskDevice | RawDevice;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new FormatError(`expected hex digit pairs, found "${hex}"`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parses "1a2b3c4d" or "0x1a2b3c4d" (an MBR disk signature) to a u32. */
export function parseDiskSignature(text: string): number {
  const m = /^(?:0x)?([0-9a-fA-F]{1,8})$/.exec(text);
  if (m?.[1] === undefined)
    throw new FormatError(`expected a disk signature of 1 to 8 hex digits, found "${text}"`);
  return parseInt(m[1], 16);
}

function formatDiskSignature(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

// ---- decoding

interface Record {
  readonly device: Exclude<BcdDevice, RawDevice> | undefined;
  readonly size: number;
}

/** Reads the device record at `offset`; `device` is undefined for a kind this codec keeps raw. */
function readRecord(bytes: Uint8Array, offset: number, depth: number): Record {
  if (depth > MAX_DEVICE_DEPTH) {
    throw new FormatError(`device records nest deeper than ${MAX_DEVICE_DEPTH}`, {
      offset,
      code: 'LIMIT_EXCEEDED',
    });
  }
  if (offset + RECORD_HEADER > bytes.length) {
    throw new FormatError(`expected a 16-byte device record header, found ${bytes.length - offset} bytes`, {
      offset,
    });
  }
  const dv = view(bytes);
  const type = dv.getUint32(offset, true);
  const size = dv.getUint32(offset + 8, true);
  if (size < RECORD_HEADER || offset + size > bytes.length) {
    throw new FormatError(
      `expected a device record size between 16 and ${bytes.length - offset}, found ${size}`,
      { offset: offset + 8 },
    );
  }
  if (type === DEVICE_TYPE_PARTITION && size === PARTITION_RECORD_SIZE) {
    const style = dv.getUint32(offset + 0x24, true);
    if (style === 0) {
      return {
        size,
        device: {
          kind: 'partition',
          style: 'gpt',
          partitionGuid: guidFromBytes(bytes, offset + 0x10),
          diskGuid: guidFromBytes(bytes, offset + 0x28),
        },
      };
    }
    if (style === 1) {
      const partitionOffset = dv.getBigUint64(offset + 0x10, true);
      if (partitionOffset > BigInt(Number.MAX_SAFE_INTEGER)) return { size, device: undefined };
      return {
        size,
        device: {
          kind: 'partition',
          style: 'mbr',
          partitionOffset: Number(partitionOffset),
          diskSignature: formatDiskSignature(dv.getUint32(offset + 0x28, true)),
        },
      };
    }
    return { size, device: undefined };
  }
  if (type === DEVICE_TYPE_BOOT) return { size, device: { kind: 'boot' } };
  if (type === DEVICE_TYPE_LOCAL && size >= RECORD_HEADER + 24 + FILE_PATH_HEADER) {
    if (dv.getUint32(offset + 0x10, true) !== LOCAL_TYPE_RAMDISK) return { size, device: undefined };
    const fp = offset + 0x28;
    const fpLength = dv.getUint32(fp + 4, true);
    if (fpLength < FILE_PATH_HEADER || fp + fpLength > offset + size) {
      throw new FormatError(
        `expected a file path record inside the ramdisk device, found length ${fpLength}`,
        {
          offset: fp + 4,
        },
      );
    }
    const inner = readRecord(bytes.subarray(0, fp + fpLength), fp + FILE_PATH_HEADER, depth + 1);
    if (inner.device === undefined) return { size, device: undefined };
    const pathStart = fp + FILE_PATH_HEADER + inner.size;
    const path = readUtf16z(bytes.subarray(pathStart, fp + fpLength));
    return { size, device: { kind: 'ramdisk', path, parent: inner.device } };
  }
  return { size, device: undefined };
}

/**
 * Decodes a device element. Forms this codec knows decode to their fields only when encoding them
 * gives back exactly the same bytes; everything else is kept as { kind: 'raw' }.
 */
export function decodeDevice(bytes: Uint8Array): BcdDevice {
  if (bytes.length > MAX_DEVICE_BYTES) {
    throw new FormatError(`a device element is limited to ${MAX_DEVICE_BYTES} bytes, found ${bytes.length}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  if (bytes.length < 16 + RECORD_HEADER) {
    throw new FormatError(`expected a device element of at least 32 bytes, found ${bytes.length}`);
  }
  const record = readRecord(bytes, 16, 0);
  const raw: RawDevice = { kind: 'raw', deviceType: view(bytes).getUint32(16, true), hex: toHex(bytes) };
  if (record.device === undefined) return raw;
  const options = guidFromBytes(bytes, 0);
  const device: BcdDevice = options === NULL_GUID ? record.device : { ...record.device, options };
  return equalBytes(encodeDevice(device), bytes) ? device : raw;
}

// ---- encoding

function header(type: number, flags: number, size: number): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER);
  const dv = view(out);
  dv.setUint32(0, type, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, size, true);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeRecord(device: Exclude<BcdDevice, RawDevice>, depth: number): Uint8Array {
  if (depth > MAX_DEVICE_DEPTH) {
    throw new FormatError(`device records nest deeper than ${MAX_DEVICE_DEPTH}`, { code: 'LIMIT_EXCEEDED' });
  }
  switch (device.kind) {
    case 'boot':
      return concat([header(DEVICE_TYPE_BOOT, 0, PARTITION_RECORD_SIZE), new Uint8Array(0x38)]);
    case 'partition': {
      const body = new Uint8Array(0x38);
      const dv = view(body);
      if (device.style === 'gpt') {
        body.set(guidToBytes(device.partitionGuid), 0);
        body.set(guidToBytes(device.diskGuid), 0x18);
      } else {
        if (!Number.isSafeInteger(device.partitionOffset) || device.partitionOffset < 0) {
          throw new FormatError(`expected a partition byte offset ≥ 0, found ${device.partitionOffset}`);
        }
        dv.setBigUint64(0, BigInt(device.partitionOffset), true);
        dv.setUint32(0x14, 1, true);
        dv.setUint32(0x18, parseDiskSignature(device.diskSignature), true);
      }
      return concat([header(DEVICE_TYPE_PARTITION, 0, PARTITION_RECORD_SIZE), body]);
    }
    case 'ramdisk': {
      if (device.parent.kind === 'raw') {
        throw new FormatError('a ramdisk image must be on a partition, boot or ramdisk device');
      }
      const inner = encodeRecord(device.parent, depth + 1);
      const path = utf16z(device.path);
      const fpLength = FILE_PATH_HEADER + inner.length + path.length;
      const fpHeader = new Uint8Array(FILE_PATH_HEADER);
      view(fpHeader).setUint32(0, 1, true);
      view(fpHeader).setUint32(4, fpLength, true);
      view(fpHeader).setUint32(8, FILE_PATH_TYPE, true);
      const local = new Uint8Array(24);
      view(local).setUint32(0, LOCAL_TYPE_RAMDISK, true);
      const size = RECORD_HEADER + local.length + fpLength;
      return concat([header(DEVICE_TYPE_LOCAL, 1, size), local, fpHeader, inner, path]);
    }
  }
}

/** Encodes a device element (the inverse of decodeDevice). */
export function encodeDevice(device: BcdDevice): Uint8Array {
  if (device.kind === 'raw') {
    const bytes = fromHex(device.hex);
    if (bytes.length < 16 + RECORD_HEADER) {
      throw new FormatError(`expected a device element of at least 32 bytes, found ${bytes.length}`);
    }
    return bytes;
  }
  const options = guidToBytes(device.options === undefined ? NULL_GUID : normalizeGuid(device.options));
  const out = concat([options, encodeRecord(device, 0)]);
  if (out.length > MAX_DEVICE_BYTES) {
    throw new FormatError(`a device element is limited to ${MAX_DEVICE_BYTES} bytes, found ${out.length}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  return out;
}

/**
 * A one-line readable form. bcdedit shows drive letters, which an offline store does not have, so
 * this names what the element holds: "partition=gpt disk {…} partition {…}", "partition=mbr disk
 * 1a2b3c4d offset 1048576", "boot", "ramdisk=[boot]\\sources\\boot.wim,{ramdiskoptions}".
 */
export function formatDevice(device: BcdDevice): string {
  const opts =
    device.kind !== 'raw' && device.options !== undefined
      ? `,${aliasOf(device.options) ?? device.options}`
      : '';
  switch (device.kind) {
    case 'partition':
      return device.style === 'gpt'
        ? `partition=gpt disk ${device.diskGuid} partition ${device.partitionGuid}${opts}`
        : `partition=mbr disk ${device.diskSignature} offset ${device.partitionOffset}${opts}`;
    case 'boot':
      return `boot${opts}`;
    case 'ramdisk': {
      const where = device.parent.kind === 'boot' ? '[boot]' : `[${formatDevice(device.parent)}]`;
      return `ramdisk=${where}${device.path}${opts}`;
    }
    case 'raw':
      return `raw device type ${device.deviceType}: ${device.hex}`;
  }
}
