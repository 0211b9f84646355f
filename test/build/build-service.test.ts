// Builds the server runs (src/app/builds.ts), on a real data directory with no VM: a recipe is
// checked before it is queued (its host paths must lead inside the deployment share, its result
// must go to the repository, a serviced image must be one its caller reads), builds wait their
// turn, are cancelled and resumed, queued builds run when the server starts again, and a build
// that fails says why in its state and its log.

import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import type { BuildView } from '../../src/app/builds.ts';
import type { Builds } from '../../src/app/session.ts';
import { withTempDir } from '../../src/io/output.ts';
import { waitFor } from '../../src/io/wait-for.ts';

const ACTOR = { user: 'alice', client: 'test' };
/** The CLI on the data directory. */
const LOCAL = { user: 'local:test', client: 'local' };
const ZEROS = '0'.repeat(64);

/** The builds `builds` lists, once every one has failed. */
function allFailed(builds: Builds, what: string): Promise<BuildView[]> {
  return waitFor(
    what,
    async () => {
      const list = await builds.list();
      return list.every((b) => b.state === 'failed') ? list : null;
    },
    { timeoutMs: 60_000 },
  );
}

function recipe(source: string, output = 'output: { tag: lab/ws:v1 }'): string {
  return `source: { iso: ${source}, sha256: '${ZEROS}', edition: 1 }\n${output}\n`;
}

test('a recipe the server runs names files of the deployment share only, and stores its result in the repository', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    const app = await LocalApp.openDataDir(data, { builds: { max: 0 } });
    try {
      await app.serveBuilds();
      await mkdir(join(data, 'share'), { recursive: true });
      await writeFile(join(dir, 'outside.iso'), 'not in the share');
      await symlink(join(dir, 'outside.iso'), join(data, 'share', 'link.iso'));
      await writeFile(join(data, 'share', 'ws.iso'), 'an ISO');
      const builds = app.as(ACTOR).builds;
      await assert.rejects(builds.start({ recipe: recipe('../../outside.iso'), file: 'b.yaml' }), {
        code: 'FORBIDDEN',
        message: /b\.yaml: source\.iso: \.\.\/\.\.\/outside\.iso leads outside the deployment share/,
      });
      await assert.rejects(builds.start({ recipe: recipe('/etc/hostname'), file: 'b.yaml' }), {
        code: 'FORBIDDEN',
      });
      await assert.rejects(builds.start({ recipe: recipe('link.iso'), file: 'b.yaml' }), {
        code: 'FORBIDDEN',
        message: /link\.iso leads outside the deployment share/,
      });
      await assert.rejects(builds.start({ recipe: recipe('none.iso'), file: 'b.yaml' }), {
        code: 'FILE_NOT_FOUND',
      });
      await assert.rejects(
        builds.start({
          recipe: recipe('ws.iso', 'output: { tag: lab/ws:v1, disk: /tmp/x.qcow2 }'),
          file: 'b.yaml',
        }),
        { code: 'INVALID_ARGUMENT', message: /output needs tag:, and no disk:/ },
      );
      await assert.rejects(builds.start({ recipe: 'source: [', file: 'b.yaml' }), /b\.yaml:1:/);
      const scoped = app.as({ ...ACTOR, readScopes: ['team-a/'] }).builds;
      await assert.rejects(
        scoped.start({
          recipe: 'source: { image: team-b/ws:v1, edition: 1 }\noutput: { tag: team-a/ws:v2 }\n',
          file: 'b.yaml',
        }),
        { code: 'FORBIDDEN', message: /may not read team-b\/ws, the image the build services/ },
      );
      assert.deepEqual(await builds.list(), [], 'nothing refused was queued');
    } finally {
      await app.close();
    }
  });
});

test('builds wait their turn, are cancelled and resumed; queued ones run when the server starts again, and a failure says why', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    await mkdir(join(data, 'share'), { recursive: true });
    await writeFile(join(data, 'share', 'ws.iso'), 'an ISO whose SHA-256 is not the one pinned');
    let first: BuildView;
    let second: BuildView;
    const paused = await LocalApp.openDataDir(data, { builds: { max: 0 } });
    try {
      await paused.as(LOCAL).accounts.addUser({ name: ACTOR.user, role: 'builder', scopes: [] });
      await paused.serveBuilds();
      const builds = paused.as(ACTOR).builds;
      first = await builds.start({ recipe: recipe('ws.iso'), file: 'first.yaml' });
      second = await builds.start({ recipe: recipe('ws.iso'), file: 'second.yaml' });
      assert.deepEqual([first.state, second.state], ['queued', 'queued']);
      assert.equal((await builds.cancel(second.id)).state, 'cancelled');
      await assert.rejects(builds.cancel(second.id), { code: 'CONFLICT' });
      await assert.rejects(builds.resume(first.id), { code: 'CONFLICT', message: /is queued/ });
      assert.equal((await builds.resume(second.id)).state, 'queued');
      await assert.rejects(builds.show('../../etc'), { code: 'NOT_FOUND' });
      const scoped = paused.as({ ...ACTOR, readScopes: ['team-b/'] }).builds;
      assert.deepEqual(await scoped.list(), [], 'a caller sees only the builds of images it may read');
      await assert.rejects(scoped.show(first.id), { code: 'NOT_FOUND' });
    } finally {
      await paused.close();
    }
    const cli = await LocalApp.openDataDir(data);
    try {
      await assert.rejects(cli.as(ACTOR).builds.cancel(first.id), {
        code: 'CONFLICT',
        message: /started, cancelled and resumed by a winsmith server/,
      });
    } finally {
      await cli.close();
    }
    const server = await LocalApp.openDataDir(data, { builds: { max: 1 } });
    try {
      await server.serveBuilds();
      const builds = server.as(ACTOR).builds;
      const ended = await allFailed(builds, 'both queued builds to run and end');
      assert.deepEqual(
        ended.map((b) => [b.recipe.file, b.error?.code]),
        [
          ['second.yaml', 'FORMAT_INVALID'],
          ['first.yaml', 'FORMAT_INVALID'],
        ],
      );
      const lines = (await builds.logs(first.id, 0)).map((l) => l.line);
      assert.equal(lines[0], 'queued by alice: first.yaml → lab/ws:v1');
      assert.match(lines.at(-1) ?? '', /^failed: .*ws\.iso has the SHA-256 .* first\.yaml pins 0{64}/);
      assert.deepEqual(await builds.serial(first.id, 0), { offset: 0, next: 0, text: '' });
      await assert.rejects(builds.screenshot(first.id), { code: 'NOT_FOUND', message: /no screenshot yet/ });
    } finally {
      await server.close();
    }
  });
});

test("a build runs with its owner's rights as they stand when it starts: removed, disabled or out of scope, it fails; an admin resumes it as themselves", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    await mkdir(join(data, 'share'), { recursive: true });
    await writeFile(join(data, 'share', 'ws.iso'), 'an ISO whose SHA-256 is not the one pinned');
    const queued: BuildView[] = [];
    const paused = await LocalApp.openDataDir(data, { builds: { max: 0 } });
    try {
      const accounts = paused.as(LOCAL).accounts;
      for (const name of ['bob', 'carol', 'dave'])
        await accounts.addUser({ name, role: 'builder', scopes: [] });
      await accounts.addUser({ name: 'root', role: 'admin', scopes: [] });
      await paused.serveBuilds();
      for (const user of ['bob', 'carol', 'dave']) {
        queued.push(
          await paused
            .as({ user, client: 'test' })
            .builds.start({ recipe: recipe('ws.iso'), file: `${user}.yaml` }),
        );
      }
      // While they wait: bob is disabled, carol's scopes no longer hold lab/, dave is removed.
      await accounts.changeUser('bob', { disabled: true });
      await accounts.changeUser('carol', { scopes: ['team-a/'] });
      await accounts.removeUser('dave');
    } finally {
      await paused.close();
    }
    const server = await LocalApp.openDataDir(data, { builds: { max: 1 } });
    try {
      await server.serveBuilds();
      const builds = server.as({ user: 'root', client: 'test' }).builds;
      const ended = await allFailed(builds, 'the three builds to end');
      assert.deepEqual(ended.map((b) => [b.owner, b.error?.code, b.error?.message]).sort(), [
        ['bob', 'FORBIDDEN', 'user bob is disabled'],
        ['carol', 'FORBIDDEN', 'user carol (builder) may no longer image.build on lab/ws'],
        ['dave', 'FORBIDDEN', 'user dave was removed'],
      ]);
      // Resumed by an admin, bob's build runs as the admin: it gets as far as checking the ISO.
      const [bob] = queued;
      assert.ok(bob !== undefined);
      assert.equal((await builds.resume(bob.id)).owner, 'root');
      const resumed = await waitFor(
        'the resumed build to end',
        async () => {
          const b = await builds.show(bob.id);
          return b.state === 'failed' ? b : null;
        },
        { timeoutMs: 60_000 },
      );
      assert.equal(resumed.error?.code, 'FORMAT_INVALID');
    } finally {
      await server.close();
    }
  });
});

test('a build that is over is removed with its folder; one still queued is not; a removal cut short is finished at the next start', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    await mkdir(join(data, 'share'), { recursive: true });
    await writeFile(join(data, 'share', 'ws.iso'), 'an ISO');
    let kept: BuildView;
    const app = await LocalApp.openDataDir(data, { builds: { max: 0 } });
    try {
      await app.serveBuilds();
      const builds = app.as(LOCAL).builds;
      kept = await builds.start({ recipe: recipe('ws.iso'), file: 'kept.yaml' });
      const gone = await builds.start({ recipe: recipe('ws.iso'), file: 'gone.yaml' });
      await assert.rejects(builds.remove(kept.id), {
        code: 'CONFLICT',
        message: new RegExp(`build ${kept.id} is queued: only a build that is over is removed`),
      });
      await builds.cancel(gone.id);
      await builds.remove(gone.id);
      assert.deepEqual(
        (await builds.list()).map((b) => b.id),
        [kept.id],
      );
      assert.deepEqual(await readdir(join(data, 'builds')), [kept.id]);
      await assert.rejects(builds.remove(gone.id), { code: 'NOT_FOUND' });
      const audit = await app.as(LOCAL).accounts.listAudit(10);
      assert.ok(audit.some((e) => e.action === 'build.remove' && e.target === gone.id));
    } finally {
      await app.close();
    }
    // A removal cut short between its rename and the end of its rm.
    await mkdir(join(data, 'builds', '.removed-x', 'work'), { recursive: true });
    const again = await LocalApp.openDataDir(data, { builds: { max: 0 } });
    try {
      await again.serveBuilds();
      assert.deepEqual(await readdir(join(data, 'builds')), [kept.id]);
    } finally {
      await again.close();
    }
  });
});
