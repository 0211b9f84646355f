// The CLI imports only what a command line needs: a load hook in the child process records every
// module Node loads; the command modules among them, and the heavy parts a command may skip (the
// PostgreSQL client, the boot services), are checked.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { withTempDir } from '../../src/io/output.ts';
import { REPO_ROOT, runWinsmith } from '../helpers/cli.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const COMMANDS_DIR = new URL('../../src/cli/commands/', import.meta.url).href;

const HOOK = `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.WINSMITH_TEST_LOADED, JSON.stringify(loaded)));
`;

interface Traced {
  readonly code: number;
  readonly stdout: string;
  /** The command modules loaded (file names under src/cli/commands/), sorted. */
  readonly commandModules: string[];
  /** The npm packages loaded (names under node_modules/), sorted. */
  readonly packages: string[];
  /** Every module loaded (URLs). */
  readonly loaded: string[];
}

/**
 * Runs the CLI with `args` and records what it loaded. With `server`, the command is a server: it
 * gets SIGTERM once it answers /api/health (its signal handlers are in place by then).
 */
async function traced(args: readonly string[], server = false): Promise<Traced> {
  return withTempDir(async (dir) => {
    const hook = join(dir, 'hook.mjs');
    const list = join(dir, 'loaded.json');
    await writeFile(hook, HOOK);
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', hook, MAIN, ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, WINSMITH_TEST_LOADED: list },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      let err = '';
      let stopping = false;
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const url = /"msg":"listening","url":"([^"]+)"/.exec(err)?.[1];
        if (!server || stopping || url === undefined) return;
        stopping = true;
        void fetch(`${url}/api/health`).finally(() => child.kill('SIGTERM'));
      });
      child.on('error', reject);
      child.on('close', (status) => resolve({ code: status ?? 128, stdout: out }));
    });
    const loaded = JSON.parse(await readFile(list, 'utf8')) as string[];
    const commandModules = loaded
      .filter((url) => url.startsWith(COMMANDS_DIR))
      .map((url) => url.slice(COMMANDS_DIR.length))
      .filter((name) => name !== 'index.ts' && name !== 'groups.ts')
      .sort();
    const packages = [
      ...new Set(
        loaded.flatMap((url) => {
          const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
          return m?.[1] === undefined ? [] : [m[1]];
        }),
      ),
    ].sort();
    return { code, stdout, commandModules, packages, loaded };
  });
}

test('--version and the top-level --help load no command module; --help lists every top-level word', async () => {
  const version = await traced(['--version']);
  assert.equal(version.code, 0);
  assert.deepEqual(version.commandModules, []);
  const help = await traced(['--help']);
  assert.equal(help.code, 0);
  assert.deepEqual(help.commandModules, []);
  for (const word of new Set(COMMANDS.map((e) => e.path[0]))) {
    assert.match(help.stdout, new RegExp(`^  ${String(word)}\\b`, 'm'), String(word));
  }
});

test("a group's --help loads no command module and lists each command with its arguments and summary", async () => {
  const run = await traced(['image', '--help']);
  assert.equal(run.code, 0);
  assert.deepEqual(run.commandModules, []);
  const listing = run.stdout.replace(/\n {20,}/g, ' ');
  for (const entry of COMMANDS.filter((e) => e.path[0] === 'image')) {
    const term = `${String(entry.path[1])} [options]${entry.args === '' ? '' : ` ${entry.args}`}`;
    assert.ok(listing.includes(term), term);
    assert.ok(listing.replace(/\s+/g, ' ').includes(entry.summary), entry.summary);
  }
});

test('running or asking the help of one command loads that module only (and those of its subcommands)', async () => {
  const info = await traced(['image', 'info', '--help']);
  assert.equal(info.code, 0);
  assert.match(info.stdout, /a \.wim, \.esd or the first \.swm part/);
  assert.deepEqual(info.commandModules, ['image-info.ts']);
  assert.deepEqual((await traced(['help', 'push'])).commandModules, ['push.ts']);
  assert.deepEqual((await traced(['disk', 'verify', '--help'])).commandModules, ['disk-verify.ts']);
  assert.deepEqual((await traced(['disk', '--help'])).commandModules, ['disk-verify.ts', 'disk.ts']);
  const failed = await traced(['unattend', 'lint', '/nonexistent/unattend.xml']);
  assert.notEqual(failed.code, 0);
  assert.deepEqual(failed.commandModules, ['unattend-lint.ts']);
});

test('a command on a data directory (SQLite catalog) does not load the PostgreSQL client', async () => {
  await withTempDir(async (dir) => {
    assert.equal((await runWinsmith(['init', join(dir, 'data')])).code, 0);
    const run = await traced(['images', '--repo', join(dir, 'data')]);
    assert.equal(run.code, 0);
    assert.ok(run.packages.includes('kysely'), `the catalog was not opened: ${run.packages.join(', ')}`);
    assert.ok(!run.packages.includes('pg'), run.packages.join(', '));
  });
});

test('a server without network boot loads none of the boot services', async () => {
  await withTempDir(async (dir) => {
    const run = await traced(['server', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0'], true);
    assert.equal(run.code, 0);
    assert.ok(
      !run.loaded.some((url) => url.includes('/src/boot/')),
      run.loaded.filter((u) => u.includes('/src/')).join('\n'),
    );
  });
});
