// `winsmith build` end to end under TCG, with fake-windows-guest.ts in Windows' place (the only
// stand-in: everything else is real — QEMU with SeaBIOS, the answer ISO, the reports over QEMU's
// user network, the qcow2 layers, the capture, the repository). Each build runs inside a network
// namespace of its own with only a loopback, where QEMU's user network can reach nothing but the
// build's own report listener.
//
//   - a build runs to `done`: the image stored equals the tree the fake Setup applied (size and
//     SHA-1 per file), its lineage holds the recipe and every step, the VM restarted where asked;
//   - a build killed outright during provisioning resumes from its last finished phase (install is
//     not run again) and ends `done`;
//   - a phase that never reports fails at its timeout, with the screenshot and the serial log kept;
//   - a servicing build of a stored image boots the disk made of it (the fake guest finds the
//     image's Windows there) and stores the result with the image as its parent;
//   - a build the server runs (in the namespace too) is followed by the CLI to done, a second one
//     waits in the queue behind it and is cancelled there, and its logs and screenshot are served.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RecipeLineage } from '../../src/app/artifact-meta.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import type { BuildRecord } from '../../src/build/build-record.ts';
import type { BuildView } from '../../src/app/builds.ts';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { addNetns, deleteNetns, netnsUnavailable } from '../../src/engines/netns.ts';
import { vmUnavailable } from '../../src/engines/qemu-system.ts';
import { waitFor } from '../../src/io/wait-for.ts';
import { exists } from '../../src/io/paths.ts';
import { runWinsmith, type CliRun } from '../helpers/cli.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { wimTree } from '../disk/helpers.ts';
import { makeFakeWindowsMedia, makeServicingImage, type FakeWindowsMedia } from './fake-windows-media.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const BUILD_MINUTES = 25;

async function skipReason(): Promise<string | false> {
  return (await netnsUnavailable()) ?? (await vmUnavailable('bios')) ?? false;
}

const skip = await skipReason();

describe('winsmith build with fake-windows-guest', { skip, timeout: 3 * BUILD_MINUTES * 60_000 }, () => {
  let dir = '';
  let media: FakeWindowsMedia;
  const namespace = `ws-build-${process.pid}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'winsmith-build-test-'));
    media = await makeFakeWindowsMedia(dir);
    await addNetns(namespace);
  });

  after(async () => {
    await deleteNetns(namespace).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function recipe(name: string, provision: string, timeouts = ''): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      [
        `source: { iso: ${media.iso}, sha256: ${media.sha256}, edition: ServerStandard }`,
        `vm: { firmware: bios, cpus: 1, memory: 2G, disk: 32G${timeouts} }`,
        'provision:',
        provision,
        'generalize: { vmMode: true }',
        `output: { tag: lab/built-${name}:v1 }`,
        '',
      ].join('\n'),
    );
    return path;
  }

  /** `winsmith build …` inside the namespace; resolves when it ends. */
  function inNamespace(
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ): { done: Promise<CliRun>; kill: () => void } {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return {
      done: new Promise((resolve) =>
        child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr })),
      ),
      kill: () => child.kill('SIGKILL'),
    };
  }

  async function record(work: string): Promise<BuildRecord> {
    return JSON.parse(await readFile(join(work, 'build.json'), 'utf8')) as BuildRecord;
  }

  test('a build runs to done; the stored image is the applied tree, with its lineage', async (t) => {
    const repo = join(dir, 'repo-a');
    assert.equal((await runWinsmith(['init', repo])).code, 0);
    const work = join(dir, 'work-a');
    const file = await recipe(
      'a',
      "  - powershell: Write-Output 'hello'\n  - restart: true\n  - features: [Web-Server]",
    );
    const run = await inNamespace(['build', file, '--work', work, '--repo', repo, '--accel', 'tcg', '--json'])
      .done;
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as BuildRecord;
    assert.equal(r.state, 'done');
    assert.deepEqual(
      r.steps.map((s) => [s.kind, s.state]),
      [
        ['powershell', 'done'],
        ['restart', 'done'],
        ['features', 'done'],
      ],
    );
    for (const p of ['install', 'provision', 'generalize'] as const) {
      assert.equal(r.phases[p].state, 'done', p);
      const { startedAt, endedAt, boots } = r.phases[p];
      const seconds = (Date.parse(endedAt ?? '') - Date.parse(startedAt ?? '')) / 1000;
      t.diagnostic(`phase ${p}: ${seconds.toFixed(1)} s under TCG, ${boots} power-on(s)`);
    }
    assert.ok(r.phases.provision.boots >= 2, 'the restart step restarted the VM');
    assert.match(run.stderr, /build: step 2 \(restart, .*\) done/);

    const pulled = join(dir, 'a.wim');
    const pull = await runWinsmith(['pull', 'lab/built-a:v1', '-o', pulled, '--repo', repo]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await wimTree(pulled, 1), await wimTree(media.installWim, 1));
    const app = await LocalApp.openDataDir(repo);
    try {
      const image = await app
        .as({ user: 'test', client: 'local' })
        .images.getImage({ name: 'lab/built-a', tag: 'v1' });
      assert.equal(image.sourceIsoSha256, media.sha256);
      const lineage = image.recipe as RecipeLineage;
      assert.equal(lineage.recipeSha256, r.recipe.sha256);
      assert.equal(lineage.source, `iso:${media.sha256}:${r.edition.index}`);
      const steps = (lineage.build as { steps: { kind: string; state: string }[] }).steps;
      assert.deepEqual(
        steps.map((s) => [s.kind, s.state]),
        [
          ['powershell', 'done'],
          ['restart', 'done'],
          ['features', 'done'],
        ],
      );
    } finally {
      await app.close();
    }
    await assert.rejects(
      access(join(work, 'answer.iso')),
      'the answer media (it holds the token) is removed',
    );
  });

  test('a build the server runs: followed to done, queued behind it and cancelled, its logs and screen served', async () => {
    const data = join(dir, 'server-data');
    const app = await LocalApp.openDataDir(data);
    try {
      await app.as({ user: 'test', client: 'local' }).accounts.addUser({
        name: 'builder',
        role: 'builder',
        scopes: [],
        password: 'correct horse battery staple',
      });
    } finally {
      await app.close();
    }
    const catalog = await LocalApp.openDataDir(data);
    const { token } = await issueToken(new AccountStore(catalog.database), {
      userName: 'builder',
      name: 't',
    });
    await catalog.close();
    const config = join(dir, 'server.yaml');
    // The share is the test's folder: the recipe names the fake ISO there.
    await writeFile(
      config,
      `data: ${data}\nlisten: 127.0.0.1:0\nshare: ${dir}\nbuilds: { max: 1, accelerator: tcg }\n`,
    );
    const log: string[] = [];
    const server = await startServerProcess(config, log, { netns: namespace });
    const env = { ...process.env, WINSMITH_TOKEN: token, WINSMITH_REPO: server.url };
    try {
      const first = await recipe('s', "  - powershell: Write-Output 'hello'\n  - restart: true");
      const second = await recipe('t', "  - powershell: Write-Output 'never run'");
      const followed = inNamespace(['build', first, '--json'], env);
      const running = await waitFor(
        'the first build to run',
        async () => {
          const list = await inNamespace(['builds', '--json'], env).done;
          const builds = JSON.parse(list.stdout || '[]') as BuildView[];
          return builds.find((b) => b.state === 'running') ?? null;
        },
        { timeoutMs: 60_000 },
      );
      const queued = await inNamespace(['build', second, '--detach', '--json'], env).done;
      assert.equal(queued.code, 0, queued.stderr);
      const waiting = JSON.parse(queued.stdout) as BuildView;
      assert.equal(waiting.state, 'queued', 'one build at a time: the second waits');
      const cancelled = await inNamespace(['build', 'cancel', waiting.id, '--json'], env).done;
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.equal((JSON.parse(cancelled.stdout) as BuildView).state, 'cancelled');

      const run = await followed.done;
      assert.equal(run.code, 0, run.stderr);
      const done = JSON.parse(run.stdout) as BuildView;
      assert.equal(done.id, running.id);
      assert.equal(done.state, 'done');
      assert.equal(done.owner, 'builder');
      assert.equal(done.output, 'lab/built-s:v1');
      assert.deepEqual(
        done.record?.steps.map((s) => [s.kind, s.state]),
        [
          ['powershell', 'done'],
          ['restart', 'done'],
        ],
      );
      assert.match(run.stderr, /build: step 2 \(restart, .*\) done/, 'the follower printed the log');

      const list = JSON.parse((await inNamespace(['builds', '--json'], env).done).stdout) as BuildView[];
      assert.deepEqual(
        list.map((b) => [b.id, b.state, b.startedAt === null]),
        [
          [waiting.id, 'cancelled', true],
          [done.id, 'done', false],
        ],
      );
      const logs = await inNamespace(['build', 'logs', done.id], env).done;
      assert.match(logs.stdout, /queued by builder/);
      assert.match(logs.stdout, /phase generalize done/);
      const serial = await inNamespace(['build', 'logs', done.id, '--serial'], env).done;
      assert.match(serial.stdout, /fake-windows-guest: stage provision/);
      const png = join(dir, 'server-screen.png');
      const shot = await inNamespace(['build', 'screenshot', done.id, '-o', png], env).done;
      assert.equal(shot.code, 0, shot.stderr);
      assert.equal((await readFile(png)).subarray(1, 4).toString('latin1'), 'PNG');

      // The cancelled build is removed, its folder with it; the done one stays.
      const removed = await inNamespace(['build', 'rm', waiting.id, '--json'], env).done;
      assert.equal(removed.code, 0, removed.stderr);
      const left = JSON.parse((await inNamespace(['builds', '--json'], env).done).stdout) as BuildView[];
      assert.deepEqual(
        left.map((b) => b.id),
        [done.id],
      );
      assert.equal(await exists(join(data, 'builds', waiting.id)), false);

      const stored = await LocalApp.openDataDir(data);
      try {
        const image = await stored
          .as({ user: 'test', client: 'local' })
          .images.getImage({ name: 'lab/built-s', tag: 'v1' });
        assert.equal((image.recipe as RecipeLineage).recipeSha256, done.recipe.sha256);
      } finally {
        await stored.close();
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test("a servicing build boots a stored image's disk, provisions it, and stores the result as its child", async () => {
    const repo = join(dir, 'repo-d');
    const work = join(dir, 'work-d');
    const source = await makeServicingImage(media, dir);
    const push = await runWinsmith(['push', source, 'lab/serviced:base', '--repo', repo, '--init']);
    assert.equal(push.code, 0, push.stderr);
    const path = join(dir, 'd.yaml');
    await writeFile(
      path,
      [
        'source: { image: lab/serviced:base, edition: 1 }',
        'vm: { firmware: bios, cpus: 1, memory: 2G, disk: 32G }',
        'provision:',
        "  - powershell: Write-Output 'the monthly update'",
        'generalize: { vmMode: true }',
        'output: { tag: lab/serviced:next }',
        '',
      ].join('\n'),
    );
    const run = await inNamespace(['build', path, '--work', work, '--repo', repo, '--accel', 'tcg', '--json'])
      .done;
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as BuildRecord;
    assert.equal(r.state, 'done');
    assert.equal(r.source.kind, 'image');
    assert.match(
      await readFile(join(work, 'serial.log'), 'utf8'),
      /fake-windows-guest: servicing: the image's Windows is on \/dev\/sda2/,
      "the VM booted the stored image's disk, and found its Windows there",
    );
    const pulled = join(dir, 'd.wim');
    const pull = await runWinsmith(['pull', 'lab/serviced:next', '-o', pulled, '--repo', repo]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await wimTree(pulled, 1), await wimTree(source, 1));
    const app = await LocalApp.openDataDir(repo);
    try {
      const images = app.as({ user: 'test', client: 'local' }).images;
      const base = await images.getImage({ name: 'lab/serviced', tag: 'base' });
      const next = await images.getImage({ name: 'lab/serviced', tag: 'next' });
      assert.equal(next.parentDigest, base.digest);
      assert.equal((next.recipe as RecipeLineage).source, `image:${base.digest}:1`);
    } finally {
      await app.close();
    }
  });

  test('a build killed during provisioning resumes from its last finished phase', async () => {
    const repo = join(dir, 'repo-b');
    assert.equal((await runWinsmith(['init', repo])).code, 0);
    const work = join(dir, 'work-b');
    const file = await recipe('b', '  - restart: true\n  - restart: true');
    const first = inNamespace(['build', file, '--work', work, '--repo', repo, '--accel', 'tcg']);
    await waitFor(
      'the install phase to end',
      async () => ((await record(work).catch(() => null))?.phases.install.state === 'done' ? true : null),
      { timeoutMs: BUILD_MINUTES * 60_000 },
    );
    first.kill();
    assert.notEqual((await first.done).code, 0);
    const resumed = await inNamespace(['build', 'resume', work, '--repo', repo, '--json']).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    const r = JSON.parse(resumed.stdout) as BuildRecord;
    assert.equal(r.state, 'done');
    assert.doesNotMatch(resumed.stderr, /phase install\n/, 'install is not run again');
    assert.match(resumed.stderr, /phase provision/);
  });

  test('a phase that never reports fails at its timeout, keeping the screenshot and the serial log', async () => {
    const repo = join(dir, 'repo-c');
    assert.equal((await runWinsmith(['init', repo])).code, 0);
    const work = join(dir, 'work-c');
    const file = await recipe(
      'c',
      `  - powershell: "Write-Output 'fake-windows-guest: hang'"`,
      ', timeouts: { provision: 2m }',
    );
    const run = await inNamespace(['build', file, '--work', work, '--repo', repo, '--accel', 'tcg']).done;
    assert.equal(run.code, 9, run.stderr);
    assert.match(run.stderr, /provision: provision did not finish within its timeout/);
    const r = await record(work);
    assert.equal(r.state, 'failed');
    assert.equal(r.phases.provision.state, 'failed');
    const png = await readFile(join(work, 'screenshot.png'));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.match(await readFile(join(work, 'serial.log'), 'utf8'), /fake-windows-guest: step 1 hangs/);
  });
});
