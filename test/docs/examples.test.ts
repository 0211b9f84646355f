// The examples of docs/ that say they run (a fence opened with ```sh test) are run, each in a new
// directory with `winsmith` on the PATH (this checkout's CLI), under bash -euo pipefail: a doc
// whose example no longer works fails here, naming the file and the line of the example.

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

async function examples(): Promise<Example[]> {
  const found: Example[] = [];
  const docs = join(REPO_ROOT, 'docs');
  for (const name of (await readdir(docs)).filter((n) => n.endsWith('.md')).sort()) {
    const lines = (await readFile(join(docs, name), 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]?.trim() !== '```sh test') continue;
      const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
      assert.ok(end > i, `docs/${name}:${i + 1}: the example is not closed`);
      found.push({ file: `docs/${name}`, line: i + 1, script: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return found;
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

test('the examples of docs/ marked to run, run', { timeout: 600_000 }, async () => {
  const all = await examples();
  assert.ok(all.length >= 3, `${all.length} runnable examples found`);
  for (const example of all) {
    await withTempDir(async (dir) => {
      const bin = join(dir, '.bin');
      await mkdir(bin);
      const shim = join(bin, 'winsmith');
      await writeFile(
        shim,
        `#!/bin/sh\nexec '${process.execPath}' '${join(REPO_ROOT, 'src/cli/main.ts')}' "$@"\n`,
      );
      await chmod(shim, 0o755);
      const { code, output } = await run(example.script, dir, bin);
      assert.equal(code, 0, `${example.file}:${example.line}: the example failed:\n${output.slice(-3000)}`);
    });
  }
});
