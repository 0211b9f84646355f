// Shared by the disk tests: a sample image, and readers that use the reference tools directly
// (sgdisk, sfdisk, ntfs-3g, mtools, hivex, qemu-img) to check what winsmith wrote.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSampleImage } from '../../src/image/sample/build-sample.ts';

const exec = promisify(execFile);

export async function run(program: string, args: readonly string[]): Promise<string> {
  const { stdout } = await exec(program, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}

export async function runBytes(program: string, args: readonly string[]): Promise<Buffer> {
  const { stdout } = await exec(program, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
  return stdout;
}

/** The project's sample image in `dir`, small. */
export async function makeSample(dir: string): Promise<string> {
  const wim = join(dir, 'sample.wim');
  await buildSampleImage(wim, { seed: 7 });
  return wim;
}

/** Copies `size` bytes at `offset` of a raw disk to a sparse file (qemu's raw driver, as verify does). */
export async function extractPartition(
  disk: string,
  offset: number,
  size: number,
  out: string,
): Promise<string> {
  const spec = { driver: 'raw', offset, size, file: { driver: 'file', filename: disk } };
  await run('qemu-img', ['convert', '-O', 'raw', `json:${JSON.stringify(spec)}`, out]);
  return out;
}

export interface TreeEntry {
  readonly size: number;
  readonly sha1: string | null;
}

/** Every file of an NTFS volume file (ntfsls -R), with its size and SHA-1 (ntfscat); directories as size -1. */
export async function ntfsTree(volume: string): Promise<Map<string, TreeEntry>> {
  const listing = await run('ntfsls', ['-R', '-F', '-l', '-p', '/', volume]);
  const tree = new Map<string, TreeEntry>();
  let dir = '/';
  for (const line of listing.split('\n')) {
    const header = /^(\/.*):$/.exec(line);
    if (header !== null) {
      dir = (header[1] ?? '/').replace(/\/$/, '');
      continue;
    }
    const m = /^\s*(\d+) \w{3} +\d+ \d\d:\d\d \d{4} (.*)$/.exec(line);
    if (m === null) continue;
    const name = m[2] ?? '';
    if (name === './' || name === '../') continue;
    const isDir = name.endsWith('/');
    const path = `${dir}/${isDir ? name.slice(0, -1) : name}`;
    if (isDir) {
      tree.set(path, { size: -1, sha1: null });
    } else {
      const bytes = await runBytes('ntfscat', [volume, path]);
      tree.set(path, {
        size: bytes.byteLength,
        sha1: bytes.byteLength === 0 ? null : createHash('sha1').update(bytes).digest('hex'),
      });
    }
  }
  return tree;
}

/** Every file of a WIM image (wimdir --detailed), in the same shape. */
export async function wimTree(wim: string, index: number): Promise<Map<string, TreeEntry>> {
  const out = await run('wimdir', [wim, String(index), '--detailed']);
  const tree = new Map<string, TreeEntry>();
  for (const block of out.split(/^-{20,}$/m)) {
    const path = /Full Path\s*=\s*"(.*)"/.exec(block)?.[1];
    if (path === undefined || path === '/') continue;
    const attributes = Number.parseInt(/Attributes\s*=\s*(0x[0-9a-f]+)/i.exec(block)?.[1] ?? '0', 16);
    if ((attributes & 0x10) !== 0) {
      tree.set(path, { size: -1, sha1: null });
      continue;
    }
    const unnamed = block.split('Unnamed data stream:')[1] ?? '';
    const size = Number(/Uncompressed size\s*=\s*(\d+)/.exec(unnamed)?.[1] ?? '0');
    const hash = /Hash\s*=\s*(?:0x)?([0-9a-f]{40})/i.exec(unnamed)?.[1] ?? null;
    tree.set(path, {
      size,
      sha1: size === 0 || hash === null || /^0+$/.test(hash) ? null : hash.toLowerCase(),
    });
  }
  return tree;
}

/** hivexregedit --export of a hive file: key path → value name → hex bytes (hex(N): values) or string. */
export async function exportHive(hive: string): Promise<Map<string, Map<string, string>>> {
  const text = await run('hivexregedit', ['--export', hive, '\\']);
  const keys = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  const joined = text.replace(/\\\r?\n\s*/g, '');
  for (const line of joined.split(/\r?\n/)) {
    const key = /^\[(.*)\]$/.exec(line);
    if (key !== null) {
      current = new Map();
      keys.set((key[1] ?? '').toLowerCase(), current);
      continue;
    }
    const value = /^"([^"]*)"=(.*)$/.exec(line);
    if (value !== null) current.set((value[1] ?? '').toLowerCase(), value[2] ?? '');
  }
  return keys;
}

/** Bytes of a `hex(N):aa,bb,…` value as hivexregedit prints it. */
export function hexValue(text: string | undefined): Uint8Array {
  const m = /^hex(?:\([0-9a-f]+\))?:(.*)$/i.exec(text ?? '');
  if (m === null) throw new Error(`not a hex value: ${text ?? 'absent'}`);
  const body = (m[1] ?? '').trim();
  return Uint8Array.from(body === '' ? [] : body.split(',').map((h) => Number.parseInt(h, 16)));
}

/** A REG_SZ value printed as hex(1) (UTF-16LE) or as a quoted string. */
export function stringValue(text: string | undefined): string {
  if (text?.startsWith('"') === true) return text.slice(1, -1);
  const bytes = hexValue(text);
  return Buffer.from(bytes).toString('utf16le').replace(/\0+$/, '');
}
