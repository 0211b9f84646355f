// The systemd service: packaging/winsmith.service passes `systemd-analyze verify` (Debian `systemd`;
// no running systemd needed), and `winsmith service install --root DIR` writes into a staging tree
// the unit (verified the same way), the `winsmith` user, the config and the data directory the
// service may write; --dry-run changes nothing; a second run keeps what is there; a differing unit
// is replaced only with --force.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { REPO_ROOT, isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';

const isRoot = process.getuid?.() === 0;
const UNIT = join(REPO_ROOT, 'packaging', 'winsmith.service');
const LAUNCHER = join(REPO_ROOT, 'bin', 'winsmith');

/** `winsmith service install --root ROOT --bin LAUNCHER …flags`, run as an administrator would. */
function install(root: string, ...flags: string[]): Promise<CliRun> {
  return runWinsmith(['service', 'install', '--root', root, '--bin', LAUNCHER, ...flags]);
}

/** What `systemd-analyze verify` says of a unit file: nothing when it is clean. */
async function verify(unit: string, stageLauncher: boolean): Promise<string> {
  // The packaged unit runs /usr/local/bin/winsmith, which verify checks is executable: a private
  // mount namespace puts a stand-in there, leaving the machine's /usr/local/bin as it is.
  const script = stageLauncher
    ? `mount -t tmpfs tmpfs /usr/local/bin && printf '#!/bin/sh\\n' > /usr/local/bin/winsmith && chmod 755 /usr/local/bin/winsmith && exec systemd-analyze verify "$1"`
    : 'exec systemd-analyze verify "$1"';
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', script, 'verify', unit],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
  return run.code === 0 ? run.out : `exit ${String(run.code)}: ${run.out}`;
}

test(
  'systemd-analyze verify packaging/winsmith.service is clean',
  { skip: !isRoot && 'needs root for a private mount namespace' },
  async () => {
    assert.equal(await verify(UNIT, true), '');
    const unit = await readFile(UNIT, 'utf8');
    assert.match(unit, /^User=winsmith$/m);
    assert.match(
      unit,
      /^ExecStart=\/usr\/local\/bin\/winsmith server --config \/etc\/winsmith\/server\.yaml$/m,
    );
    assert.match(unit, /^ProtectSystem=strict$/m);
    assert.match(unit, /^ReadWritePaths=\/var\/lib\/winsmith$/m);
    assert.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    assert.match(unit, /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    assert.doesNotMatch(unit, /^WorkingDirectory=/m);
  },
);

test(
  'service install writes the unit, the user, the config and the data directory into a staging root',
  { skip: !isRoot && 'needs root (the data directory is given to the service user)', timeout: 60_000 },
  async () => {
    await withTempDir(async (root) => {
      const planned = await install(root, '--dry-run');
      assert.equal(planned.code, 0, planned.stderr);
      assert.match(planned.stdout, /^planned +user +winsmith/m);
      assert.match(
        planned.stdout,
        /^ExecStart=.*bin\/winsmith server --config \/etc\/winsmith\/server\.yaml$/m,
      );
      assert.deepEqual(await readdir(root), [], '--dry-run changes nothing');

      const run = await install(root, '--json');
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout) as { steps: { action: string; done: string }[] };
      assert.deepEqual(
        result.steps.map((s) => `${s.action} ${s.done}`),
        ['user created', 'config created', 'directory created', 'unit created'],
      );
      const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
      const entry = /^winsmith:x:(\d+):(\d+):[^:]*:\/var\/lib\/winsmith:\/usr\/sbin\/nologin$/m.exec(passwd);
      assert.ok(entry, passwd);
      const data = await stat(join(root, 'var/lib/winsmith'));
      assert.equal(data.mode & 0o777, 0o750);
      assert.equal(data.uid, Number(entry[1]));
      assert.equal((await stat(join(root, 'var/lib'))).mode & 0o777, 0o755);
      const config = await readFile(join(root, 'etc/winsmith/server.yaml'), 'utf8');
      assert.match(config, /^data: "\/var\/lib\/winsmith"$/m);
      assert.equal((await stat(join(root, 'etc/winsmith/server.yaml'))).mode & 0o777, 0o640);
      const unitFile = join(root, 'etc/systemd/system/winsmith.service');
      const unit = await readFile(unitFile, 'utf8');
      assert.match(
        unit,
        new RegExp(`^ExecStart=${LAUNCHER} server --config /etc/winsmith/server\\.yaml$`, 'm'),
      );
      assert.equal(await verify(unitFile, false), '');

      const again = await install(root, '--json');
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        (JSON.parse(again.stdout) as { steps: { done: string }[] }).steps.map((s) => s.done),
        ['kept', 'kept', 'kept', 'kept'],
      );
      assert.equal(await readFile(unitFile, 'utf8'), unit, 'the same unit');

      await writeFile(unitFile, `${unit}# changed by hand\n`);
      const refused = await install(root);
      assert.ok(isCleanFailure(refused), refused.stderr);
      assert.match(refused.stderr, /differs.*--force/);
      const forced = await install(root, '--force');
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(await readFile(unitFile, 'utf8'), unit);
    });
  },
);

test('service install with another data directory: the unit may write there and only there', async () => {
  await withTempDir(async (root) => {
    const run = await install(root, '--data', '/srv/winsmith', '--dry-run');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ReadWritePaths=\/srv\/winsmith$/m);
    assert.doesNotMatch(run.stdout, /^StateDirectory=/m);
    // A config of the server's keeps its secrets in the service's environment, not the installer's.
    const config = join(root, 'etc/winsmith/server.yaml');
    await mkdir(join(root, 'etc/winsmith'), { recursive: true });
    await writeFile(
      config,
      'data: /srv/kept\ncatalog: { kind: postgres, urlEnv: WINSMITH_TEST_UNSET_URL }\nmetrics: { tokenEnv: WINSMITH_TEST_UNSET_TOKEN }\n',
    );
    const kept = await install(root, '--dry-run');
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^kept +config +\/etc\/winsmith\/server\.yaml +\(data \/srv\/kept\)$/m);
    assert.match(kept.stdout, /^ReadWritePaths=\/srv\/kept$/m);
    const relative = await runWinsmith(['service', 'install', '--root', root, '--data', 'data', '--dry-run']);
    assert.ok(isCleanFailure(relative), relative.stderr);
    assert.match(relative.stderr, /--data must be an absolute path/);
  });
});
