// Compare what we read with what hivex reads: both sides decoded to the same shape, a map from key
// path to a map from value name to type and data (hex).
//
// hivexregedit --export quirks handled here (libwin-hivex-perl 1.3.23):
// - values come as `hex(N):aa,bb,...` for every type except REG_DWORD of 4 bytes (`dword:xxxxxxxx`);
// - names are printed by Perl: a line holding a character above U+00FF is written as UTF-8 (with a
//   "Wide character" warning on stderr), any other line as Latin-1 bytes;
// - lines are never wrapped; `\` and `"` in value names are escaped with a backslash, key paths are not;
// - values of a key are sorted by name (we compare sets, so order does not matter).

import { runProgram } from '../../src/engines/run.ts';
import type { HiveKey } from '../../src/formats/regf/index.ts';

export interface DumpValue {
  readonly type: number;
  readonly hex: string;
}
export type Dump = Map<string, Map<string, DumpValue>>;

function decodeLine(bytes: Buffer): string {
  try {
    const utf8 = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    for (let i = 0; i < utf8.length; i++) if (utf8.charCodeAt(i) > 0xff) return utf8;
  } catch {
    // not UTF-8: Latin-1 below
  }
  return bytes.toString('latin1');
}

function splitLines(out: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0x0a) {
      lines.push(out.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < out.length) lines.push(out.subarray(start));
  return lines;
}

function parseValueName(line: string): { name: string; rest: string } {
  if (line.startsWith('@=')) return { name: '', rest: line.slice(2) };
  if (!line.startsWith('"')) throw new Error(`unexpected line in hivexregedit output: ${line.slice(0, 80)}`);
  let name = '';
  let i = 1;
  for (; i < line.length && line[i] !== '"'; i++) {
    if (line[i] === '\\') i++;
    name += line[i] ?? '';
  }
  if (line[i + 1] !== '=') throw new Error(`expected "=" after a value name: ${line.slice(0, 80)}`);
  return { name, rest: line.slice(i + 2) };
}

function parseData(rest: string): DumpValue {
  const dword = /^dword:([0-9a-fA-F]{8})$/.exec(rest);
  if (dword?.[1] !== undefined) {
    return { type: 4, hex: Buffer.from(dword[1], 'hex').reverse().toString('hex') };
  }
  const hex = /^hex(?:\(([0-9a-fA-F]+)\))?:(.*)$/.exec(rest);
  if (hex?.[2] !== undefined) {
    return {
      type: hex[1] === undefined ? 3 : parseInt(hex[1], 16),
      hex: hex[2].replaceAll(',', '').toLowerCase(),
    };
  }
  throw new Error(`unexpected value data in hivexregedit output: ${rest.slice(0, 80)}`);
}

/** hivexregedit --export output decoded to a Dump. */
export function parseHivexExport(out: Buffer): Dump {
  const dump: Dump = new Map();
  let current: Map<string, DumpValue> | undefined;
  for (const raw of splitLines(out)) {
    const line = decodeLine(raw);
    if (line === '' || line.startsWith('Windows Registry Editor')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      current = new Map();
      dump.set(line.slice(1, -1), current);
      continue;
    }
    if (current === undefined) throw new Error(`value before any key: ${line.slice(0, 80)}`);
    const { name, rest } = parseValueName(line);
    current.set(name, parseData(rest));
  }
  return dump;
}

/** The hive at `path` as hivexregedit --export sees it. */
export async function exportWithHivex(path: string): Promise<Dump> {
  const { stdout } = await runProgram('hivexregedit', ['--export', path, '\\']);
  return parseHivexExport(stdout);
}

/** Our reading of a key and everything below it. */
export function dumpKey(root: HiveKey): Dump {
  const dump: Dump = new Map();
  const walk = (key: HiveKey): void => {
    dump.set(
      key.path,
      new Map(key.values().map((v) => [v.name, { type: v.type, hex: Buffer.from(v.data).toString('hex') }])),
    );
    for (const sub of key.subkeys()) walk(sub);
  };
  walk(root);
  return dump;
}

/** The first difference between two dumps ("first" and "second"), or undefined when they are equal. */
export function firstDifference(ours: Dump, theirs: Dump): string | undefined {
  for (const [path, values] of theirs) {
    const mine = ours.get(path);
    if (mine === undefined) return `key ${path} is missing from the first`;
    for (const [name, v] of values) {
      const m = mine.get(name);
      if (m === undefined) return `value ${path} "${name}" is missing from the first`;
      if (m.type !== v.type || m.hex !== v.hex) {
        let at = 0;
        while (at < m.hex.length && m.hex[at] === v.hex[at]) at++;
        const from = at - (at % 2);
        return (
          `value ${path} "${name}": first (type ${m.type}, ${m.hex.length / 2} bytes) and second ` +
          `(type ${v.type}, ${v.hex.length / 2} bytes) differ from byte ${from / 2}: ` +
          `${m.hex.slice(from, from + 32)} / ${v.hex.slice(from, from + 32)}`
        );
      }
    }
    for (const name of mine.keys())
      if (!values.has(name)) return `value ${path} "${name}" is only in the first`;
  }
  for (const path of ours.keys()) if (!theirs.has(path)) return `key ${path} is only in the first`;
  return undefined;
}
