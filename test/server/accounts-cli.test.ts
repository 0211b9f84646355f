// The account commands against a real server socket, as its admin and as a user it manages:
// user list|show|disable|enable|rm|passwd|set-role|set-scope, token list|revoke, tag history, each
// with --json where it answers data; refusals are one clean error line.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';
import { withCliServer } from '../helpers/cli-server.ts';

const BOB_PASSWORD = 'bobs first password';

test('user, token and tag history commands against a server', { timeout: 180_000 }, async () => {
  await withTempDir(async (dir) => {
    await withCliServer(dir, async ({ env, winsmith, cli }) => {
      const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await cli(...args, '--json')) as T;

      await cli('user', 'add', 'bob', '--role', 'builder', '--scope', 'team-a/');
      const reset = await winsmith(['user', 'passwd', 'bob', '--password-stdin'], `${BOB_PASSWORD}\n`);
      assert.equal(reset.code, 0, reset.stderr);
      assert.deepEqual(
        (await json<{ name: string; role: string; disabled: boolean }[]>('user', 'list')).map((u) => [
          u.name,
          u.role,
          u.disabled,
        ]),
        [
          ['admin', 'admin', false],
          ['bob', 'builder', false],
        ],
      );
      assert.match(await cli('user', 'list'), /bob\s+builder\s+team-a\/\s+enabled/);

      // Bob, with a token an admin made for him.
      const { token } = await json<{ token: string }>('token', 'create', '--user', 'bob', '--name', 'laptop');
      const asBob = (args: string[], input = ''): Promise<CliRun> =>
        runWinsmith(args, { env: { ...env, WINSMITH_TOKEN: token }, input });
      const bobOk = async (...args: string[]): Promise<string> => {
        const run = await asBob(args);
        assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      };
      const file = join(dir, 'image.bin');
      await writeFile(file, randomBytes(200_000));
      await bobOk('push', file, 'team-a/ws:v1');
      await bobOk('tag', 'team-a/ws:v1', 'team-a/ws:latest');
      await writeFile(file, randomBytes(200_000));
      await bobOk('push', file, 'team-a/ws:v3');
      await bobOk('tag', 'team-a/ws:v3', 'team-a/ws:latest');
      await bobOk('image', 'rm', 'team-a/ws:latest');
      const history = JSON.parse(await bobOk('tag', 'history', 'team-a/ws:latest', '--json')) as {
        digest: string | null;
        previousDigest: string | null;
        changedBy: string;
      }[];
      assert.equal(history.length, 3);
      assert.deepEqual(
        history.map((h) => h.changedBy),
        ['bob', 'bob', 'bob'],
      );
      const [removed, moved, set] = history;
      assert.ok(removed !== undefined && moved !== undefined && set !== undefined);
      assert.deepEqual(
        [removed.digest, removed.previousDigest, moved.previousDigest, set.previousDigest],
        [null, moved.digest, set.digest, null],
      );
      assert.match(await bobOk('tag', 'history', 'team-a/ws:latest'), /WHEN\s+BY\s+FROM\s+TO[\s\S]*removed/);
      const unseen = await asBob(['tag', 'history', 'team-b/ws:latest']);
      assert.ok(isCleanFailure(unseen), unseen.stderr);

      // His own tokens, never their secret; his password, only with the current one.
      const own = JSON.parse(await bobOk('token', 'list', '--json')) as {
        id: string;
        name: string;
        user: string;
      }[];
      assert.deepEqual(
        own.map((t) => [t.name, t.user]),
        [['laptop', 'bob']],
      );
      assert.ok(!(await bobOk('token', 'list')).includes(token));
      for (const args of [
        ['token', 'list', '--all'],
        ['user', 'list'],
        ['user', 'passwd', 'admin'],
      ]) {
        const refused = await asBob(args);
        assert.ok(isCleanFailure(refused), `${args.join(' ')}: ${refused.stderr}`);
      }
      const noCurrent = await asBob(['user', 'passwd', 'bob', '--password-stdin'], 'a new password 1\n');
      assert.ok(isCleanFailure(noCurrent) && /current/.test(noCurrent.stderr), noCurrent.stderr);
      const changed = await asBob(
        ['user', 'passwd', 'bob', '--current', '--password-stdin'],
        `${BOB_PASSWORD}\na new password 1\n`,
      );
      assert.equal(changed.code, 0, changed.stderr);
      const login = await runWinsmith(
        ['login', env.WINSMITH_REPO ?? '', '--user', 'bob', '--password-stdin'],
        { env: { ...env, XDG_CONFIG_HOME: join(dir, 'bob') }, input: 'a new password 1\n' },
      );
      assert.equal(login.code, 0, login.stderr);

      // An admin changes him; disabled, his token stops at once; enabled, it works again.
      assert.match(await cli('user', 'set-scope', 'bob', 'team-a/', 'team-c'), /team-a\/, team-c\//);
      assert.match(await cli('user', 'set-role', 'bob', 'operator'), /changed bob \(operator/);
      assert.match(await cli('user', 'disable', 'bob'), /disabled bob/);
      const locked = await asBob(['images']);
      assert.ok(isCleanFailure(locked) && locked.code === 7, locked.stderr);
      await cli('user', 'enable', 'bob');
      await bobOk('images');
      const shown = await json<{ role: string; scopes: string[]; tokens: { name: string }[] }>(
        'user',
        'show',
        'bob',
      );
      assert.deepEqual(
        [shown.role, shown.scopes, shown.tokens.map((t) => t.name).sort()],
        ['operator', ['team-a/', 'team-c/'], ['laptop', 'login from 127.0.0.1']],
      );

      // Revoked, refused at once.
      const all = await json<{ id: string; name: string; user: string }[]>('token', 'list', '--all');
      const laptop = all.find((t) => t.user === 'bob' && t.name === 'laptop');
      assert.ok(laptop !== undefined);
      assert.match(await cli('token', 'revoke', laptop.id), /revoked token/);
      const revoked = await asBob(['images']);
      assert.ok(isCleanFailure(revoked) && revoked.code === 7, revoked.stderr);

      // The last enabled admin stays; bob goes.
      for (const args of [
        ['user', 'disable', 'admin'],
        ['user', 'set-role', 'admin', 'viewer'],
        ['user', 'rm', 'admin'],
      ]) {
        const refused = await winsmith(args);
        assert.ok(isCleanFailure(refused), refused.stderr);
        assert.match(refused.stderr, /admin is the last enabled admin/);
      }
      assert.match(await cli('user', 'rm', 'bob'), /removed user bob/);
      assert.deepEqual(
        (await json<{ name: string }[]>('user', 'list')).map((u) => u.name),
        ['admin'],
      );
    });
  });
});
