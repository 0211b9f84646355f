// Reads a hive with `hivexregedit --export` (Debian libwin-hivex-perl) into key path → value name →
// registry type and bytes: an independent reading of the same file to check ours against.

import { runProgram } from '../../src/engines/run.ts';

export interface ExportedValue {
  readonly type: number;
  readonly data: Uint8Array;
}

export type ExportedHive = Map<string, Map<string, ExportedValue>>;

function hexBytes(text: string): Uint8Array {
  const t = text.trim();
  return t === '' ? new Uint8Array(0) : Uint8Array.from(t.split(','), (h) => parseInt(h, 16));
}

export async function exportHive(path: string): Promise<ExportedHive> {
  const { stdout } = await runProgram('hivexregedit', ['--export', path, '\\']);
  const hive: ExportedHive = new Map();
  let current: Map<string, ExportedValue> | undefined;
  for (const line of stdout.toString('utf8').split('\n')) {
    const key = /^\[(.*)\]$/.exec(line);
    if (key?.[1] !== undefined) {
      current = new Map();
      hive.set(key[1].toLowerCase(), current);
      continue;
    }
    const value = /^"((?:[^"\\]|\\.)*)"=(?:hex\((\d+|[0-9a-f]+)\):(.*)|hex:(.*)|dword:([0-9a-f]{8}))$/.exec(
      line,
    );
    if (value === null || current === undefined) continue;
    const name = (value[1] ?? '').toLowerCase();
    if (value[5] !== undefined) {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, parseInt(value[5], 16), true);
      current.set(name, { type: 4, data });
    } else if (value[2] !== undefined) {
      current.set(name, { type: parseInt(value[2], 16), data: hexBytes(value[3] ?? '') });
    } else {
      current.set(name, { type: 3, data: hexBytes(value[4] ?? '') });
    }
  }
  return hive;
}

/** The Element value of Objects\{id}\Elements\<type> in an export. */
export function exportedElement(hive: ExportedHive, id: string, type: string): ExportedValue | undefined {
  return hive.get(`\\objects\\${id}\\elements\\${type}`.toLowerCase())?.get('element');
}
