// Reads a clean regf primary file into the KeyNode tree of model.ts.
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf):
//   § Base block (signature, versions 1.3–1.6, file type 0, root cell offset, hive bins data size),
//   § Hive bin (4096-aligned, "hbin", offset field), § Cell (negative size = allocated),
//   § Index leaf / Fast leaf / Hash leaf / Index root (ri holds leaves only, Notes 1–2),
//   § Key node, § Key values list, § Key value (inline data when the size's top bit is set),
//   § Key security, § Big data (minor version > 3, data > 16344 bytes).
// Every offset is checked against the hive bin that holds it before use; every count against the
// cell that holds the list and the limits of layout.ts. Errors are FormatErrors naming the file
// offset of the bad field.

import { FormatError } from '../../core/errors.ts';
import {
  BASE_BLOCK_SIZE,
  BB,
  BIG_DATA_SEGMENT,
  HBIN_ALIGN,
  HBIN_HEADER_SIZE,
  KEY_COMP_NAME,
  KEY_HIVE_ENTRY,
  MAX_CELLS_VISITED,
  MAX_KEY_DEPTH,
  MAX_SUBKEYS_PER_KEY,
  MAX_VALUE_SIZE,
  MAX_VALUES_PER_KEY,
  NO_OFFSET,
  VALUE_COMP_NAME,
  readI32,
  readU16,
  readU32,
  readU64,
  upcaseName,
} from './layout.ts';
import type { HiveHeader, KeyNode, SecurityCell } from './model.ts';
import { utf16leString } from '../utf16.ts';
import type { RegValue } from './value-codec.ts';

export interface ParsedHive {
  readonly header: HiveHeader;
  readonly root: KeyNode;
}

function sig2(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0);
}

function latin1(bytes: Uint8Array, start: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(bytes[start + i] ?? 0);
  return out;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A base block is there, with its signature: the least needed to tell a dirty hive from garbage. */
export function checkBaseBlockSignature(bytes: Uint8Array): void {
  if (bytes.length < BASE_BLOCK_SIZE) {
    throw new FormatError(
      `a hive needs a ${BASE_BLOCK_SIZE}-byte base block, found only ${bytes.length} bytes`,
      {
        offset: bytes.length,
      },
    );
  }
  if (latin1(bytes, 0, 4) !== 'regf') {
    throw new FormatError(
      `expected the hive signature "regf", found ${JSON.stringify(latin1(bytes, 0, 4))}`,
      {
        offset: 0,
      },
    );
  }
}

/** The checks of § Base block that make a file a regf primary file this reader understands. */
function checkBaseBlockShape(bytes: Uint8Array): void {
  checkBaseBlockSignature(bytes);
  const major = readU32(bytes, BB.major);
  const minor = readU32(bytes, BB.minor);
  if (major !== 1 || minor < 3 || minor > 6) {
    throw new FormatError(`hive version ${major}.${minor} is not supported (1.3 to 1.6 are)`, {
      offset: BB.major,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
  const fileType = readU32(bytes, BB.fileType);
  if (fileType !== 0) {
    throw new FormatError(`expected a primary hive file (file type 0), found file type ${fileType}`, {
      offset: BB.fileType,
      code: fileType === 1 || fileType === 2 || fileType === 6 ? 'FORMAT_UNSUPPORTED' : 'FORMAT_INVALID',
    });
  }
  const format = readU32(bytes, BB.fileFormat);
  if (format !== 1) {
    throw new FormatError(`expected file format 1 (direct memory load), found ${format}`, {
      offset: BB.fileFormat,
      code: 'FORMAT_UNSUPPORTED',
    });
  }
}

class HiveReader {
  private readonly bytes: Uint8Array;
  private readonly minor: number;
  private readonly dataEnd: number;
  /** For each 4096-byte page of hive bins data: the file offsets of the start and end of its hive bin. */
  private readonly binStart: Uint32Array;
  private readonly binEnd: Uint32Array;
  private cellsVisited = 0;
  /**
   * Bytes of value data and class names read from cells. Windows never shares such a cell between
   * two owners, so the sum stays below the hive's size; a hostile hive that shares one cell among
   * many values would otherwise make the reader allocate far more than the file holds.
   */
  private dataBudget: number;
  private readonly keysSeen = new Set<number>();
  private readonly security = new Map<number, SecurityCell>();

  constructor(bytes: Uint8Array, minor: number) {
    this.bytes = bytes;
    this.minor = minor;
    const hbinsSize = readU32(bytes, BB.hbinsSize);
    if (hbinsSize === 0 || hbinsSize % HBIN_ALIGN !== 0) {
      throw new FormatError(`hive bins data size ${hbinsSize} is not a non-zero multiple of ${HBIN_ALIGN}`, {
        offset: BB.hbinsSize,
      });
    }
    if (BASE_BLOCK_SIZE + hbinsSize > bytes.length) {
      throw new FormatError(
        `hive bins data of ${hbinsSize} bytes goes past the end of the file (${bytes.length} bytes): truncated hive`,
        { offset: BB.hbinsSize },
      );
    }
    this.dataEnd = BASE_BLOCK_SIZE + hbinsSize;
    this.dataBudget = hbinsSize;
    const pages = hbinsSize / HBIN_ALIGN;
    this.binStart = new Uint32Array(pages);
    this.binEnd = new Uint32Array(pages);
    let pos = BASE_BLOCK_SIZE;
    while (pos < this.dataEnd) {
      if (latin1(bytes, pos, 4) !== 'hbin') {
        throw new FormatError(
          `expected a hive bin signature "hbin", found ${JSON.stringify(latin1(bytes, pos, 4))}`,
          {
            offset: pos,
          },
        );
      }
      const rel = readU32(bytes, pos + 4);
      if (rel !== pos - BASE_BLOCK_SIZE) {
        throw new FormatError(
          `hive bin offset field ${hex(rel)} does not match its position ${hex(pos - BASE_BLOCK_SIZE)}`,
          {
            offset: pos + 4,
          },
        );
      }
      const size = readU32(bytes, pos + 8);
      if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0 || pos + size > this.dataEnd) {
        throw new FormatError(
          `hive bin size ${size} is not a multiple of ${HBIN_ALIGN} within the hive bins data (${this.dataEnd - pos} bytes left)`,
          { offset: pos + 8 },
        );
      }
      const first = (pos - BASE_BLOCK_SIZE) / HBIN_ALIGN;
      this.binStart.fill(pos, first, first + size / HBIN_ALIGN);
      this.binEnd.fill(pos + size, first, first + size / HBIN_ALIGN);
      pos += size;
    }
  }

  /** The file offset of the data of the allocated cell at `off`, and the data's length. */
  private cell(off: number, what: string, from: number): { at: number; length: number } {
    if (++this.cellsVisited > MAX_CELLS_VISITED) {
      throw new FormatError(`more than ${MAX_CELLS_VISITED} cells visited`, {
        offset: from,
        code: 'LIMIT_EXCEEDED',
      });
    }
    const abs = BASE_BLOCK_SIZE + off;
    if (off === NO_OFFSET || off % 8 !== 0 || abs + 8 > this.dataEnd) {
      throw new FormatError(
        `${what} cell offset ${hex(off)} is not an 8-aligned offset inside the hive bins data`,
        {
          offset: from,
        },
      );
    }
    const page = Math.floor(off / HBIN_ALIGN);
    const start = this.binStart[page] ?? 0;
    const end = this.binEnd[page] ?? 0;
    if (abs < start + HBIN_HEADER_SIZE) {
      throw new FormatError(`${what} cell offset ${hex(off)} points into a hive bin header`, {
        offset: from,
      });
    }
    const raw = readI32(this.bytes, abs);
    if (raw >= 0) {
      throw new FormatError(`${what} cell at ${hex(off)} is not allocated (size field ${raw})`, {
        offset: abs,
      });
    }
    const size = -raw;
    if (size < 8 || abs + size > end) {
      throw new FormatError(`${what} cell size ${size} goes past the end of its hive bin at ${hex(end)}`, {
        offset: abs,
      });
    }
    return { at: abs + 4, length: size - 4 };
  }

  private spend(size: number, from: number): void {
    this.dataBudget -= size;
    if (this.dataBudget < 0) {
      throw new FormatError(
        'value data and class names add up to more than the hive holds: cells are shared',
        {
          offset: from,
          code: 'LIMIT_EXCEEDED',
        },
      );
    }
  }

  readRoot(rootOff: number): KeyNode {
    return this.readKey(rootOff, undefined, 0, BB.rootCell);
  }

  private readKey(off: number, parent: KeyNode | undefined, depth: number, from: number): KeyNode {
    const b = this.bytes;
    if (depth > MAX_KEY_DEPTH) {
      throw new FormatError(`keys nested deeper than ${MAX_KEY_DEPTH} levels`, {
        offset: from,
        code: 'LIMIT_EXCEEDED',
      });
    }
    if (this.keysSeen.has(off)) {
      throw new FormatError(`key node ${hex(off)} is reached twice: the subkey lists form a cycle`, {
        offset: from,
      });
    }
    this.keysSeen.add(off);
    const { at, length } = this.cell(off, 'key node', from);
    if (length < 76 || sig2(b, at) !== 'nk') {
      throw new FormatError(
        `expected a key node ("nk", at least 76 bytes), found ${JSON.stringify(sig2(b, at))}`,
        {
          offset: at,
        },
      );
    }
    const flags = readU16(b, at + 2);
    const nameLength = readU16(b, at + 72);
    if (76 + nameLength > length) {
      throw new FormatError(`key name of ${nameLength} bytes goes past its cell (${length - 76} bytes)`, {
        offset: at + 72,
      });
    }
    const name =
      flags & KEY_COMP_NAME
        ? latin1(b, at + 76, nameLength)
        : utf16leString(b, at + 76, at + 76 + nameLength);
    const node: KeyNode = {
      name,
      upper: upcaseName(name),
      classBytes: undefined,
      lastWritten: readU64(b, at + 4),
      flags: flags & ~(KEY_COMP_NAME | KEY_HIVE_ENTRY),
      accessBits: readU32(b, at + 12),
      nameFieldHigh: readU16(b, at + 54),
      security: undefined,
      parent,
      subkeys: new Map(),
      values: new Map(),
      deleted: false,
    };
    const classOff = readU32(b, at + 48);
    const classLength = readU16(b, at + 74);
    if (classOff !== NO_OFFSET && classLength > 0) {
      const c = this.cell(classOff, 'class name', at + 48);
      if (classLength > c.length) {
        throw new FormatError(`class name of ${classLength} bytes goes past its cell (${c.length} bytes)`, {
          offset: at + 74,
        });
      }
      this.spend(classLength, at + 48);
      node.classBytes = b.slice(c.at, c.at + classLength);
    }
    const skOff = readU32(b, at + 44);
    if (skOff !== NO_OFFSET) node.security = this.readSecurity(skOff, at + 44);
    this.readValues(node, at);
    this.readSubkeys(node, at, depth);
    return node;
  }

  private readSecurity(off: number, from: number): SecurityCell {
    const known = this.security.get(off);
    if (known) return known;
    const b = this.bytes;
    const { at, length } = this.cell(off, 'key security', from);
    if (length < 20 || sig2(b, at) !== 'sk') {
      throw new FormatError(`expected a key security cell ("sk"), found ${JSON.stringify(sig2(b, at))}`, {
        offset: at,
      });
    }
    const size = readU32(b, at + 16);
    if (size > length - 20) {
      throw new FormatError(
        `security descriptor of ${size} bytes goes past its cell (${length - 20} bytes)`,
        {
          offset: at + 16,
        },
      );
    }
    const cell: SecurityCell = { descriptor: b.slice(at + 20, at + 20 + size) };
    this.security.set(off, cell);
    return cell;
  }

  private readValues(node: KeyNode, nk: number): void {
    const b = this.bytes;
    const count = readU32(b, nk + 36);
    if (count === 0) return;
    if (count > MAX_VALUES_PER_KEY) {
      throw new FormatError(`${count} values in one key is more than the limit of ${MAX_VALUES_PER_KEY}`, {
        offset: nk + 36,
        code: 'LIMIT_EXCEEDED',
      });
    }
    const list = this.cell(readU32(b, nk + 40), 'key values list', nk + 40);
    if (count * 4 > list.length) {
      throw new FormatError(`${count} values do not fit in a values list of ${list.length} bytes`, {
        offset: nk + 36,
      });
    }
    for (let i = 0; i < count; i++) {
      const value = this.readValue(readU32(b, list.at + 4 * i), list.at + 4 * i);
      const upper = upcaseName(value.name);
      if (node.values.has(upper)) {
        throw new FormatError(`key "${node.name}" has two values named "${value.name}"`, {
          offset: list.at + 4 * i,
        });
      }
      node.values.set(upper, value);
    }
  }

  private readValue(off: number, from: number): RegValue {
    const b = this.bytes;
    const { at, length } = this.cell(off, 'key value', from);
    if (length < 20 || sig2(b, at) !== 'vk') {
      throw new FormatError(`expected a key value ("vk"), found ${JSON.stringify(sig2(b, at))}`, {
        offset: at,
      });
    }
    const nameLength = readU16(b, at + 2);
    if (20 + nameLength > length) {
      throw new FormatError(`value name of ${nameLength} bytes goes past its cell (${length - 20} bytes)`, {
        offset: at + 2,
      });
    }
    const flags = readU16(b, at + 16);
    const name =
      flags & VALUE_COMP_NAME
        ? latin1(b, at + 20, nameLength)
        : utf16leString(b, at + 20, at + 20 + nameLength);
    const type = readU32(b, at + 12);
    const rawSize = readU32(b, at + 4);
    const size = rawSize & 0x7fff_ffff;
    const dataOff = readU32(b, at + 8);
    let data: Uint8Array;
    if (rawSize & 0x8000_0000) {
      if (size > 4) {
        throw new FormatError(`inline value data of ${size} bytes is more than the 4 the field holds`, {
          offset: at + 4,
        });
      }
      data = b.slice(at + 8, at + 8 + size);
    } else if (size === 0) {
      data = new Uint8Array(0);
    } else if (size > MAX_VALUE_SIZE) {
      throw new FormatError(`value data of ${size} bytes is more than the limit of ${MAX_VALUE_SIZE}`, {
        offset: at + 4,
        code: 'LIMIT_EXCEEDED',
      });
    } else {
      this.spend(size, at + 4);
      data = this.readData(dataOff, size, at + 8);
    }
    return { name, type, data };
  }

  private readData(off: number, size: number, from: number): Uint8Array {
    const b = this.bytes;
    const cell = this.cell(off, 'value data', from);
    if (size > BIG_DATA_SEGMENT && this.minor > 3 && cell.length >= 8 && sig2(b, cell.at) === 'db') {
      const segments = readU16(b, cell.at + 2);
      if (segments * BIG_DATA_SEGMENT < size) {
        throw new FormatError(`${segments} big data segments cannot hold ${size} bytes`, {
          offset: cell.at + 2,
        });
      }
      const list = this.cell(readU32(b, cell.at + 4), 'big data segment list', cell.at + 4);
      if (segments * 4 > list.length) {
        throw new FormatError(`${segments} segments do not fit in a segment list of ${list.length} bytes`, {
          offset: cell.at + 2,
        });
      }
      const data = new Uint8Array(size);
      let done = 0;
      for (let i = 0; i < segments && done < size; i++) {
        const seg = this.cell(readU32(b, list.at + 4 * i), 'big data segment', list.at + 4 * i);
        const take = Math.min(size - done, BIG_DATA_SEGMENT);
        if (take > seg.length) {
          throw new FormatError(
            `big data segment of ${seg.length} bytes is shorter than the ${take} expected`,
            {
              offset: seg.at - 4,
            },
          );
        }
        data.set(b.subarray(seg.at, seg.at + take), done);
        done += take;
      }
      return data;
    }
    if (size > cell.length) {
      throw new FormatError(`value data of ${size} bytes goes past its cell (${cell.length} bytes)`, {
        offset: from,
      });
    }
    return b.slice(cell.at, cell.at + size);
  }

  private readSubkeys(node: KeyNode, nk: number, depth: number): void {
    const b = this.bytes;
    const count = readU32(b, nk + 20);
    if (count === 0) return;
    if (count > MAX_SUBKEYS_PER_KEY) {
      throw new FormatError(`${count} subkeys in one key is more than the limit of ${MAX_SUBKEYS_PER_KEY}`, {
        offset: nk + 20,
        code: 'LIMIT_EXCEEDED',
      });
    }
    const offsets: { off: number; from: number }[] = [];
    this.readList(readU32(b, nk + 28), nk + 28, false, offsets, count);
    if (offsets.length !== count) {
      throw new FormatError(
        `key "${node.name}" says it has ${count} subkeys, its subkey lists hold ${offsets.length}`,
        {
          offset: nk + 20,
        },
      );
    }
    for (const { off, from } of offsets) {
      const child = this.readKey(off, node, depth + 1, from);
      if (node.subkeys.has(child.upper)) {
        throw new FormatError(`key "${node.name}" has two subkeys named "${child.name}"`, { offset: from });
      }
      node.subkeys.set(child.upper, child);
    }
  }

  private readList(
    off: number,
    from: number,
    inRoot: boolean,
    out: { off: number; from: number }[],
    max: number,
  ): void {
    const b = this.bytes;
    const { at, length } = this.cell(off, 'subkeys list', from);
    const kind = sig2(b, at);
    const count = readU16(b, at + 2);
    const step = kind === 'lf' || kind === 'lh' ? 8 : kind === 'li' || kind === 'ri' ? 4 : 0;
    if (step === 0) {
      throw new FormatError(`expected a subkeys list (li, lf, lh or ri), found ${JSON.stringify(kind)}`, {
        offset: at,
      });
    }
    if (4 + count * step > length) {
      throw new FormatError(`${count} list elements do not fit in a ${kind} cell of ${length} bytes`, {
        offset: at + 2,
      });
    }
    if (kind === 'ri') {
      if (inRoot) throw new FormatError('an index root points to another index root', { offset: at });
      for (let i = 0; i < count; i++)
        this.readList(readU32(b, at + 4 + 4 * i), at + 4 + 4 * i, true, out, max);
      return;
    }
    if (out.length + count > max) {
      throw new FormatError(`subkey lists hold more elements than the key's count of ${max}`, {
        offset: at + 2,
      });
    }
    for (let i = 0; i < count; i++) out.push({ off: readU32(b, at + 4 + step * i), from: at + 4 + step * i });
  }
}

/** Reads a clean primary file. */
export function readHiveTree(bytes: Uint8Array): ParsedHive {
  checkBaseBlockShape(bytes);
  const minor = readU32(bytes, BB.minor);
  const reader = new HiveReader(bytes, minor);
  const root = reader.readRoot(readU32(bytes, BB.rootCell));
  return {
    header: {
      minor,
      sequence: readU32(bytes, BB.primarySeq),
      fileName: bytes.slice(BB.fileName, BB.fileName + 64),
    },
    root,
  };
}
