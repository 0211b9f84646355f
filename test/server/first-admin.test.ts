// The first admin's password of a new repository, as `winsmith server` runs under a service
// manager (stderr not a terminal, started from /): never in the log stream, written once to
// DATA/initial-admin-password (0600) whose path the log gives; a start that fails (the port is
// taken) keeps that file, and the next start logs in with it. On a terminal it is also printed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loginRemote } from '../../src/app/remote/http-client.ts';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { startServerProcess } from '../helpers/server-process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test(
  'a start that fails on a taken port keeps the password file; the next start logs in with it',
  { timeout: 60_000 },
  async () => {
    await withTempDir(async (dir) => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as AddressInfo).port;
      const data = join(dir, 'data');
      const config = join(dir, 'server.yaml');
      await writeFile(config, `data: ${data}\nlisten: 127.0.0.1:${port}\n`);
      let failed;
      try {
        failed = await runWinsmith(['server', '--config', config], { cwd: '/' });
      } finally {
        taken.close();
      }
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /EADDRINUSE/);
      const file = join(data, 'initial-admin-password');
      const created = failed.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; file?: string })
        .find((e) => e.msg.startsWith('first admin created'));
      assert.equal(created?.file, file, 'the log names the file');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const password = (await readFile(file, 'utf8')).trim();
      assert.match(password, /^[A-Za-z0-9_-]{24}$/);
      assert.ok(!failed.stderr.includes(password), 'the password is not in the log stream');

      await writeFile(config, `data: ${data}\nlisten: 127.0.0.1:0\n`);
      const log: string[] = [];
      const server = await startServerProcess(config, log, { cwd: '/' });
      try {
        assert.equal(server.adminPassword, null, 'no new admin is made');
        assert.equal((await readFile(file, 'utf8')).trim(), password, 'the file is not replaced');
        const { token } = await loginRemote(server.url, 'admin', password);
        assert.match(token, /^wsm_/);
        assert.ok(!log.some((l) => l.includes(password)));
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    });
  },
);

test('on a terminal the first start also prints the password on stderr', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    // script(1) gives the server a pseudo-terminal as stdin, stdout and stderr.
    const command = [process.execPath, MAIN, 'server', '--data', data, '--listen', '127.0.0.1:0']
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('"msg":"listening"')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const password = (await readFile(join(data, 'initial-admin-password'), 'utf8')).trim();
      assert.match(out, new RegExp(`created user 'admin' with password ${password}`));
      const jsonLines = out.split(/\r?\n/).filter((l) => l.startsWith('{'));
      assert.ok(!jsonLines.some((l) => l.includes(password)), 'not in the JSON log lines');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
