// One server, two machines deployed at once: two deployments, two agents as processes at the same
// time, one onto a UEFI disk image file and one onto a BIOS one. Both end done, each disk verifies
// and holds the image, and each has its own machine's unattend: its computer name from the
// profile's pattern, its own generated password.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { STATES_TO_DONE, withDeployServer } from '../helpers/deploy-server.ts';
import {
  checkDeployedDisk,
  hiddenAdminPassword,
  inventoryOf,
  makeDiskFile,
  runAgentProcess,
  sampleForTests,
  streamingUnavailable,
} from '../agent/agent-fixture.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-two-machines-');

const MACHINES = [
  { name: 'web-01', mac: '52:54:00:00:00:01', firmware: 'uefi', computerName: 'WEB-000001' },
  { name: 'web-02', mac: '52:54:00:00:00:02', firmware: 'bios', computerName: 'WEB-000002' },
] as const;

test(
  'two machines at once from one server, UEFI and BIOS: both done, each with its own name and password',
  { skip: skip ?? false, timeout: 180_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'two-'));
    await withDeployServer(work, sample.wim, async (server) => {
      const runs = [];
      for (const machine of MACHINES) {
        const dir = await mkdtemp(join(work, `${machine.name}-`));
        const disk = await makeDiskFile(join(dir, 'disk.raw'));
        await server.applyProfile({ name: `web-${machine.firmware}`, firmware: machine.firmware });
        await server.addMachine(machine.name, machine.mac);
        runs.push({
          machine,
          dir,
          disk,
          deployment: await server.deploy(machine, `web-${machine.firmware}`),
        });
      }
      const agents = await Promise.all(
        runs.map(({ machine, dir, disk, deployment }) =>
          runAgentProcess(
            dir,
            server.url,
            deployment,
            inventoryOf(machine.firmware, [{ path: disk }], machine.mac),
          ),
        ),
      );
      for (const agent of agents) assert.equal(agent.code, 0, agent.console);

      const views = await Promise.all(runs.map((r) => server.session.deployments.show(r.deployment.id)));
      for (const view of views) {
        assert.deepEqual(
          view.history.map((h) => h.state),
          STATES_TO_DONE,
        );
      }
      // At once: each agent was online before the other one was done.
      const at = (i: number, state: string): number =>
        Date.parse(views[i]?.history.find((h) => h.state === state)?.at ?? '');
      assert.ok(at(0, 'agent-online') < at(1, 'done') && at(1, 'agent-online') < at(0, 'done'));

      const passwords: string[] = [];
      for (const { machine, dir, disk } of runs) {
        const { password } = await server.session.machines.password(machine.name);
        passwords.push(password);
        const unattend = await checkDeployedDisk(disk, machine.firmware, sample.wim, dir);
        assert.deepEqual(
          [...unattend.matchAll(/<ComputerName>([^<]*)<\/ComputerName>/g)].map((m) => m[1]),
          [machine.computerName],
        );
        assert.ok(unattend.includes(`<Value>${hiddenAdminPassword(password)}</Value>`), unattend);
      }
      assert.notEqual(passwords[0], passwords[1]);
    });
  },
);
