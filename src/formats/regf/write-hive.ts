// Writes the KeyNode tree of model.ts as a new, compact, clean regf primary file.
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf):
//   § Base block (equal sequence numbers, checksum at 508, hive bins data size, root cell offset),
//   § Hive bin (4096-multiple bins, header with offset and size; the first bin's timestamp),
//   § Cell (8-byte aligned, negative size when allocated; the tail of a bin is one free cell),
//   § Hash leaf / Fast leaf (sorted by upper-cased name; lh from minor version 5, lf before) and
//   § Index root (lists longer than MAX_LEAF_ELEMENTS are split into leaves under an ri),
//   § Key node (counts, largest name/class/value lengths, KEY_COMP_NAME), § Key value (data of up
//   to 4 bytes inline, VALUE_COMP_NAME), § Key security (one sk per descriptor, reference count,
//   a circular flink/blink list), § Big data (data over 16344 bytes in db segments from 1.4 on).
// Every cell is written fresh: the output holds no free cells other than the tail of each bin.

import { FormatError } from '../../core/errors.ts';
import {
  BASE_BLOCK_SIZE,
  BB,
  BIG_DATA_SEGMENT,
  HBIN_ALIGN,
  HBIN_HEADER_SIZE,
  KEY_COMP_NAME,
  KEY_HIVE_ENTRY,
  KEY_NO_DELETE,
  MAX_HIVE_SIZE,
  MAX_LEAF_ELEMENTS,
  NO_OFFSET,
  VALUE_COMP_NAME,
  baseBlockChecksum,
  compareUpper,
  fitsLatin1,
  nameHash,
  writeU16,
  writeU32,
  writeU64,
} from './layout.ts';
import type { HiveHeader, KeyNode, SecurityCell } from './model.ts';
import type { RegValue } from './value-codec.ts';

/** Appends cells to hive bins in a growing buffer; offsets are relative to the hive bins data. */
class CellWriter {
  buf = new Uint8Array(1 << 16);
  /** Bytes of hive bins data written so far (closed bins plus the open one's used part). */
  private used = 0;
  private binStart = 0;
  private binEnd = 0;
  private readonly timestamp: bigint;

  constructor(timestamp: bigint) {
    this.timestamp = timestamp;
  }

  private ensure(size: number): void {
    if (BASE_BLOCK_SIZE + size <= this.buf.length) return;
    if (BASE_BLOCK_SIZE + size > MAX_HIVE_SIZE) {
      throw new FormatError(`the hive would grow past ${MAX_HIVE_SIZE} bytes, the largest Windows loads`, {
        code: 'LIMIT_EXCEEDED',
      });
    }
    let n = this.buf.length;
    while (n < BASE_BLOCK_SIZE + size) n *= 2;
    const next = new Uint8Array(n);
    next.set(this.buf);
    this.buf = next;
  }

  /** Closes the open bin: its unused tail becomes one free cell. */
  private closeBin(): void {
    const tail = this.binEnd - this.used;
    if (tail > 0) writeU32(this.buf, BASE_BLOCK_SIZE + this.used, tail);
    this.used = this.binEnd;
  }

  private openBin(minData: number): void {
    const size = Math.ceil((minData + HBIN_HEADER_SIZE) / HBIN_ALIGN) * HBIN_ALIGN;
    this.binStart = this.used;
    this.binEnd = this.used + size;
    this.ensure(this.binEnd);
    const at = BASE_BLOCK_SIZE + this.binStart;
    this.buf.set([0x68, 0x62, 0x69, 0x6e], at);
    writeU32(this.buf, at + 4, this.binStart);
    writeU32(this.buf, at + 8, size);
    if (this.binStart === 0) writeU64(this.buf, at + 20, this.timestamp);
    this.used = this.binStart + HBIN_HEADER_SIZE;
  }

  /** A new allocated cell with `dataSize` bytes of data; returns its offset (relative to the hive bins data). */
  alloc(dataSize: number): number {
    const size = Math.ceil((dataSize + 4) / 8) * 8;
    if (this.binEnd === 0 || this.used + size > this.binEnd) {
      if (this.binEnd !== 0) this.closeBin();
      this.openBin(size);
    }
    const off = this.used;
    writeU32(this.buf, BASE_BLOCK_SIZE + off, -size >>> 0);
    this.used += size;
    return off;
  }

  /** The file offset of a cell's data. */
  at(off: number): number {
    return BASE_BLOCK_SIZE + off + 4;
  }

  finish(): number {
    if (this.binEnd === 0) this.openBin(8);
    this.closeBin();
    return this.used;
  }
}

interface SecurityOut {
  off: number;
  refs: number;
}

function nameBytes(name: string): { bytes: Uint8Array; compressed: boolean } {
  if (fitsLatin1(name)) {
    const bytes = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) bytes[i] = name.charCodeAt(i);
    return { bytes, compressed: true };
  }
  const bytes = new Uint8Array(name.length * 2);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    bytes[2 * i] = c & 0xff;
    bytes[2 * i + 1] = c >> 8;
  }
  return { bytes, compressed: false };
}

class HiveWriter {
  private readonly w: CellWriter;
  private readonly minor: number;
  private readonly security = new Map<SecurityCell, SecurityOut>();

  constructor(w: CellWriter, minor: number) {
    this.w = w;
    this.minor = minor;
  }

  writeKey(node: KeyNode, parentOff: number, inherited: SecurityCell): number {
    const w = this.w;
    const name = nameBytes(node.name);
    const off = w.alloc(76 + name.bytes.length);
    let at = w.at(off);
    const isRoot = node.parent === undefined;
    const flags =
      node.flags | (name.compressed ? KEY_COMP_NAME : 0) | (isRoot ? KEY_HIVE_ENTRY | KEY_NO_DELETE : 0);
    const b = w.buf;
    b[at] = 0x6e;
    b[at + 1] = 0x6b;
    writeU16(b, at + 2, flags);
    writeU64(b, at + 4, node.lastWritten);
    writeU32(b, at + 12, node.accessBits);
    writeU32(b, at + 16, parentOff);
    writeU32(b, at + 20, node.subkeys.size);
    writeU32(b, at + 24, 0);
    writeU32(b, at + 28, NO_OFFSET);
    writeU32(b, at + 32, NO_OFFSET);
    writeU32(b, at + 36, node.values.size);
    writeU32(b, at + 40, NO_OFFSET);
    writeU32(b, at + 48, NO_OFFSET);
    writeU32(b, at + 68, 0);
    writeU16(b, at + 72, name.bytes.length);
    writeU16(b, at + 74, node.classBytes?.length ?? 0);
    b.set(name.bytes, at + 76);

    const security = node.security ?? inherited;
    const sk = this.securityOffset(security);
    writeU32(w.buf, at + 44, sk);

    if (node.classBytes !== undefined && node.classBytes.length > 0) {
      const c = w.alloc(node.classBytes.length);
      w.buf.set(node.classBytes, w.at(c));
      at = w.at(off);
      writeU32(w.buf, at + 48, c);
    }

    let maxValueName = 0;
    let maxValueData = 0;
    if (node.values.size > 0) {
      const list = w.alloc(4 * node.values.size);
      let i = 0;
      for (const value of node.values.values()) {
        const vk = this.writeValue(value);
        writeU32(w.buf, w.at(list) + 4 * i++, vk);
        maxValueName = Math.max(maxValueName, value.name.length * 2);
        maxValueData = Math.max(maxValueData, value.data.length);
      }
      writeU32(w.buf, w.at(off) + 40, list);
    }

    let maxSubkeyName = 0;
    let maxSubkeyClass = 0;
    if (node.subkeys.size > 0) {
      const children = [...node.subkeys.values()].sort((x, y) => compareUpper(x.upper, y.upper));
      const entries: { off: number; node: KeyNode }[] = [];
      for (const child of children) {
        entries.push({ off: this.writeKey(child, off, security), node: child });
        maxSubkeyName = Math.max(maxSubkeyName, child.name.length * 2);
        maxSubkeyClass = Math.max(maxSubkeyClass, child.classBytes?.length ?? 0);
      }
      const list = this.writeSubkeyList(entries);
      writeU32(w.buf, w.at(off) + 28, list);
    }
    at = w.at(off);
    writeU32(w.buf, at + 52, (maxSubkeyName & 0xffff) | (node.nameFieldHigh << 16));
    writeU32(w.buf, at + 56, maxSubkeyClass);
    writeU32(w.buf, at + 60, maxValueName);
    writeU32(w.buf, at + 64, maxValueData);
    return off;
  }

  private securityOffset(cell: SecurityCell): number {
    const known = this.security.get(cell);
    if (known) {
      known.refs++;
      return known.off;
    }
    const off = this.w.alloc(20 + cell.descriptor.length);
    const at = this.w.at(off);
    this.w.buf[at] = 0x73;
    this.w.buf[at + 1] = 0x6b;
    writeU32(this.w.buf, at + 16, cell.descriptor.length);
    this.w.buf.set(cell.descriptor, at + 20);
    this.security.set(cell, { off, refs: 1 });
    return off;
  }

  /** Reference counts, and the circular doubly linked list of sk cells in the order written. */
  finishSecurity(): void {
    const all = [...this.security.values()];
    all.forEach((s, i) => {
      const at = this.w.at(s.off);
      const next = all[(i + 1) % all.length] ?? s;
      const prev = all[(i + all.length - 1) % all.length] ?? s;
      writeU32(this.w.buf, at + 4, next.off);
      writeU32(this.w.buf, at + 8, prev.off);
      writeU32(this.w.buf, at + 12, s.refs);
    });
  }

  private writeValue(value: RegValue): number {
    const w = this.w;
    const name = nameBytes(value.name);
    const off = w.alloc(20 + name.bytes.length);
    let at = w.at(off);
    w.buf[at] = 0x76;
    w.buf[at + 1] = 0x6b;
    writeU16(w.buf, at + 2, name.bytes.length);
    writeU32(w.buf, at + 12, value.type >>> 0);
    writeU16(w.buf, at + 16, name.compressed ? VALUE_COMP_NAME : 0);
    w.buf.set(name.bytes, at + 20);
    const data = value.data;
    if (data.length <= 4) {
      writeU32(w.buf, at + 4, (data.length | 0x8000_0000) >>> 0);
      w.buf.set(data, at + 8);
      return off;
    }
    let dataOff: number;
    if (data.length > BIG_DATA_SEGMENT && this.minor > 3) {
      const segments = Math.ceil(data.length / BIG_DATA_SEGMENT);
      const db = w.alloc(8);
      const list = w.alloc(4 * segments);
      for (let i = 0; i < segments; i++) {
        const part = data.subarray(i * BIG_DATA_SEGMENT, (i + 1) * BIG_DATA_SEGMENT);
        // 4 spare bytes after the data, as Windows leaves them (16344 data bytes in a 16352-byte
        // cell): hivex takes a segment's cell size minus 8 as its data length.
        const seg = w.alloc(part.length + 4);
        w.buf.set(part, w.at(seg));
        writeU32(w.buf, w.at(list) + 4 * i, seg);
      }
      const dbAt = w.at(db);
      w.buf[dbAt] = 0x64;
      w.buf[dbAt + 1] = 0x62;
      writeU16(w.buf, dbAt + 2, segments);
      writeU32(w.buf, dbAt + 4, list);
      dataOff = db;
    } else {
      dataOff = w.alloc(data.length);
      w.buf.set(data, w.at(dataOff));
    }
    at = w.at(off);
    writeU32(w.buf, at + 4, data.length);
    writeU32(w.buf, at + 8, dataOff);
    return off;
  }

  private writeLeaf(entries: readonly { off: number; node: KeyNode }[]): number {
    const w = this.w;
    const off = w.alloc(4 + 8 * entries.length);
    const at = w.at(off);
    const hashLeaf = this.minor >= 5;
    w.buf[at] = 0x6c;
    w.buf[at + 1] = hashLeaf ? 0x68 : 0x66;
    writeU16(w.buf, at + 2, entries.length);
    entries.forEach((e, i) => {
      writeU32(w.buf, at + 4 + 8 * i, e.off);
      if (hashLeaf) {
        writeU32(w.buf, at + 8 + 8 * i, nameHash(e.node.name));
      } else {
        const hint = nameBytes(e.node.name);
        if (hint.compressed) w.buf.set(hint.bytes.subarray(0, 4), at + 8 + 8 * i);
      }
    });
    return off;
  }

  private writeSubkeyList(entries: readonly { off: number; node: KeyNode }[]): number {
    if (entries.length <= MAX_LEAF_ELEMENTS) return this.writeLeaf(entries);
    const leaves: number[] = [];
    for (let i = 0; i < entries.length; i += MAX_LEAF_ELEMENTS) {
      leaves.push(this.writeLeaf(entries.slice(i, i + MAX_LEAF_ELEMENTS)));
    }
    const w = this.w;
    const off = w.alloc(4 + 4 * leaves.length);
    const at = w.at(off);
    w.buf[at] = 0x72;
    w.buf[at + 1] = 0x69;
    writeU16(w.buf, at + 2, leaves.length);
    leaves.forEach((leaf, i) => writeU32(w.buf, at + 4 + 4 * i, leaf));
    return off;
  }
}

export interface WriteHiveOptions {
  readonly header: HiveHeader;
  readonly timestamp: bigint;
  /** Written for keys that have no security cell and no ancestor with one. */
  readonly defaultSecurity: SecurityCell;
}

/** A complete, clean primary file holding `root` and everything below it. */
export function writeHiveTree(root: KeyNode, options: WriteHiveOptions): Uint8Array {
  const { header, timestamp } = options;
  const w = new CellWriter(timestamp);
  const writer = new HiveWriter(w, header.minor);
  const rootOff = writer.writeKey(root, NO_OFFSET, root.security ?? options.defaultSecurity);
  writer.finishSecurity();
  const size = w.finish();
  const out = w.buf.slice(0, BASE_BLOCK_SIZE + size);
  out.set([0x72, 0x65, 0x67, 0x66], 0);
  writeU32(out, BB.primarySeq, header.sequence);
  writeU32(out, BB.secondarySeq, header.sequence);
  writeU64(out, BB.lastWritten, timestamp);
  writeU32(out, BB.major, 1);
  writeU32(out, BB.minor, header.minor);
  writeU32(out, BB.fileType, 0);
  writeU32(out, BB.fileFormat, 1);
  writeU32(out, BB.rootCell, rootOff);
  writeU32(out, BB.hbinsSize, size);
  writeU32(out, BB.clustering, 1);
  out.set(header.fileName.subarray(0, 64), BB.fileName);
  writeU32(out, BB.checksum, baseBlockChecksum(out));
  return out;
}
