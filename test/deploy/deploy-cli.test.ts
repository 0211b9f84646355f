// The deployment commands on a data directory, as a user runs them: profiles applied (a bad one
// refused at FILE:LINE:COLUMN), listed, shown masked; a machine that registered by booting
// approved; a deployment made, listed, shown, cancelled and retried; the password read (audited).

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { pushTinyImage } from '../helpers/tiny-image.ts';

const PROFILE = `name: lab
image: lab/tiny:v1
computerName: LAB-{mac6}
adminPassword: 'Given!Passw0rd'
finish: poweroff
`;

test(
  'profiles, approval, deploy, list, show, cancel, retry and the password, from the CLI',
  { timeout: 180_000 },
  async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, 'data');
      const cli = async (...args: string[]) => {
        const run = await runWinsmith([...args, '--repo', data]);
        assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      };
      await pushTinyImage(dir, cli);

      await writeFile(join(dir, 'bad.yaml'), 'name: lab\nimage: lab/tiny:v1\nfinsh: reboot\n');
      const bad = await runWinsmith(['profile', 'apply', join(dir, 'bad.yaml'), '--repo', data]);
      assert.ok(isCleanFailure(bad), bad.stderr);
      assert.match(bad.stderr, /bad\.yaml:3:1: unknown key 'finsh'/);

      await writeFile(join(dir, 'lab.yaml'), PROFILE);
      assert.match(await cli('profile', 'apply', join(dir, 'lab.yaml')), /admin password:\s+given/);
      assert.match(await cli('profiles'), /^lab\s+lab\/tiny:v1/m);
      const shown = await cli('profile', 'show', 'lab');
      assert.doesNotMatch(shown, /Given!Passw0rd/);
      assert.match(shown, /adminPassword: '\*+'|adminPassword: \*+/);

      // A machine that registered itself by booting is pending: it is not deployed until approved.
      const local = await LocalApp.openDataDir(data);
      await local.bootPorts().registry.registerMachine(
        {
          mac: '52:54:00:aa:00:01',
          uuid: null,
          inventory: { serial: null, manufacturer: null, product: null, buildarch: null, platform: 'efi' },
        },
        new Date(),
      );
      await local.close();
      const refused = await runWinsmith(['deploy', '52:54:00:aa:00:01', '--profile', 'lab', '--repo', data]);
      assert.ok(isCleanFailure(refused), refused.stderr);
      assert.match(refused.stderr, /is pending: a machine is deployed only once approved.*machine approve/);
      assert.match(await cli('machine', 'approve', '52:54:00:aa:00:01'), /state:\s+ready/);

      const made = JSON.parse(await cli('deploy', '52:54:00:aa:00:01', '--profile', 'lab', '--json')) as {
        id: string;
        state: string;
      };
      assert.equal(made.state, 'queued');
      const again = await runWinsmith(['deploy', '52:54:00:aa:00:01', '--profile', 'lab', '--repo', data]);
      assert.ok(isCleanFailure(again));
      assert.match(again.stderr, /already has a deployment under way/);
      assert.match(
        await cli('deployments'),
        new RegExp(`^${made.id}\\s+52:54:00:aa:00:01\\s+lab\\s+lab/tiny:v1\\s+queued`, 'm'),
      );
      assert.match(await cli('machines'), new RegExp(`${made.id} \\(queued\\)`));
      assert.match(await cli('deployment', 'show', made.id), /history:\s+\S+ queued/);
      assert.equal(await cli('machine', 'password', '52:54:00:aa:00:01'), 'Given!Passw0rd\n');
      const reader = await LocalApp.openDataDir(data);
      const audit = await reader.as({ user: 'test', client: 'test' }).accounts.listAudit(50);
      await reader.close();
      assert.ok(audit.some((e) => e.action === 'machine.password.read'));

      const cancelled = JSON.parse(await cli('deployment', 'cancel', made.id, '--json')) as { state: string };
      assert.equal(cancelled.state, 'cancelled');
      const retried = JSON.parse(await cli('deployment', 'retry', made.id, '--json')) as {
        id: string;
        state: string;
      };
      assert.equal(retried.state, 'queued');
      assert.notEqual(retried.id, made.id);
      const active = JSON.parse(await cli('deployments', '--active', '--json')) as { id: string }[];
      assert.deepEqual(
        active.map((d) => d.id),
        [retried.id],
      );
      const busy = await runWinsmith(['machine', 'rm', '52:54:00:aa:00:01', '--repo', data]);
      assert.ok(isCleanFailure(busy));
      assert.match(busy.stderr, /under way.*deployment cancel/);
    });
  },
);
