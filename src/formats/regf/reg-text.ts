// Registry editor text files (.reg): "Windows Registry Editor Version 5.00" as regedit and
// `reg export` write them (UTF-16LE with a BOM, CRLF), and the older "REGEDIT4" (8-bit text).
// There is no formal specification. This follows Microsoft's description of the syntax
// (support article "How to add, modify, or delete registry subkeys and values by using a .reg
// file", KB310516: [key], [-key], "name"=-, @=, dword:, hex:, hex(N):), the value forms hivex
// writes (`hivexregedit --export`: root-relative key paths such as [\Key\Sub], hex(N) with any type
// number, e.g. hex(3e8)), and the line layout regedit writes, checked against its exports: hex data
// wrapped with "," "\" CRLF and a two-space indent once a line reaches 77 columns, a blank line
// after every key.

import { FormatError } from '../../core/errors.ts';
import { REG_TYPES } from './index.ts';
import { utf16leBytes } from '../utf16.ts';

/** One line of a key's section: set a value, or delete it ("name"=-). */
export type RegTextValue =
  | { readonly kind: 'set'; readonly name: string; readonly type: number; readonly data: Uint8Array }
  | { readonly kind: 'delete'; readonly name: string };

/**
 * A [key] section (the key is created when missing, then its values are set or deleted) or a
 * [-key] section (the key and everything below it is deleted). `path` is relative to the hive
 * root: '\\' is the root, '\\A\\B' below it.
 */
export type RegTextSection =
  | { readonly kind: 'key'; readonly path: string; readonly values: readonly RegTextValue[] }
  | { readonly kind: 'delete-key'; readonly path: string };

export interface RegText {
  readonly sections: readonly RegTextSection[];
}

export interface RegTextPathOptions {
  /**
   * The key the hive's root stands for in the file, e.g. 'HKEY_LOCAL_MACHINE\\SOFTWARE': parsing
   * strips it from key paths (paths outside it are an error), formatting puts it in front. Without
   * it, key paths are root-relative ('[\\Key\\Sub]'), as `hivexregedit --export` writes them.
   */
  readonly prefix?: string;
}

export interface RegTextSerializeOptions extends RegTextPathOptions {
  /** 'utf-16le' (with a BOM, what regedit writes; the default) or 'utf-8' (no BOM). */
  readonly encoding?: 'utf-16le' | 'utf-8';
}

export const REGEDIT5_HEADER = 'Windows Registry Editor Version 5.00';
export const REGEDIT4_HEADER = 'REGEDIT4';
/** regedit ends a hex line with "\" once the line (indent, name and bytes so far) reaches this. */
export const HEX_WRAP_COLUMN = 77;
/** The indent of regedit's continuation lines. */
const CONTINUATION_INDENT = '  ';
/** The largest type number hex(N) can carry: the type field is a 32-bit DWORD. */
const MAX_TYPE = 0xffff_ffff;

// --- bytes ↔ text -------------------------------------------------------------------------------

/** The text of a .reg file: UTF-16LE (BOM FF FE, or none but NULs in every odd byte), or UTF-8. */
export function decodeRegText(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    throw new FormatError('the file is UTF-16 big-endian (BOM FE FF); expected UTF-16LE or UTF-8', {
      code: 'FORMAT_UNSUPPORTED',
      offset: 0,
      hint: 'save the file as UTF-16LE ("Unicode") or UTF-8',
    });
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  }
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) {
    return new TextDecoder('utf-16le').decode(bytes);
  }
  try {
    // TextDecoder drops a UTF-8 BOM itself.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // REGEDIT4 files are in the machine's ANSI code page; Windows-1252 is the common one.
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

// --- parsing ------------------------------------------------------------------------------------

interface Cursor {
  readonly lines: readonly string[];
  /** Index into lines. */
  line: number;
  /** Index into lines[line]. */
  pos: number;
}

function current(c: Cursor): string {
  return c.lines[c.line] ?? '';
}

function found(c: Cursor): string {
  const rest = current(c).slice(c.pos);
  if (rest === '') return 'the end of the line';
  return `'${rest.length > 24 ? `${rest.slice(0, 24)}…` : rest}'`;
}

function fail(c: Cursor, message: string): never {
  throw new FormatError(`line ${c.line + 1}, column ${c.pos + 1}: ${message}`);
}

function expected(c: Cursor, what: string): never {
  fail(c, `expected ${what}, found ${found(c)}`);
}

function skipBlanks(c: Cursor): void {
  const s = current(c);
  while (c.pos < s.length && (s[c.pos] === ' ' || s[c.pos] === '\t')) c.pos++;
}

/** Only blanks or a ';' comment are left on the line. */
function atLineEnd(c: Cursor): boolean {
  skipBlanks(c);
  const s = current(c);
  return c.pos >= s.length || s[c.pos] === ';';
}

function expectLineEnd(c: Cursor, after: string): void {
  if (!atLineEnd(c)) expected(c, `the end of the line after ${after}`);
}

function isHexDigit(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

function hexDigits(c: Cursor, max: number, what: string): number {
  const s = current(c);
  const start = c.pos;
  while (c.pos < s.length && c.pos - start < max && isHexDigit(s[c.pos])) c.pos++;
  if (c.pos === start) expected(c, what);
  if (isHexDigit(s[c.pos])) {
    c.pos = start;
    expected(c, what);
  }
  return Number.parseInt(s.slice(start, c.pos), 16);
}

/** A "…" string with \\ and \" escapes; the cursor is on the opening quote. */
function quoted(c: Cursor): string {
  const s = current(c);
  c.pos++;
  let out = '';
  for (;;) {
    const ch = s[c.pos];
    if (ch === undefined) expected(c, "a closing '\"'");
    if (ch === '"') {
      c.pos++;
      return out;
    }
    if (ch === '\\') {
      const next = s[c.pos + 1];
      if (next !== '\\' && next !== '"') {
        c.pos++;
        expected(c, "'\\\\' or '\\\"' after a backslash in a quoted string");
      }
      out += next;
      c.pos += 2;
      continue;
    }
    out += ch;
    c.pos++;
  }
}

/** hex bytes "aa,bb,…" over as many lines as end in "\"; the cursor is after the ':'. */
function hexBytes(c: Cursor): Uint8Array {
  const out: number[] = [];
  for (;;) {
    skipBlanks(c);
    const s = current(c);
    if (s[c.pos] === '\\' && s.slice(c.pos + 1).trim() === '') {
      if (c.line + 1 >= c.lines.length) expected(c, "a continuation line after the '\\'");
      c.line++;
      c.pos = 0;
      continue;
    }
    if (atLineEnd(c)) break;
    const start = c.pos;
    while (c.pos < s.length && !/[\s,\\;]/.test(s[c.pos] ?? '')) c.pos++;
    const token = s.slice(start, c.pos);
    if (!/^[0-9a-fA-F]{1,2}$/.test(token)) {
      c.pos = start;
      expected(c, 'a hex byte (two hex digits)');
    }
    out.push(Number.parseInt(token, 16));
    skipBlanks(c);
    const after = s[c.pos];
    if (after === ',') {
      c.pos++;
    } else if (after !== undefined && after !== '\\' && after !== ';') {
      expected(c, "',' between hex bytes");
    }
  }
  return Uint8Array.from(out);
}

/** REGEDIT4 stores REG_EXPAND_SZ and REG_MULTI_SZ hex data as 8-bit text: widen it to UTF-16LE. */
function widen(bytes: Uint8Array): Uint8Array {
  return utf16leBytes(new TextDecoder('windows-1252').decode(bytes));
}

function valueData(c: Cursor, regedit4: boolean): { type: number; data: Uint8Array } | undefined {
  const s = current(c);
  const ch = s[c.pos];
  if (ch === '-') {
    c.pos++;
    expectLineEnd(c, "'-'");
    return undefined;
  }
  if (ch === '"') {
    const text = quoted(c);
    expectLineEnd(c, 'the quoted string');
    return { type: REG_TYPES.REG_SZ, data: utf16leBytes(`${text}\0`) };
  }
  const rest = s.slice(c.pos).toLowerCase();
  if (rest.startsWith('dword:')) {
    c.pos += 'dword:'.length;
    const n = hexDigits(c, 8, 'a DWORD of 1 to 8 hex digits');
    expectLineEnd(c, 'the DWORD');
    const data = new Uint8Array(4);
    new DataView(data.buffer, 0, data.byteLength).setUint32(0, n, true);
    return { type: REG_TYPES.REG_DWORD, data };
  }
  if (rest.startsWith('hex')) {
    c.pos += 3;
    let type: number = REG_TYPES.REG_BINARY;
    if (s[c.pos] === '(') {
      c.pos++;
      type = hexDigits(c, 8, 'a value type of 1 to 8 hex digits');
      if (s[c.pos] !== ')') expected(c, "')' after the value type");
      c.pos++;
    }
    if (s[c.pos] !== ':') expected(c, "':' after 'hex' or 'hex(N)'");
    c.pos++;
    const data = hexBytes(c);
    const narrow = type === REG_TYPES.REG_EXPAND_SZ || type === REG_TYPES.REG_MULTI_SZ;
    return { type, data: regedit4 && narrow ? widen(data) : data };
  }
  expected(c, "a quoted string, 'dword:', 'hex:', 'hex(N):' or '-'");
}

function valueLine(c: Cursor, regedit4: boolean): RegTextValue {
  const s = current(c);
  let name: string;
  if (s[c.pos] === '@') {
    name = '';
    c.pos++;
  } else {
    name = quoted(c);
  }
  skipBlanks(c);
  if (s[c.pos] !== '=') expected(c, "'=' after the value name");
  c.pos++;
  skipBlanks(c);
  const parsed = valueData(c, regedit4);
  return parsed === undefined ? { kind: 'delete', name } : { kind: 'set', name, ...parsed };
}

function normalizePrefix(prefix: string): string {
  return prefix.replace(/\\+$/, '');
}

/** The root-relative path of a key named in the file; the cursor is at the path's first character. */
function keyPath(c: Cursor, raw: string, options: RegTextPathOptions): string {
  let rest: string;
  if (raw.startsWith('\\')) {
    rest = raw.slice(1);
  } else if (options.prefix !== undefined && options.prefix !== '') {
    const prefix = normalizePrefix(options.prefix);
    const upper = raw.toUpperCase();
    if (upper === prefix.toUpperCase()) rest = '';
    else if (upper.startsWith(`${prefix.toUpperCase()}\\`)) rest = raw.slice(prefix.length + 1);
    else fail(c, `key '${raw}' is outside the prefix '${prefix}'`);
  } else {
    fail(
      c,
      `expected a key path relative to the hive root, such as '[\\Key\\Sub]', found '${raw}' ` +
        `(give the prefix it starts with to strip it, e.g. '${raw.split('\\')[0] ?? raw}')`,
    );
  }
  rest = rest.replace(/\\$/, '');
  if (rest === '') return '\\';
  const parts = rest.split('\\');
  if (parts.some((p) => p === '')) fail(c, `expected key names between single '\\', found '${raw}'`);
  return `\\${parts.join('\\')}`;
}

function keyLine(c: Cursor, options: RegTextPathOptions): RegTextSection {
  const s = current(c);
  c.pos++;
  const del = s[c.pos] === '-';
  if (del) c.pos++;
  const close = s.lastIndexOf(']');
  if (close < c.pos) {
    c.pos = s.length;
    expected(c, "']' closing the key path");
  }
  const start = c.pos;
  const path = keyPath(c, s.slice(start, close), options);
  c.pos = close + 1;
  expectLineEnd(c, "the key's ']'");
  if (!del) return { kind: 'key', path, values: [] };
  if (path === '\\') {
    c.pos = start;
    fail(c, 'the hive root cannot be deleted');
  }
  return { kind: 'delete-key', path };
}

/**
 * Parses a .reg file (bytes in any encoding regedit reads, or already-decoded text). Throws a
 * FormatError naming the line and column, and what was expected there, at the first problem.
 */
export function parseRegText(input: Uint8Array | string, options: RegTextPathOptions = {}): RegText {
  const text = typeof input === 'string' ? input.replace(/^\uFEFF/, '') : decodeRegText(input);
  const c: Cursor = { lines: text.split(/\r\n|\n|\r/), line: 0, pos: 0 };
  while (c.line < c.lines.length && current(c).trim() === '') c.line++;
  const header = current(c).trim();
  if (header !== REGEDIT5_HEADER && header !== REGEDIT4_HEADER) {
    expected(c, `'${REGEDIT5_HEADER}' or '${REGEDIT4_HEADER}' as the first line`);
  }
  const regedit4 = header === REGEDIT4_HEADER;
  const sections: RegTextSection[] = [];
  let values: RegTextValue[] | undefined;
  for (c.line++; c.line < c.lines.length; c.line++) {
    c.pos = 0;
    if (atLineEnd(c)) continue;
    const ch = current(c)[c.pos];
    if (ch === '[') {
      const section = keyLine(c, options);
      if (section.kind === 'key') {
        values = [];
        sections.push({ kind: 'key', path: section.path, values });
      } else {
        values = undefined;
        sections.push(section);
      }
    } else if (ch === '@' || ch === '"') {
      if (values === undefined) {
        fail(
          c,
          sections.length === 0
            ? "expected a '[key]' line before the first value"
            : "expected a '[key]' line: values cannot follow a '[-key]' deletion",
        );
      }
      values.push(valueLine(c, regedit4));
    } else {
      expected(c, "a '[key]' line, a value line ('\"name\"=…' or '@=…'), a ';' comment or a blank line");
    }
  }
  return { sections };
}

// --- formatting ---------------------------------------------------------------------------------

function escapeQuoted(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
}

function checkLineFree(s: string, what: string): void {
  if (/[\r\n]/.test(s)) {
    throw new FormatError(
      `${what} '${escapeQuoted(s)}' contains a line break, which a .reg file cannot hold`,
      {
        code: 'FORMAT_UNSUPPORTED',
      },
    );
  }
}

/** The text of a REG_SZ whose data can be written as "…" and read back to the same bytes. */
function plainString(data: Uint8Array): string | undefined {
  if (data.length < 2 || data.length % 2 !== 0) return undefined;
  const text = new TextDecoder('utf-16le').decode(data.subarray(0, data.length - 2));
  if (/[\0\r\n]/.test(text) || !text.isWellFormed()) return undefined;
  const again = utf16leBytes(`${text}\0`);
  return again.every((b, i) => b === data[i]) ? text : undefined;
}

function hexText(start: string, data: Uint8Array): string {
  let out = start;
  let width = start.length;
  data.forEach((byte, i) => {
    out += byte.toString(16).padStart(2, '0');
    if (i === data.length - 1) return;
    out += ',';
    width += 3;
    if (width >= HEX_WRAP_COLUMN) {
      out += `\\\r\n${CONTINUATION_INDENT}`;
      width = CONTINUATION_INDENT.length;
    }
  });
  return out;
}

function valueText(value: RegTextValue): string {
  checkLineFree(value.name, 'the value name');
  const name = `${value.name === '' ? '@' : `"${escapeQuoted(value.name)}"`}=`;
  if (value.kind === 'delete') return `${name}-`;
  const { type, data } = value;
  if (type === REG_TYPES.REG_SZ) {
    const text = plainString(data);
    if (text !== undefined) return `${name}"${escapeQuoted(text)}"`;
  }
  if (type === REG_TYPES.REG_DWORD && data.length === 4) {
    const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
    return `${name}dword:${n.toString(16).padStart(8, '0')}`;
  }
  if (!Number.isInteger(type) || type < 0 || type > MAX_TYPE) {
    throw new FormatError(`value type ${type} is not a 32-bit type number`);
  }
  return hexText(`${name}${type === REG_TYPES.REG_BINARY ? 'hex:' : `hex(${type.toString(16)}):`}`, data);
}

function keyText(path: string, options: RegTextPathOptions): string {
  checkLineFree(path, 'the key path');
  const relative = path === '\\' || path === '' ? '' : path.replace(/^\\?/, '\\');
  if (options.prefix === undefined || options.prefix === '') return relative === '' ? '\\' : relative;
  return `${normalizePrefix(options.prefix)}${relative}`;
}

/** The .reg text regedit would write for these sections (CRLF line ends, no BOM). */
export function formatRegText(reg: RegText, options: RegTextPathOptions = {}): string {
  const lines = [REGEDIT5_HEADER, ''];
  for (const section of reg.sections) {
    if (section.kind === 'delete-key') {
      lines.push(`[-${keyText(section.path, options)}]`, '');
      continue;
    }
    lines.push(`[${keyText(section.path, options)}]`, ...section.values.map(valueText), '');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The bytes of a .reg file: UTF-16LE with a BOM as regedit writes it, or UTF-8. */
export function serializeRegText(reg: RegText, options: RegTextSerializeOptions = {}): Uint8Array {
  const text = formatRegText(reg, options);
  if (options.encoding === 'utf-8') return new TextEncoder().encode(text);
  const body = utf16leBytes(text);
  const out = new Uint8Array(body.length + 2);
  out.set([0xff, 0xfe]);
  out.set(body, 2);
  return out;
}
