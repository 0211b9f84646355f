// The shell examples of docs/*.md and README.md. Every ```sh fence says what it is:
//
//   ```sh test                  runs, in a new directory
//   ```sh test continue         runs after the example before it in the same file, in its directory
//   ```sh no-test: REASON       is not run here, for the reason given (needs a real NIC, ...)
//
// A ```sh fence with none of these fails the first test, naming the file and the line. The runnable
// examples run with `winsmith` on the PATH (this checkout's CLI), under bash -euo pipefail, in the
// order written: a doc whose example no longer works fails here, naming the file and the line.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { REPO_ROOT } from '../helpers/cli.ts';

interface Example {
  readonly file: string;
  readonly line: number;
  readonly script: string;
}

interface Scan {
  /** Runnable examples, each chain in one directory, in the order written. */
  readonly chains: Example[][];
  readonly notRun: { readonly file: string; readonly line: number; readonly reason: string }[];
  readonly problems: string[];
}

const MARKERS = "a shell example opens with '```sh test', '```sh test continue' or '```sh no-test: REASON'";
const SHELL = /^```(sh|bash|shell)(\s|$)/;

async function docFiles(): Promise<string[]> {
  const names = (await readdir(join(REPO_ROOT, 'docs'))).filter((n) => n.endsWith('.md')).sort();
  return [...names.map((n) => `docs/${n}`), 'README.md'];
}

async function scan(): Promise<Scan> {
  const chains: Example[][] = [];
  const notRun: Scan['notRun'] = [];
  const problems: string[] = [];
  for (const file of await docFiles()) {
    const lines = (await readFile(join(REPO_ROOT, file), 'utf8')).split('\n');
    let chain: Example[] | undefined;
    for (let i = 0; i < lines.length; i++) {
      const open = lines[i]?.trim() ?? '';
      if (!open.startsWith('```')) continue;
      const line = i + 1;
      const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
      if (end < 0) {
        problems.push(`${file}:${line}: the fence is not closed`);
        break;
      }
      const script = lines.slice(i + 1, end).join('\n');
      i = end;
      if (!SHELL.test(open)) continue;
      const info = open.slice(3).trim();
      const reason = /^sh no-test:(.*)$/.exec(info)?.[1]?.trim();
      if (info === 'sh test') {
        chain = [{ file, line, script }];
        chains.push(chain);
      } else if (info === 'sh test continue') {
        if (chain === undefined)
          problems.push(`${file}:${line}: 'sh test continue' follows no runnable example`);
        else chain.push({ file, line, script });
      } else if (reason !== undefined && reason !== '') {
        notRun.push({ file, line, reason });
      } else {
        problems.push(`${file}:${line}: '${open}': ${MARKERS}`);
      }
    }
  }
  return { chains, notRun, problems };
}

function run(script: string, cwd: string, bin: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: cwd, WINSMITH_REPO: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, output }));
  });
}

test('every shell example of the docs runs here, or says why not', async () => {
  const { chains, notRun, problems } = await scan();
  assert.deepEqual(problems, []);
  assert.ok(chains.length >= 10, `${chains.length} runnable examples found`);
  for (const { file, line, reason } of notRun) {
    assert.ok(reason.length >= 10, `${file}:${line}: say why the example does not run here`);
  }
});

test('the runnable examples of the docs run, in the order written', { timeout: 600_000 }, async (t) => {
  const { chains } = await scan();
  for (const chain of chains) {
    const first = chain[0];
    if (first === undefined) continue;
    await t.test(`${first.file}:${first.line}`, async () => {
      await withTempDir(async (dir) => {
        const bin = join(dir, '.bin');
        await mkdir(bin);
        const shim = join(bin, 'winsmith');
        await writeFile(
          shim,
          `#!/bin/sh\nexec '${process.execPath}' '${join(REPO_ROOT, 'src/cli/main.ts')}' "$@"\n`,
        );
        await chmod(shim, 0o755);
        for (const example of chain) {
          const { code, output } = await run(example.script, dir, bin);
          assert.equal(
            code,
            0,
            `${example.file}:${example.line}: the example failed:\n${output.slice(-3000)}`,
          );
        }
      });
    });
  }
});
