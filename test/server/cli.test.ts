// The repository commands against a real server socket, run as a user would: login with
// --password-stdin (token kept in credentials.json mode 0600, never printed), push, images, pull,
// store stats; wrong password and credentials in a URL fail cleanly without leaking anything.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { embeddedSettings } from '../../src/config/server-config.ts';
import { withTempDir } from '../../src/io/output.ts';
import { silentLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import { isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';

function winsmith(args: readonly string[], env: Record<string, string>, input = ''): Promise<CliRun> {
  return runWinsmith(args, { env, input });
}

test(
  'login, push, images, pull and stats against a server; secrets never printed',
  { timeout: 180_000 },
  async () => {
    await withTempDir(async (dir) => {
      let admin = { name: '', password: '' };
      const settings = { ...embeddedSettings(join(dir, 'data')), port: 0 };
      const { server } = await serveRepository(settings, {
        logger: silentLogger,
        onFirstAdmin: (a) => (admin = a),
      });
      try {
        const env = {
          HOME: join(dir, 'home'),
          XDG_CONFIG_HOME: join(dir, 'home', '.config'),
          WINSMITH_REPO: server.url,
        };
        const wrong = await winsmith(
          ['login', server.url, '--user', 'admin', '--password-stdin'],
          env,
          'not the password\n',
        );
        assert.ok(isCleanFailure(wrong), wrong.stderr);
        assert.match(wrong.stderr, /wrong user name or password/);

        const login = await winsmith(
          ['login', server.url, '--user', 'admin', '--password-stdin'],
          env,
          `${admin.password}\n`,
        );
        assert.equal(login.code, 0, login.stderr);
        const path = join(dir, 'home', '.config', 'winsmith', 'credentials.json');
        assert.equal((await stat(path)).mode & 0o777, 0o600);
        const token = (
          JSON.parse(await readFile(path, 'utf8')) as { servers: Record<string, { token: string }> }
        ).servers[server.url]?.token;
        assert.match(token ?? '', /^wsm_/);
        assert.ok(!login.stdout.includes(token ?? '') && !login.stderr.includes(token ?? ''));

        const file = join(dir, 'image.bin');
        const bytes = randomBytes(3_000_000);
        await writeFile(file, bytes);
        const push = await winsmith(['push', file, 'team-a/cli:v1', '--json'], env);
        assert.equal(push.code, 0, push.stderr);
        assert.equal(
          (JSON.parse(push.stdout) as { uploadedChunks: number; chunks: number }).uploadedChunks > 0,
          true,
        );
        const images = await winsmith(['images', '--json'], env);
        assert.deepEqual(
          (JSON.parse(images.stdout) as { name: string; tag: string }[]).map((i) => `${i.name}:${i.tag}`),
          ['team-a/cli:v1'],
        );
        const out = join(dir, 'pulled.bin');
        const pull = await winsmith(['pull', 'team-a/cli:v1', '-o', out], env);
        assert.equal(pull.code, 0, pull.stderr);
        assert.deepEqual(await readFile(out), bytes);
        const stats = await winsmith(['store', 'stats', '--json'], env);
        assert.deepEqual(Object.keys(JSON.parse(stats.stdout) as object).sort(), [
          'artifacts',
          'chunks',
          'logicalBytes',
          'storedBytes',
        ]);

        const leaky = await winsmith(['images', '--repo', 'http://alice:hunter2@127.0.0.1:1'], env);
        assert.ok(isCleanFailure(leaky), leaky.stderr);
        assert.ok(!leaky.stderr.includes('hunter2'), leaky.stderr);

        const noToken = await winsmith(['images'], { ...env, XDG_CONFIG_HOME: join(dir, 'elsewhere') });
        assert.ok(isCleanFailure(noToken));
        assert.match(noToken.stderr, /needs a token/);
      } finally {
        await server.close();
      }
    });
  },
);
