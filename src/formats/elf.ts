// ELF-64 files, read for what a program needs at run time and for one section by name: the
// System V ABI ("gABI", Object Files chapter) and the "ELF-64 Object File Format" v1.5, little-endian
// only. Layouts used:
//   ELF header (64 bytes): 0 e_ident (0x7f 'E' 'L' 'F', 4 class 2 = 64-bit, 5 data 1 = little-endian,
//     6 version 1) · 16 e_type · 18 e_machine · 20 e_version · 24 e_entry · 32 e_phoff · 40 e_shoff ·
//     48 e_flags · 52 e_ehsize · 54 e_phentsize · 56 e_phnum · 58 e_shentsize · 60 e_shnum ·
//     62 e_shstrndx.
//   Program header (56 bytes): 0 p_type · 4 p_flags · 8 p_offset · 16 p_vaddr · 24 p_paddr ·
//     32 p_filesz · 40 p_memsz · 48 p_align. PT_LOAD 1, PT_DYNAMIC 2, PT_INTERP 3.
//   Dynamic entry (16 bytes): 0 d_tag · 8 d_val. DT_NULL 0, DT_NEEDED 1, DT_STRTAB 5 (an address,
//     found in the file through the PT_LOAD that maps it), DT_STRSZ 10, DT_SONAME 14, DT_RPATH 15,
//     DT_RUNPATH 29; names are offsets into DT_STRTAB.
//   Section header (64 bytes): 0 sh_name · 4 sh_type · 8 sh_flags · 16 sh_addr · 24 sh_offset ·
//     32 sh_size · 40 sh_link · 44 sh_info · 48 sh_addralign · 56 sh_entsize. Past 0xff00 sections,
//     e_shnum is 0 and section 0's sh_size holds the count; e_shstrndx is SHN_XINDEX (0xffff) and
//     section 0's sh_link holds the index.

import type { ByteSource } from '../core/byte-source.ts';
import { FormatError } from '../core/errors.ts';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const DYN_SIZE = 16;

export const ET = { ET_REL: 1, ET_EXEC: 2, ET_DYN: 3 } as const;
export const EM_X86_64 = 62;
const PT = { PT_LOAD: 1, PT_DYNAMIC: 2, PT_INTERP: 3 } as const;
const DT = {
  DT_NULL: 0,
  DT_NEEDED: 1,
  DT_STRTAB: 5,
  DT_STRSZ: 10,
  DT_SONAME: 14,
  DT_RPATH: 15,
  DT_RUNPATH: 29,
} as const;
const SHN_XINDEX = 0xffff;
/** The dynamic tags whose value names a string of DT_STRTAB. */
const STRING_TAGS: ReadonlySet<number> = new Set([DT.DT_NEEDED, DT.DT_SONAME, DT.DT_RPATH, DT.DT_RUNPATH]);

/** Safety limit: more program headers than this are refused (real files have about 15). */
export const MAX_PROGRAM_HEADERS = 1024;
/** Safety limit: more sections than this are refused (a kernel module has about 60, Node 42). */
export const MAX_SECTIONS = 65536;
/** Safety limit: a dynamic section of more entries than this is refused (real ones: about 40). */
export const MAX_DYNAMIC_ENTRIES = 4096;
/** Safety limit: a string (a library name, a path, a section name) longer than this is refused. */
export const MAX_STRING = 4096;
/** Safety limit: a section read whole larger than this is refused (.modinfo is a few KiB). */
export const MAX_SECTION_READ = 16 * 1024 * 1024;

export interface ElfHeader {
  /** ET_REL (a kernel module), ET_EXEC, ET_DYN (a library, or a position-independent program). */
  readonly type: number;
  readonly machine: number;
  readonly phoff: number;
  readonly phnum: number;
  readonly shoff: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

/** What the dynamic loader reads of a program or library. */
export interface ElfDynamic {
  readonly header: ElfHeader;
  /** PT_INTERP: the dynamic loader's path, or null for a static file. */
  readonly interpreter: string | null;
  /** DT_NEEDED, in order. */
  readonly needed: readonly string[];
  readonly soname: string | null;
  /** DT_RUNPATH, else DT_RPATH, split on ':' ($ORIGIN left for the caller). */
  readonly runpath: readonly string[];
}

/** True when `bytes` start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

async function readAt(source: ByteSource, offset: number, length: number, what: string): Promise<DataView> {
  if (offset + length > source.size) {
    throw new FormatError(
      `ELF ${what}: ${length} bytes at ${offset} go past the end (${source.size} bytes)`,
      {
        offset,
      },
    );
  }
  const bytes = await source.read(offset, length);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(view: DataView, at: number, what: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(`ELF ${what} 0x${value.toString(16)} is past 2^53`, { code: 'LIMIT_EXCEEDED' });
  }
  return Number(value);
}

function limit(count: number, max: number, what: string): number {
  if (count > max) {
    throw new FormatError(`ELF ${what} ${count} is more than ${max}`, { code: 'LIMIT_EXCEEDED' });
  }
  return count;
}

export async function readElfHeader(source: ByteSource): Promise<ElfHeader> {
  const view = await readAt(source, 0, EHDR_SIZE, 'header');
  if (!ELF_MAGIC.every((b, i) => view.getUint8(i) === b)) {
    throw new FormatError('not an ELF file: the first bytes are not 7f 45 4c 46', { offset: 0 });
  }
  const elfClass = view.getUint8(4);
  const data = view.getUint8(5);
  if (elfClass !== ELFCLASS64 || data !== ELFDATA2LSB) {
    throw new FormatError(
      `ELF class ${elfClass} data ${data} is not supported; expected class 2 (64-bit) data 1 (little-endian)`,
      { code: 'FORMAT_UNSUPPORTED', offset: 4 },
    );
  }
  const phentsize = view.getUint16(54, true);
  const shentsize = view.getUint16(58, true);
  const phnum = view.getUint16(56, true);
  const shoff = u64(view, 40, 'e_shoff');
  if (phnum !== 0 && phentsize !== PHDR_SIZE) {
    throw new FormatError(`ELF e_phentsize ${phentsize} is not ${PHDR_SIZE}`, { offset: 54 });
  }
  if (shoff !== 0 && shentsize !== SHDR_SIZE) {
    throw new FormatError(`ELF e_shentsize ${shentsize} is not ${SHDR_SIZE}`, { offset: 58 });
  }
  let shnum = view.getUint16(60, true);
  let shstrndx = view.getUint16(62, true);
  if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX)) {
    const first = await readAt(source, shoff, SHDR_SIZE, 'section header 0');
    if (shnum === 0) shnum = u64(first, 32, 'section count');
    if (shstrndx === SHN_XINDEX) shstrndx = first.getUint32(40, true);
  }
  return {
    type: view.getUint16(16, true),
    machine: view.getUint16(18, true),
    phoff: u64(view, 32, 'e_phoff'),
    phnum: limit(phnum, MAX_PROGRAM_HEADERS, 'program header count'),
    shoff,
    shnum: limit(shnum, MAX_SECTIONS, 'section count'),
    shstrndx,
  };
}

interface Segment {
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

async function readSegments(source: ByteSource, header: ElfHeader): Promise<Segment[]> {
  if (header.phnum === 0) return [];
  const view = await readAt(source, header.phoff, header.phnum * PHDR_SIZE, 'program headers');
  return Array.from({ length: header.phnum }, (_, i) => {
    const at = i * PHDR_SIZE;
    return {
      type: view.getUint32(at, true),
      offset: u64(view, at + 8, 'p_offset'),
      vaddr: u64(view, at + 16, 'p_vaddr'),
      filesz: u64(view, at + 32, 'p_filesz'),
    };
  });
}

/** The NUL-terminated string at `offset`, which must end before `end`. */
async function readString(source: ByteSource, offset: number, end: number, what: string): Promise<string> {
  const length = Math.min(end - offset, MAX_STRING + 1, source.size - offset);
  if (length <= 0) throw new FormatError(`ELF ${what} at ${offset} is outside its table`, { offset });
  const bytes = await source.read(offset, length);
  const nul = bytes.indexOf(0);
  if (nul < 0) {
    throw new FormatError(
      length > MAX_STRING ? `ELF ${what} is longer than ${MAX_STRING} bytes` : `ELF ${what} has no NUL`,
      { offset, code: length > MAX_STRING ? 'LIMIT_EXCEEDED' : 'FORMAT_INVALID' },
    );
  }
  return new TextDecoder('utf-8').decode(bytes.subarray(0, nul));
}

/** The file offset of virtual address `addr`, through the PT_LOAD segment that maps it. */
function fileOffsetOf(segments: readonly Segment[], addr: number): number {
  const load = segments.find((s) => s.type === PT.PT_LOAD && addr >= s.vaddr && addr < s.vaddr + s.filesz);
  if (load === undefined) {
    throw new FormatError(`ELF address 0x${addr.toString(16)} is in no PT_LOAD segment of the file`);
  }
  return load.offset + (addr - load.vaddr);
}

/** The interpreter, needed libraries, soname and run path of a program or shared library. */
export async function readElfDynamic(source: ByteSource): Promise<ElfDynamic> {
  const header = await readElfHeader(source);
  const segments = await readSegments(source, header);
  const interp = segments.find((s) => s.type === PT.PT_INTERP);
  const interpreter =
    interp === undefined
      ? null
      : await readString(source, interp.offset, interp.offset + interp.filesz, 'PT_INTERP');
  const dynamic = segments.find((s) => s.type === PT.PT_DYNAMIC);
  if (dynamic === undefined) return { header, interpreter, needed: [], soname: null, runpath: [] };

  const count = limit(Math.floor(dynamic.filesz / DYN_SIZE), MAX_DYNAMIC_ENTRIES, 'dynamic entry count');
  const view = await readAt(source, dynamic.offset, count * DYN_SIZE, 'dynamic section');
  const entries: { tag: number; value: number }[] = [];
  for (let i = 0; i < count; i++) {
    const tag = Number(view.getBigInt64(i * DYN_SIZE, true));
    if (tag === DT.DT_NULL) break;
    entries.push({ tag, value: u64(view, i * DYN_SIZE + 8, `d_val of tag ${tag}`) });
  }
  const valueOf = (tag: number): number | undefined => entries.find((e) => e.tag === tag)?.value;
  const strtab = valueOf(DT.DT_STRTAB);
  const strsz = valueOf(DT.DT_STRSZ);
  const named = entries.filter((e) => STRING_TAGS.has(e.tag));
  if (named.length > 0 && (strtab === undefined || strsz === undefined)) {
    throw new FormatError('ELF dynamic section names libraries but has no DT_STRTAB or DT_STRSZ', {
      offset: dynamic.offset,
    });
  }
  const tableOffset = strtab === undefined ? 0 : fileOffsetOf(segments, strtab);
  const tableEnd = tableOffset + (strsz ?? 0);
  const text = (e: { value: number }, what: string): Promise<string> => {
    if (e.value >= (strsz ?? 0)) {
      throw new FormatError(`ELF ${what} offset ${e.value} is past DT_STRSZ ${strsz ?? 0}`);
    }
    return readString(source, tableOffset + e.value, tableEnd, what);
  };
  const needed: string[] = [];
  let soname: string | null = null;
  let rpath: string | null = null;
  let runpath: string | null = null;
  for (const e of named) {
    if (e.tag === DT.DT_NEEDED) needed.push(await text(e, 'DT_NEEDED'));
    else if (e.tag === DT.DT_SONAME) soname = await text(e, 'DT_SONAME');
    else if (e.tag === DT.DT_RPATH) rpath = await text(e, 'DT_RPATH');
    else runpath = await text(e, 'DT_RUNPATH');
  }
  const path = runpath ?? rpath;
  return {
    header,
    interpreter,
    needed,
    soname,
    runpath: path === null || path === '' ? [] : path.split(':'),
  };
}

/** The bytes of the section named `name` (e.g. '.modinfo' of a kernel module), or null. */
export async function readElfSection(source: ByteSource, name: string): Promise<Uint8Array | null> {
  const header = await readElfHeader(source);
  if (header.shoff === 0 || header.shnum === 0) return null;
  const view = await readAt(source, header.shoff, header.shnum * SHDR_SIZE, 'section headers');
  const section = (i: number): { name: number; offset: number; size: number } => ({
    name: view.getUint32(i * SHDR_SIZE, true),
    offset: u64(view, i * SHDR_SIZE + 24, 'sh_offset'),
    size: u64(view, i * SHDR_SIZE + 32, 'sh_size'),
  });
  if (header.shstrndx >= header.shnum) {
    throw new FormatError(`ELF e_shstrndx ${header.shstrndx} is not below the section count ${header.shnum}`);
  }
  const names = section(header.shstrndx);
  for (let i = 0; i < header.shnum; i++) {
    const s = section(i);
    const sectionName = await readString(
      source,
      names.offset + s.name,
      names.offset + names.size,
      'section name',
    );
    if (sectionName !== name) continue;
    limit(s.size, MAX_SECTION_READ, `section ${name} size`);
    if (s.offset + s.size > source.size) {
      throw new FormatError(`ELF section ${name}: ${s.size} bytes at ${s.offset} go past the end`, {
        offset: s.offset,
      });
    }
    return source.read(s.offset, s.size);
  }
  return null;
}
