// Small WIMs made at test time by the real wimlib-imagex from a generated tree: a few files in
// subdirectories, an empty file, a name with spaces and non-ASCII letters, duplicate content.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runProgram } from '../../src/engines/run.ts';

/** Deterministic bytes that do not compress (xorshift32). */
export function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes the sample tree under `dir` (which is created). */
export async function makeSampleTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'Windows', 'System32', 'config'), { recursive: true });
  await mkdir(join(dir, 'empty dir'), { recursive: true });
  await writeFile(join(dir, 'hello.txt'), 'hello from a wim\n');
  await writeFile(join(dir, 'Windows', 'copy of hello.txt'), 'hello from a wim\n');
  await writeFile(join(dir, 'Windows', 'empty.log'), '');
  await writeFile(join(dir, 'Windows', 'Grüße aus Zürich – ünïcode.txt'), 'non-ASCII name\n');
  await writeFile(join(dir, 'Windows', 'System32', 'config', 'SOFTWARE'), noise(48 * 1024, 7));
  await writeFile(join(dir, 'Windows', 'System32', 'notes with spaces.ini'), '[x]\nkey=value\n'.repeat(200));
}

export interface TreeEntry {
  path: string;
  size: number;
  isDir: boolean;
  sha1: string | null;
}

/** What a WIM of `dir` should list: '/'-rooted paths, sizes, SHA-1 of non-empty files. */
export async function describeTree(dir: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [{ path: '/', size: 0, isDir: true, sha1: null }];
  const walk = async (current: string): Promise<void> => {
    for (const name of await readdir(current)) {
      const full = join(current, name);
      const path = `/${relative(dir, full)}`;
      const s = await stat(full);
      if (s.isDirectory()) {
        entries.push({ path, size: 0, isDir: true, sha1: null });
        await walk(full);
      } else {
        const data = await readFile(full);
        const sha1 = data.length === 0 ? null : createHash('sha1').update(data).digest('hex');
        entries.push({ path, size: data.length, isDir: false, sha1 });
      }
    }
  };
  await walk(dir);
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

export function wimlib(args: readonly string[], input?: string): Promise<string> {
  return runProgram('wimlib-imagex', args, input === undefined ? {} : { input }).then((r) =>
    r.stdout.toString('utf8'),
  );
}

export const WINDOWS_PROPERTIES = {
  'WINDOWS/EDITIONID': 'ServerDatacenter',
  'WINDOWS/INSTALLATIONTYPE': 'Server',
  'WINDOWS/ARCH': '9',
  'WINDOWS/VERSION/MAJOR': '10',
  'WINDOWS/VERSION/MINOR': '0',
  'WINDOWS/VERSION/BUILD': '20348',
  'WINDOWS/VERSION/SPBUILD': '587',
  'WINDOWS/LANGUAGES/LANGUAGE[1]': 'en-US',
  'WINDOWS/LANGUAGES/LANGUAGE[2]': 'de-DE',
} as const;

export interface SampleWims {
  tree: string;
  xpress: string;
  lzx: string;
  solid: string;
  none: string;
  /** First part of a split WIM of at least 2 parts. */
  split: string;
  /** Three images; the second has Windows properties (ARM64), the third is the boot image. */
  multi: string;
  /** One image with every Windows property set. */
  windows: string;
  /** wimlib's pipable variant (magic WLPWM), its tables in the header copy at the end. */
  pipable: string;
}

/** Makes the sample tree and every kind of WIM from it under `dir`. */
export async function makeSampleWims(dir: string): Promise<SampleWims> {
  const tree = join(dir, 'tree');
  await makeSampleTree(tree);
  const at = (name: string): string => join(dir, name);
  const props = Object.entries(WINDOWS_PROPERTIES).flatMap(([k, v]) => ['--image-property', `${k}=${v}`]);
  await Promise.all([
    wimlib(['capture', tree, at('xpress.wim'), 'Xpress image', 'made with XPRESS', '--compress=XPRESS']),
    wimlib(['capture', tree, at('lzx.wim'), 'LZX image', '--compress=LZX']),
    wimlib(['capture', tree, at('solid.esd'), 'Solid image', '--solid']),
    wimlib(['capture', tree, at('none.wim'), 'Plain', '--compress=none']),
    wimlib(['capture', tree, at('windows.wim'), 'Windows Server 2022 SERVERDATACENTER', 'Desktop', ...props]),
    wimlib(['capture', tree, at('multi.wim'), 'First', '--compress=LZX']),
    wimlib(['capture', tree, at('pipable.wim'), 'Pipable', '--pipable']),
  ]);
  await wimlib([
    'append',
    join(tree, 'Windows'),
    at('multi.wim'),
    'Second',
    'the Windows folder',
    '--image-property',
    'WINDOWS/ARCH=12',
    '--image-property',
    'WINDOWS/EDITIONID=ServerStandardCore',
  ]);
  await wimlib(['append', tree, at('multi.wim'), 'Third', '--image-property', 'WINDOWS/ARCH=0', '--boot']);
  await wimlib(['split', at('lzx.wim'), at('split.swm'), '0.02']);
  return {
    tree,
    xpress: at('xpress.wim'),
    lzx: at('lzx.wim'),
    solid: at('solid.esd'),
    none: at('none.wim'),
    split: at('split.swm'),
    multi: at('multi.wim'),
    windows: at('windows.wim'),
    pipable: at('pipable.wim'),
  };
}
