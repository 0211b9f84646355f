// Multicast deployment with the real udpcast: three agents run as host processes, each receiving
// in a network namespace of its own whose eth0 is a port of the server namespace's bridge, where
// the server's udp-sender sends (a multicast route on that bridge only; nothing on the host's
// interfaces). The server and the agents talk HTTP on loopback. One session: every disk holds the
// image's tree and each deployment says its image came by multicast. One receiver killed in the
// middle of a rate-capped session: the two others end done by multicast, the killed one's
// deployment fails (agent lost) and its retry, by unicast, ends done. A receiver that stops answering
// (stopped with SIGSTOP) is dropped: the others end done, and it goes unicast. A latecomer, once the
// session sends, goes unicast at once. Cancelling the session's deployments, or stopping the server, leaves
// no udp-sender and no pipable WIM behind.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DeploymentView } from '../../src/app/deployments.ts';
import { netnsPids, netnsUnavailable } from '../../src/engines/netns.ts';
import { startDeployServer, type DeployServer, type StartedDeployment } from '../helpers/deploy-server.ts';
import { openMulticastNetwork, type MulticastNetwork } from '../helpers/multicast-network.ts';
import {
  checkDeployedDisk,
  inventoryOf,
  makeDiskFile,
  runAgentProcess,
  sampleForTests,
  startAgentProcess,
  streamingUnavailable,
  type RunningAgent,
} from './agent-fixture.ts';

const skip = (await streamingUnavailable()) ?? (await netnsUnavailable());
const sample = sampleForTests('winsmith-agent-multicast-');
const MACHINES = [
  { name: 'mc-01', mac: '52:54:00:00:0c:01' },
  { name: 'mc-02', mac: '52:54:00:00:0c:02' },
  { name: 'mc-03', mac: '52:54:00:00:0c:03' },
];

interface Lab {
  readonly work: string;
  readonly server: DeployServer;
  readonly network: MulticastNetwork;
}

async function withLab(
  prefix: string,
  options: {
    readonly agentTimeoutSeconds?: number;
    /**
     * The sender's requests before it drops a machine that does not acknowledge. The first ten
     * come as fast as the machines usually answer (milliseconds), each later one a second apart:
     * the server's default (30) keeps a machine the test does not stop, however busy the host.
     */
    readonly retriesUntilDrop?: number;
  },
  fn: (lab: Lab) => Promise<void>,
): Promise<void> {
  const work = await mkdtemp(join(sample.dir, prefix));
  const network = await openMulticastNetwork(MACHINES.length);
  try {
    const server = await startDeployServer(join(work, 'data'), sample.wim, {
      heartbeatSeconds: 1,
      ...(options.agentTimeoutSeconds === undefined
        ? {}
        : { agentTimeoutSeconds: options.agentTimeoutSeconds }),
      multicast: {
        interface: network.bridge,
        netns: network.server,
        ...(options.retriesUntilDrop === undefined ? {} : { retriesUntilDrop: options.retriesUntilDrop }),
        receiveTimeoutSeconds: 10,
      },
    });
    try {
      await server.applyProfile({ name: 'web', firmware: 'uefi' });
      for (const m of MACHINES) await server.addMachine(m.name, m.mac);
      await fn({ work, server, network });
    } finally {
      await server.close();
    }
  } finally {
    await network.close();
  }
}

/** The machine's boot script starts its queued deployment: the agent's token. */
async function boot(server: DeployServer, mac: string, id: string): Promise<StartedDeployment> {
  const started = await server.app.bootPorts().registry.startDeployment(mac);
  assert.equal(started?.deployment, id);
  return { id, token: started.token };
}

/** Starts the agent of `deployment` on machine `i`, receiving in that machine's namespace. */
async function startAgent(
  lab: Lab,
  i: number,
  deployment: StartedDeployment,
  name: string,
): Promise<RunningAgent & { disk: string }> {
  const dir = join(lab.work, name);
  await mkdir(dir, { recursive: true });
  const disk = await makeDiskFile(join(dir, 'disk.raw'));
  const inventory = inventoryOf('uefi', [{ path: disk }], MACHINES[i]?.mac);
  const receiveNetns = lab.network.machines[i] ?? '';
  const agent = await startAgentProcess(dir, lab.server.url, deployment, inventory, { receiveNetns });
  return { ...agent, disk };
}

/** Boots each machine of the session and starts its agent. */
function bootAll(lab: Lab, views: readonly DeploymentView[]): Promise<(RunningAgent & { disk: string })[]> {
  return Promise.all(
    views.map(async (v, i) =>
      startAgent(lab, i, await boot(lab.server, MACHINES[i]?.mac ?? '', v.id), `m${i}`),
    ),
  );
}

async function sessionOf(
  lab: Lab,
  rules: { maxBitsPerSecond?: number; minReceivers?: number },
): Promise<DeploymentView[]> {
  const views = await lab.server.session.deployments.createMulticast({
    group: 'rack-1',
    machines: MACHINES.map((m) => m.name),
    profile: 'web',
    maxWaitSeconds: 30,
    ...rules,
  });
  assert.equal(views.length, 3);
  for (const v of views) assert.deepEqual([v.multicast?.group, v.multicast?.state], ['rack-1', 'waiting']);
  assert.match(views[0]?.multicast?.address ?? '', /^239\.192\.85\.\d+$/);
  return views;
}

test(
  'three agents in their own namespaces receive one multicast session; each disk holds the image',
  { skip: skip ?? false, timeout: 240_000 },
  () =>
    withLab('all-', {}, async (lab) => {
      const views = await sessionOf(lab, {});
      const agents = await bootAll(lab, views);
      const runs = await Promise.all(agents.map((a) => a.done.finally(() => a.endGroup())));
      for (const run of runs) {
        assert.equal(run.code, 0, run.console);
        assert.match(run.console, /multicast session rack-1: receiving 239\.192\.85\.\d+/);
        assert.match(run.console, /applied edition 1 \(multicast\)/);
      }
      for (const [i, v] of views.entries()) {
        const done = await lab.server.session.deployments.show(v.id);
        assert.equal(done.state, 'done');
        assert.equal(done.multicast?.state, 'done');
        assert.equal(done.multicast.sessionState, 'done');
        assert.ok(done.multicast.bytesSent > 0 && done.multicast.bytesSent === done.multicast.bytesTotal);
        const agent = agents[i];
        assert.ok(agent !== undefined);
        await checkDeployedDisk(agent.disk, 'uefi', sample.wim, join(lab.work, `m${i}`));
      }
      // Each image came by multicast: over HTTP each agent read only what the boot files need.
      for (const run of runs) {
        const [, fetched = '', total = ''] =
          /(\d+) bytes of chunks fetched for the (\d+) of the image/.exec(run.console) ?? [];
        assert.ok(Number(fetched) < Number(total) / 4, `${fetched} of ${total} bytes fetched over HTTP`);
      }
    }),
);

test(
  'a receiver killed mid-session: the others end done by multicast, its deployment is retried by unicast and ends done',
  { skip: skip ?? false, timeout: 300_000 },
  () =>
    // The agent timeout bounds silence after an agent's first report only (the boot timeout, 600 s
    // by default, bounds the wait for it): the killed agent is found lost within seconds.
    withLab('killed-', { agentTimeoutSeconds: 6 }, async (lab) => {
      // A rate cap of 4 Mbit/s makes the session last several seconds.
      const views = await sessionOf(lab, { maxBitsPerSecond: 4_000_000 });
      const agents = await bootAll(lab, views);
      const [victim, ...others] = agents;
      const [victimView, ...otherViews] = views;
      assert.ok(victim !== undefined && victimView !== undefined);
      await lab.server.until(
        victimView.id,
        (v) => v.multicast?.sessionState === 'sending' && v.multicast.bytesSent > 0,
        120_000,
      );
      await victim.endGroup();

      const runs = await Promise.all(others.map((a) => a.done.finally(() => a.endGroup())));
      for (const run of runs) {
        assert.equal(run.code, 0, run.console);
        assert.match(run.console, /applied edition 1 \(multicast\)/);
      }
      for (const [i, v] of otherViews.entries()) {
        const done = await lab.server.session.deployments.show(v.id);
        assert.deepEqual([done.state, done.multicast?.state], ['done', 'done']);
        const agent = others[i];
        assert.ok(agent !== undefined);
        await checkDeployedDisk(agent.disk, 'uefi', sample.wim, join(lab.work, `m${i + 1}`));
      }

      // The killed machine's deployment fails (its agent is lost); its retry is unicast.
      const lost = await lab.server.until(victimView.id, (v) => v.state === 'failed', 60_000);
      assert.match(lost.error?.message ?? '', /agent lost/);
      assert.equal(lost.multicast?.state, 'failed');
      const retry = await lab.server.session.deployments.retry(victimView.id);
      assert.equal(retry.multicast, undefined);
      const machine = MACHINES[0];
      assert.ok(machine !== undefined);
      const started = await boot(lab.server, machine.mac, retry.id);
      const dir = join(lab.work, 'retry');
      await mkdir(dir);
      const disk = await makeDiskFile(join(dir, 'disk.raw'));
      const run = await runAgentProcess(
        dir,
        lab.server.url,
        started,
        inventoryOf('uefi', [{ path: disk }], machine.mac),
      );
      assert.equal(run.code, 0, run.console);
      assert.match(run.console, /applied edition 1 \(unicast\)/);
      assert.equal((await lab.server.session.deployments.show(retry.id)).state, 'done');
      await checkDeployedDisk(disk, 'uefi', sample.wim, dir);
    }),
);

/** Boots every machine of the session and asks, as their agents do, until udp-sender runs. */
async function untilJoining(lab: Lab, views: readonly DeploymentView[]): Promise<void> {
  const [first] = views;
  assert.ok(first !== undefined);
  const started = await Promise.all(views.map((v, i) => boot(lab.server, MACHINES[i]?.mac ?? '', v.id)));
  const agent = await lab.server.app.agent(started[0]?.token ?? '', 'test');
  for (let answer = await agent.multicast(); answer.mode === 'wait'; answer = await agent.multicast())
    await new Promise((resolve) => setTimeout(resolve, 200));
  await lab.server.until(first.id, (v) => v.multicast?.sessionState === 'joining', 60_000);
  assert.ok((await netnsPids(lab.network.server)).length > 0, 'udp-sender runs in the server namespace');
  assert.equal((await readdir(join(lab.server.dataDir, 'multicast'))).length, 1, 'the pipable WIM');
}

test(
  'cancelling every deployment of a session stops its udp-sender and removes its file; so does stopping the server',
  { skip: skip ?? false, timeout: 180_000 },
  () =>
    withLab('stop-', {}, async (lab) => {
      const views = await sessionOf(lab, {});
      await untilJoining(lab, views);
      for (const v of views) await lab.server.session.deployments.cancel(v.id);
      const [first] = views;
      assert.ok(first !== undefined);
      const ended = await lab.server.until(
        first.id,
        (v) => v.multicast?.sessionState === 'cancelled',
        30_000,
      );
      assert.equal(ended.multicast?.state, 'failed');
      assert.deepEqual(await netnsPids(lab.network.server), []);
      assert.deepEqual(await readdir(join(lab.server.dataDir, 'multicast')), []);

      // A second session, its server stopped while udp-sender waits for its machines.
      const second = await lab.server.session.deployments.createMulticast({
        group: 'rack-2',
        machines: MACHINES.map((m) => m.name),
        profile: 'web',
      });
      await untilJoining(lab, second);
      await lab.server.close();
      for (let waited = 0; (await netnsPids(lab.network.server)).length > 0; waited += 100) {
        assert.ok(waited < 10_000, 'udp-sender still runs 10 s after the server stopped');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (let waited = 0; (await readdir(join(lab.server.dataDir, 'multicast'))).length > 0; waited += 100) {
        assert.ok(waited < 10_000, 'the pipable WIM is still there 10 s after the server stopped');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
);

test(
  'a machine that comes once its session is sending takes the image over HTTP at once, and ends done',
  { skip: skip ?? false, timeout: 240_000 },
  () =>
    withLab('late-', {}, async (lab) => {
      const views = await sessionOf(lab, { minReceivers: 2, maxBitsPerSecond: 4_000_000 });
      const [early1, early2, late] = views;
      assert.ok(early1 !== undefined && early2 !== undefined && late !== undefined);
      const started = await Promise.all(views.map((v, i) => boot(lab.server, MACHINES[i]?.mac ?? '', v.id)));
      const early = await Promise.all(
        [0, 1].map(async (i) => startAgent(lab, i, started[i] ?? { id: '', token: '' }, `m${i}`)),
      );
      await lab.server.until(early1.id, (v) => v.multicast?.sessionState === 'sending', 120_000);
      const comer = await startAgent(lab, 2, started[2] ?? { id: '', token: '' }, 'm2');
      const lateRun = await comer.done.finally(() => comer.endGroup());
      assert.equal(lateRun.code, 0, lateRun.console);
      assert.match(
        lateRun.console,
        /the image comes over HTTP: session rack-1 had started when this machine asked/,
      );
      assert.match(lateRun.console, /applied edition 1 \(unicast\)/);
      const lateView = await lab.server.session.deployments.show(late.id);
      assert.deepEqual([lateView.state, lateView.multicast?.state], ['done', 'unicast']);
      await checkDeployedDisk(comer.disk, 'uefi', sample.wim, join(lab.work, 'm2'));
      for (const run of await Promise.all(early.map((a) => a.done.finally(() => a.endGroup())))) {
        assert.equal(run.code, 0, run.console);
        assert.match(run.console, /applied edition 1 \(multicast\)/);
      }
    }),
);

/** The pids of the processes named `name` in process group `pgid` (from /proc). */
async function groupProcesses(pgid: number, name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid pgrp …
    const m = /^\d+ \((.*)\) \S+ \d+ (\d+)/.exec(stat);
    if (m?.[1] === name && Number(m[2]) === pgid) pids.push(Number(entry));
  }
  return pids;
}

test(
  'a receiver that stops answering is dropped: the others end done by multicast, it goes unicast and ends done',
  { skip: skip ?? false, timeout: 240_000 },
  () =>
    withLab('behind-', { retriesUntilDrop: 14 }, async (lab) => {
      const views = await sessionOf(lab, { maxBitsPerSecond: 4_000_000 });
      const agents = await bootAll(lab, views);
      const [slow, ...others] = agents;
      const [slowView] = views;
      assert.ok(slow !== undefined && slowView !== undefined);
      await lab.server.until(
        slowView.id,
        (v) => v.multicast?.sessionState === 'sending' && v.multicast.bytesSent > 0,
        120_000,
      );
      const stopped = await groupProcesses(slow.pid, 'udp-receiver');
      assert.equal(stopped.length, 1, 'the slow agent runs one udp-receiver');
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      try {
        for (const run of await Promise.all(others.map((a) => a.done.finally(() => a.endGroup())))) {
          assert.equal(run.code, 0, run.console);
          assert.match(run.console, /applied edition 1 \(multicast\)/);
        }
      } finally {
        for (const pid of stopped) process.kill(pid, 'SIGCONT');
      }
      const run = await slow.done.finally(() => slow.endGroup());
      assert.equal(run.code, 0, run.console);
      assert.match(run.console, /multicast session rack-1: .*; the image comes over HTTP instead/);
      assert.match(run.console, /applied edition 1 \(unicast\)/);
      const done = await lab.server.session.deployments.show(slowView.id);
      assert.deepEqual(
        [done.state, done.multicast?.state, done.multicast?.sessionState],
        ['done', 'unicast', 'done'],
      );
      await checkDeployedDisk(slow.disk, 'uefi', sample.wim, join(lab.work, 'm0'));
    }),
);
