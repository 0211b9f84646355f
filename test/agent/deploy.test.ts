// The agent as a process against the real server, deploying the sample image onto disk image
// files, UEFI and BIOS, its chunks through a slow link: afterwards `winsmith disk verify` passes,
// the BCD names this disk's partitions, the unattend the server rendered for the machine (its
// computer name from the profile's pattern, its password) is in \Windows\Panther, the NTFS tree is
// the image's; on the server, the deployment went through every state in order, the inventory came
// with agent-online and the disk with partitioning, progress grew, reports came within the
// heartbeat, the unattend was served once, and no secret was said.

import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DeploymentView } from '../../src/app/deployments.ts';
import { AGENT_PATHS, type AgentInventory } from '../../src/deploy/agent-protocol.ts';
import { STATES_TO_DONE, withDeployServer } from '../helpers/deploy-server.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  checkDeployedDisk,
  everythingSaid,
  hiddenAdminPassword,
  inventoryOf,
  makeDiskFile,
  runAgentProcess,
  sampleForTests,
  secretsIn,
  streamingUnavailable,
} from './agent-fixture.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-agent-deploy-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };
const HEARTBEAT_SECONDS = 2;

/** The progress values a deployment showed, each once, from the first with a total. */
function progressOf(views: readonly DeploymentView[]): { done: number; total: number }[] {
  const shown: { done: number; total: number }[] = [];
  for (const { progress } of views) {
    const last = shown.at(-1);
    if (progress.total > 0 && (last?.done !== progress.done || last.total !== progress.total))
      shown.push(progress);
  }
  return shown;
}

async function deployAndCheck(firmware: 'uefi' | 'bios'): Promise<void> {
  const work = await mkdtemp(join(sample.dir, `${firmware}-`));
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const other = await makeDiskFile(join(work, 'other.raw'));
  await withDeployServer(
    work,
    sample.wim,
    async (server) => {
      await server.applyProfile({ name: 'web', firmware, disk: { serial: 'SERIAL-A' } });
      await server.addMachine(MACHINE.name, MACHINE.mac);
      const deployment = await server.deploy(MACHINE, 'web');
      // A slow link makes the apply last a few seconds, long enough for several progress reports.
      const proxy = await startFaultProxy(server.url, {
        match: (path) => path.startsWith(AGENT_PATHS.chunk),
        bytesPerSecond: 768 * 1024,
      });
      const inventory = inventoryOf(
        firmware,
        [
          { path: other, serial: 'SERIAL-B' },
          { path: disk, serial: 'SERIAL-A' },
        ],
        MACHINE.mac,
      );
      const agent = await runAgentProcess(work, proxy.url, deployment, inventory).finally(() =>
        proxy.close(),
      );
      assert.equal(agent.code, 0, agent.console);
      assert.match(agent.console, /finish: reboot \(not done: --no-finish\)/);

      // Every report taken; every state once, in order.
      const reports = server.requests(AGENT_PATHS.report);
      assert.deepEqual(
        reports.filter((r) => r.status !== 204),
        [],
      );
      const done = await server.session.deployments.show(deployment.id);
      assert.deepEqual(
        done.history.map((h) => h.state),
        STATES_TO_DONE,
      );
      const times = done.history.map((h) => h.at);
      assert.deepEqual([...times].sort(), times);
      assert.equal(done.error, null);

      // The inventory came with agent-online, the chosen disk with partitioning, not before.
      const views = server.viewsOf(deployment.id);
      const online = views.find((v) => v.state === 'agent-online');
      assert.equal((online?.inventory as AgentInventory | undefined)?.disks.length, 2);
      assert.equal(views.find((v) => v.disk !== null)?.state, 'partitioning');
      assert.equal(done.disk, disk);

      // Progress: bytes that grew to the total, shown more than once.
      const progress = progressOf(views);
      assert.ok(progress.length >= 2, `progress shown: ${JSON.stringify(progress)}`);
      for (let i = 1; i < progress.length; i++) {
        assert.ok(
          (progress[i]?.done ?? 0) > (progress[i - 1]?.done ?? 0),
          `progress went ${JSON.stringify(progress)}`,
        );
      }
      const last = progress.at(-1);
      assert.ok(last !== undefined && last.done === last.total, JSON.stringify(last));
      assert.deepEqual(done.progress, last);

      // A report at least every half heartbeat, with as much again for a busy machine.
      const at = reports.map((r) => Date.parse(r.time));
      const gaps = at.slice(1).map((t, i) => t - (at[i] ?? t));
      assert.ok(gaps.length > 5, `${reports.length} reports`);
      assert.ok(Math.max(...gaps) < HEARTBEAT_SECONDS * 1000, `gaps between reports: ${gaps.join(', ')} ms`);

      // The unattend was served once, and audited once; the ended deployment's token opens nothing.
      assert.deepEqual(
        server.requests(AGENT_PATHS.unattend).map((r) => r.status),
        [200],
      );
      const audit = await server.session.accounts.listAudit(1000);
      assert.equal(
        audit.filter((e) => e.action === 'deployment.unattend' && e.target === deployment.id).length,
        1,
      );
      const again = await fetch(`${server.url}${AGENT_PATHS.unattend}`, {
        headers: { authorization: `Bearer ${deployment.token}` },
      });
      assert.equal(again.status, 401);

      // No secret in anything the agent said.
      const { password } = await server.session.machines.password(MACHINE.name);
      const said = await everythingSaid(server.session, deployment.id, agent);
      assert.ok(said.includes('unattend, boot files and BCD written'), said);
      assert.deepEqual(
        secretsIn(said, {
          token: deployment.token,
          password,
          'the password as unattend hides it': hiddenAdminPassword(password),
        }),
        [],
      );

      // The other disk was not touched; this one holds the image, bootable, with the machine's unattend.
      assert.equal((await stat(other)).blocks, 0, 'the other disk file was written');
      const unattend = await checkDeployedDisk(disk, firmware, sample.wim, work);
      assert.match(unattend, /<ComputerName>WEB-123456<\/ComputerName>/);
      assert.ok(unattend.includes(`<Value>${hiddenAdminPassword(password)}</Value>`), unattend);
    },
    { heartbeatSeconds: HEARTBEAT_SECONDS },
  );
}

test(
  'a UEFI deployment onto a disk image file: verified, BCD for this disk, unattend, the image tree, every state',
  { skip: skip ?? false, timeout: 120_000 },
  () => deployAndCheck('uefi'),
);

test(
  'a BIOS deployment onto a disk image file: verified, BCD for this disk, unattend, the image tree, every state',
  { skip: skip ?? false, timeout: 120_000 },
  () => deployAndCheck('bios'),
);
