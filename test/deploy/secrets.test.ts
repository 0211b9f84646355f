// Secrets through a whole deployment: a profile with an administrator password of its own and a
// domain join with its password, applied over the HTTP API; a deployment of it run by the agent as a
// process onto a disk image file. The machine's unattend on the disk holds both (the administrator
// password hidden as Windows SIM hides it, the join password as Windows reads it); neither, in any
// form, nor the agent's token, is in the server's log, the events it published, the audit's
// details, the deployment's log or the agent's console, and neither is stored in the clear in the
// data directory.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { remoteSession } from '../../src/app/remote/remote-session.ts';
import { profileYaml, withDeployServer } from '../helpers/deploy-server.ts';
import {
  everythingSaid,
  hiddenAdminPassword,
  runAgentOnDisk,
  sampleForTests,
  secretsIn,
  streamingUnavailable,
  unattendOf,
  windowsVolume,
} from '../agent/agent-fixture.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-deploy-secrets-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };
const ADMIN_PASSWORD = 'Adm1n!pw-Qx7v';
const JOIN_PASSWORD = 'J0in!pw-Zr4k';

/** Every file under `dir`, its bytes as Latin-1 text (a secret in UTF-8 or ASCII shows as itself). */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path, (await readFile(path)).toString('latin1'));
  }
  return files;
}

test(
  'an administrator and a domain-join password: on the disk, and nowhere in logs, events, audit or the agent',
  { skip: skip ?? false, timeout: 90_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'secrets-'));
    await withDeployServer(work, sample.wim, async (server) => {
      const { token: apiToken } = await server.session.accounts.createToken({
        name: 'operator',
        user: 'admin',
        expiresInDays: null,
      });
      const api = remoteSession(server.url, apiToken);
      await api.profiles.apply(
        profileYaml({
          name: 'web',
          firmware: 'uefi',
          computerName: 'SAFE-{mac6}',
          adminPassword: ADMIN_PASSWORD,
          more: [
            'unattend:',
            `  domainJoin: { domain: corp.example, username: joiner, password: ${JSON.stringify(JOIN_PASSWORD)} }`,
          ].join('\n'),
        }),
        'web.yaml',
      );
      await server.addMachine(MACHINE.name, MACHINE.mac);
      const deployment = await server.deploy(MACHINE, 'web');
      const agent = await runAgentOnDisk(work, server.url, deployment, MACHINE.mac);
      const { disk } = agent;
      assert.equal(agent.code, 0, agent.console);
      assert.equal((await api.deployments.show(deployment.id)).state, 'done');

      const volume = await windowsVolume(disk, 'uefi', work);
      const unattend = await unattendOf(volume);
      assert.ok(unattend.includes(`<Value>${hiddenAdminPassword(ADMIN_PASSWORD)}</Value>`), unattend);
      assert.ok(unattend.includes(`<Password>${JOIN_PASSWORD}</Password>`), unattend);

      const secrets = {
        'the administrator password': ADMIN_PASSWORD,
        'the administrator password as unattend hides it': hiddenAdminPassword(ADMIN_PASSWORD),
        'the domain-join password': JOIN_PASSWORD,
        "the agent's token": deployment.token,
      };
      const audit = await server.session.accounts.listAudit(1000);
      assert.ok(audit.some((e) => e.action === 'deployment.unattend' && e.target === deployment.id));
      const seen = {
        "the server's log": server.log.join('\n'),
        'the events': JSON.stringify(server.events),
        "the audit's details": JSON.stringify(audit.map((e) => e.details)),
        "the deployment's log and the agent's console": await everythingSaid(api, deployment.id, agent),
      };
      assert.ok(server.log.length > 20 && server.events.length > 5 && audit.length > 3);
      for (const [where, text] of Object.entries(seen)) assert.deepEqual(secretsIn(text, secrets), [], where);

      const stored = await filesUnder(server.dataDir);
      assert.ok(
        [...stored.values()].some((text) => text.includes('SAFE-{mac6}')),
        "the profile's summary is in the files looked at",
      );
      for (const [path, text] of stored) {
        assert.deepEqual(
          secretsIn(text, {
            'the administrator password': ADMIN_PASSWORD,
            'the domain-join password': JOIN_PASSWORD,
          }),
          [],
          path,
        );
      }
    });
  },
);
