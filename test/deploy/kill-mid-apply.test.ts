// Processes killed in the middle of a deployment's apply. `winsmith server` runs as a process of its
// own on a data directory prepared before (the sample pushed in small chunks, a UEFI profile, the
// machine, its deployment started as its boot script starts it), with a short heartbeat in its
// config; the agent runs as a process onto a disk image file, its chunks through a slow link (a
// proxy), so that the apply lasts long enough to be cut:
// - the server killed with SIGKILL and started again on the same data directory and port: the agent
//   waits, goes on chunk by chunk from where it was, and the deployment ends done; the image's
//   chunks it received in all are less than twice the image; no secret in the server's log;
// - the agent killed with SIGKILL: the server's deployment watch fails the deployment, "agent
//   lost", once the agent has been silent for the timeout of the config (5 s here: the time the
//   agent's process also has to start and first report, on a busy host), and its token opens
//   nothing after.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { DeploymentView } from '../../src/app/deployments.ts';
import { remoteSession } from '../../src/app/remote/remote-session.ts';
import type { Session } from '../../src/app/session.ts';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { STATES_TO_DONE, startDeployServer, type StartedDeployment } from '../helpers/deploy-server.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import {
  everythingSaid,
  hiddenAdminPassword,
  inventoryOf,
  makeDiskFile,
  sampleForTests,
  secretsIn,
  startAgentProcess,
  streamingUnavailable,
  type RunningAgent,
} from '../agent/agent-fixture.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-kill-mid-apply-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };
const isChunk = (path: string): boolean => path.startsWith(AGENT_PATHS.chunk);

interface Prepared {
  readonly data: string;
  readonly deployment: StartedDeployment;
  readonly manifest: Manifest;
  /** An administrator's API token, for a session on the server process. */
  readonly apiToken: string;
}

/** A data directory in `work` with the deployment of the sample to MACHINE started. */
async function prepare(work: string): Promise<Prepared> {
  const data = join(work, 'data');
  const server = await startDeployServer(data, sample.wim);
  try {
    await server.applyProfile({ name: 'web', firmware: 'uefi' });
    await server.addMachine(MACHINE.name, MACHINE.mac);
    const issued = await server.session.accounts.createToken({
      name: 'watch',
      user: 'admin',
      expiresInDays: null,
    });
    return {
      data,
      deployment: await server.deploy(MACHINE, 'web'),
      manifest: server.manifest,
      apiToken: issued.token,
    };
  } finally {
    await server.close();
  }
}

/** Starts `winsmith server` on `data` with the deploy settings given; its stderr goes to `log`. */
async function serveProcess(
  work: string,
  data: string,
  settings: { port: number; heartbeatSeconds: number; agentTimeoutSeconds: number },
  log: string[],
): Promise<ServerProcess> {
  const config = join(work, 'server.yaml');
  await writeFile(
    config,
    [
      `data: ${data}`,
      `listen: 127.0.0.1:${settings.port}`,
      'deploy:',
      `  heartbeatSeconds: ${settings.heartbeatSeconds}`,
      `  agentTimeoutSeconds: ${settings.agentTimeoutSeconds}`,
      '',
    ].join('\n'),
  );
  return startServerProcess(config, log);
}

async function stopProcess(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

/** The deployment as the server's events show it once `ready` holds; rejects after `timeoutMs`. */
function watchUntil(
  session: Session,
  id: string,
  ready: (view: DeploymentView) => boolean,
  timeoutMs: number,
): Promise<DeploymentView> {
  const stop = new AbortController();
  let last: DeploymentView | null = null;
  return new Promise<DeploymentView>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`deployment ${id} not as awaited after ${timeoutMs} ms: ${JSON.stringify(last)}`));
    }, timeoutMs);
    session.deployments
      .watch((view) => {
        if (view.id !== id) return;
        last = view;
        if (!ready(view)) return;
        clearTimeout(timer);
        resolve(view);
      }, stop.signal)
      .catch(reject);
  }).finally(() => stop.abort());
}

const applying = (view: DeploymentView): boolean => view.state === 'applying' && view.progress.done > 0;

/** Chunk requests answered 200 in lines of a server's log. */
function chunksServed(log: readonly string[]): number {
  return log.filter((line) => {
    if (!line.startsWith('{')) return false;
    const entry = JSON.parse(line) as { msg?: string; path?: string; status?: number };
    return entry.msg === 'request' && isChunk(entry.path ?? '') && entry.status === 200;
  }).length;
}

interface UnderWay {
  readonly prepared: Prepared;
  readonly disk: string;
  /** The server process's stderr, one line an entry, across its starts. */
  readonly log: string[];
  /** The server process, as last started. */
  readonly server: ServerProcess;
  /** An administrator's session on it. */
  readonly api: Session;
  readonly proxy: FaultProxy;
  readonly agent: RunningAgent;
  /** Starts the server again (once it has ended) on the same data directory, port and settings. */
  startServerAgain(): Promise<void>;
}

/**
 * Runs `fn` once the agent's apply is under way (progress shown): the server a process on a data
 * directory prepared in a new directory under the sample's, with `settings`; the agent a process,
 * its chunks through a link of `bytesPerSecond`. The agent, the proxy and the server are ended after.
 */
async function whileApplying(
  settings: { heartbeatSeconds: number; agentTimeoutSeconds: number },
  bytesPerSecond: number,
  fn: (run: UnderWay) => Promise<void>,
): Promise<void> {
  const work = await mkdtemp(join(sample.dir, 'run-'));
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const prepared = await prepare(work);
  const log: string[] = [];
  let server = await serveProcess(work, prepared.data, { port: 0, ...settings }, log);
  const port = Number(new URL(server.url).port);
  const api = remoteSession(server.url, prepared.apiToken);
  const proxy = await startFaultProxy(server.url, { match: isChunk, bytesPerSecond });
  let agent: RunningAgent | null = null;
  try {
    const started = watchUntil(api, prepared.deployment.id, applying, 30_000);
    agent = await startAgentProcess(
      work,
      proxy.url,
      prepared.deployment,
      inventoryOf('uefi', [{ path: disk }]),
    );
    await started;
    await fn({
      prepared,
      disk,
      log,
      get server() {
        return server;
      },
      api,
      proxy,
      agent,
      async startServerAgain() {
        server = await serveProcess(work, prepared.data, { port, ...settings }, log);
      },
    });
  } finally {
    await agent?.endGroup();
    await proxy.close();
    await stopProcess(server);
  }
}

test(
  'the server killed mid-apply and started again: the agent goes on by chunk, the deployment ends done',
  { skip: skip ?? false, timeout: 90_000 },
  () =>
    whileApplying({ heartbeatSeconds: 1, agentTimeoutSeconds: 60 }, 768 * 1024, async (run) => {
      const { deployment, manifest } = run.prepared;
      const url = run.server.url;
      run.server.child.kill('SIGKILL');
      await run.server.exited;
      for (let waited = 0; run.proxy.counts.serverLost === 0 && waited < 10_000; waited += 50)
        await sleep(50);
      assert.ok(run.proxy.counts.serverLost > 0, 'the agent found the server gone');
      const firstRun = run.log.length;
      await run.startServerAgain();
      assert.equal(run.server.url, url);

      const agent = await run.agent.done;
      assert.equal(agent.code, 0, agent.console);
      assert.match(agent.console, /trying again in \d+ ms/);
      const done = await run.api.deployments.show(deployment.id);
      assert.equal(done.state, 'done', JSON.stringify(done.error));
      assert.deepEqual(
        done.history.map((h) => h.state),
        STATES_TO_DONE,
      );
      // Everything the server sent of the image went through the proxy.
      assert.ok(
        run.proxy.counts.bytes < 2 * manifest.size,
        `${run.proxy.counts.bytes} bytes of chunks sent for an image of ${manifest.size}`,
      );
      const afterRestart = chunksServed(run.log.slice(firstRun));
      assert.ok(
        afterRestart > 0 && afterRestart < manifest.chunks.length,
        `the server started again served ${afterRestart} chunks of the image's ${manifest.chunks.length}`,
      );
      const verify = await runWinsmith(['disk', 'verify', run.disk]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);

      const { password } = await run.api.machines.password(MACHINE.name);
      assert.deepEqual(
        secretsIn(run.log.join('\n'), {
          token: deployment.token,
          password,
          'the password as unattend hides it': hiddenAdminPassword(password),
        }),
        [],
        "secrets in the server's log",
      );
    }),
);

test(
  "the agent killed mid-apply: the server's watch fails the deployment, agent lost, after the timeout",
  { skip: skip ?? false, timeout: 60_000 },
  () =>
    whileApplying({ heartbeatSeconds: 1, agentTimeoutSeconds: 5 }, 512 * 1024, async (run) => {
      const { deployment } = run.prepared;
      process.kill(run.agent.pid, 'SIGKILL');
      const agent = await run.agent.done;
      assert.equal(agent.code, 128 + 9, agent.console);

      const failed = await watchUntil(run.api, deployment.id, (v) => v.state === 'failed', 20_000);
      assert.deepEqual(failed.error, { message: 'agent lost: no report for 5 s', step: 'applying' });
      const silence = Date.parse(failed.history.at(-1)?.at ?? '') - Date.parse(failed.lastReportAt ?? '');
      assert.ok(silence >= 5000, `failed ${silence} ms after the agent's last report`);
      const watched = (): boolean =>
        run.log.some(
          (line) =>
            line.startsWith('{') &&
            (JSON.parse(line) as { msg: string }).msg === 'deployments failed: agent lost',
        );
      for (let waited = 0; !watched() && waited < 5000; waited += 50) await sleep(50);
      assert.ok(watched(), "the server's deployment watch did not log what it failed");
      const task = await fetch(`${run.server.url}${AGENT_PATHS.task}`, {
        headers: { authorization: `Bearer ${deployment.token}` },
      });
      assert.equal(task.status, 401, "the lost agent's token opens nothing");
      assert.match(await everythingSaid(run.api, deployment.id, agent), /^agent lost: no report for 5 s$/m);
    }),
);
