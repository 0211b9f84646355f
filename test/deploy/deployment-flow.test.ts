// A deployment's whole life over the HTTP API and the boot routes, with the agent's side played
// by plain HTTP calls (the real agent's tests are under test/agent): queued until the deploy
// environment is ready, started once by the boot script (the agent's token made then), the agent's
// task, reports in order only, the image's chunks and no other, the answer file once, done; then
// the machine boots local. Cancel stops an agent at its next call; silence fails a deployment.
// No password ever reaches the log, the events, the audit details or the agent's log.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobEvent } from '../../src/app/events.ts';
import { locateBootFiles } from '../../src/boot/boot-files.ts';
import { httpBootRoutes, type DeployEnvironmentFiles } from '../../src/boot/http-boot.ts';
import { agentCommandLine } from '../../src/deploy/agent-protocol.ts';
import { createApp } from '../../src/server/app.ts';
import type { Logger } from '../../src/server/log.ts';
import { MACHINE_MAC, withDeployFixture, type DeployFixture } from '../helpers/deploy-fixture.ts';

const SCRIPT = `/boot/ipxe?mac=${MACHINE_MAC.replaceAll(':', '-')}&platform=pcbios&buildarch=i386`;

interface Harness {
  readonly request: (path: string, init?: RequestInit) => Promise<Response>;
  readonly agent: (token: string, method: string, path: string, body?: unknown) => Promise<Response>;
  readonly script: () => Promise<string>;
  readonly ready: { value: boolean };
  /** How many times the boot routes asked for the environment (asking starts preparing it). */
  readonly asked: { count: number };
  readonly logLines: string[];
  readonly events: JobEvent[];
}

async function harness(fixture: DeployFixture): Promise<Harness> {
  const bootRoot = join(fixture.dir, 'boot');
  await mkdir(bootRoot, { recursive: true });
  await writeFile(join(bootRoot, 'winsmith-vmlinuz'), 'kernel');
  await writeFile(join(bootRoot, 'winsmith-initrd.img'), 'initrd');
  const ready = { value: false };
  const asked = { count: 0 };
  const environment: DeployEnvironmentFiles = {
    kernel: 'winsmith-vmlinuz',
    initrd: 'winsmith-initrd.img',
    commandLine: agentCommandLine,
  };
  const logLines: string[] = [];
  const logger: Logger = {
    log: (level, msg, fields) => logLines.push(JSON.stringify({ level, msg, ...fields })),
  };
  const events: JobEvent[] = [];
  fixture.app.events.subscribe((e) => events.push(e));
  const boot = httpBootRoutes({
    registry: fixture.app.bootPorts().registry,
    files: { located: await locateBootFiles(), bootRoot },
    httpBase: 'http://10.7.0.1:8080',
    log: logger,
    deployEnvironment: () => {
      asked.count++;
      return ready.value ? environment : null;
    },
  });
  const { app } = createApp({
    backend: fixture.app,
    events: fixture.app.events,
    logger,
    version: 'test',
    mounts: [{ name: 'boot', app: boot }],
  });
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.request(path, init));
  return {
    request,
    agent: (token, method, path, body) =>
      request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    script: async () => (await request(SCRIPT)).text(),
    ready,
    asked,
    logLines,
    events,
  };
}

function tokenOf(script: string): string {
  const token = /winsmith\.token=(\S+)/.exec(script)?.[1];
  assert.ok(token !== undefined, script);
  return token;
}

test(
  'a deployment from queued to done, as the boot script and the agent drive it',
  { timeout: 120_000 },
  async () => {
    await withDeployFixture(async (fixture) => {
      const h = await harness(fixture);
      const { deployments, machines } = fixture.session;
      assert.match(await h.script(), /sanboot|local disk/);
      assert.equal(h.asked.count, 0, 'a machine with no deployment does not start preparing the environment');
      const made = await deployments.create({ machine: 'm1', profile: 'lab' });
      assert.equal(made.state, 'queued');

      const waiting = await h.script();
      assert.match(waiting, /deploy-preparing/);
      assert.match(waiting, /chain --autofree http:\/\/10\.7\.0\.1:8080\/boot\/ipxe\?mac=/);
      assert.equal((await deployments.show(made.id)).state, 'queued', 'waiting starts nothing');

      h.ready.value = true;
      const started = await h.script();
      assert.match(
        started,
        /^kernel http:\/\/10\.7\.0\.1:8080\/boot\/files\/winsmith-vmlinuz initrd=initrd\.img .*winsmith\.server=http:\/\/10\.7\.0\.1:8080/m,
      );
      assert.match(started, new RegExp(`winsmith\\.deployment=${made.id}`));
      const token = tokenOf(started);
      assert.equal((await deployments.show(made.id)).state, 'booting');
      const again = await h.script();
      assert.match(again, /deploy-under-way/);
      assert.doesNotMatch(again, /winsmith\.token/, 'the environment starts once; its token is given once');
      assert.equal((await h.request('/boot/files/winsmith-initrd.img')).status, 200);

      assert.equal((await h.agent('wsa_' + 'x'.repeat(43), 'GET', '/api/v1/agent/task')).status, 401);
      await fixture.session.accounts.addUser({ name: 'op', role: 'operator', scopes: [] });
      const { token: userToken } = await fixture.session.accounts.createToken({
        name: 't',
        user: 'op',
        expiresInDays: null,
      });
      assert.equal(
        (await h.agent(userToken, 'GET', '/api/v1/agent/task')).status,
        401,
        'a user token is no agent token',
      );
      assert.equal((await h.agent(userToken, 'GET', '/api/v1/agent/task')).status, 401);

      const task = (await (await h.agent(token, 'GET', '/api/v1/agent/task')).json()) as {
        deployment: string;
        firmware: string;
        image: { digest: string; index: number };
        finish: string;
      };
      assert.deepEqual(
        [task.deployment, task.firmware, task.image.index, task.finish],
        [made.id, 'bios', 1, 'poweroff'],
      );

      const report = (body: unknown) => h.agent(token, 'POST', '/api/v1/agent/report', body);
      assert.equal((await machines.get(MACHINE_MAC)).secureBoot, null, 'never told');
      const inventory = { disks: [], nics: [], firmware: 'uefi', secureBoot: true };
      assert.equal((await report({ state: 'agent-online', log: ['agent started'], inventory })).status, 204);
      // The agent's reading of the SecureBoot variable is kept on the machine; null changes nothing.
      assert.deepEqual(
        [
          (await machines.get(MACHINE_MAC)).secureBoot?.on,
          (await machines.get(MACHINE_MAC)).secureBoot?.source,
        ],
        [true, 'agent'],
      );
      assert.equal((await report({ inventory: { ...inventory, secureBoot: null } })).status, 204);
      assert.equal((await machines.get(MACHINE_MAC)).secureBoot?.on, true);
      assert.deepEqual(await fixture.app.bootPorts().registry.uefiChainInputs(MACHINE_MAC), {
        profile: 'auto',
        secureBoot: true,
      });
      assert.equal((await report({ state: 'partitioning', disk: '/dev/vda' })).status, 204);
      assert.equal((await report({ state: 'applying', progress: { done: 0, total: 1000 } })).status, 204);
      assert.equal((await report({ state: 'partitioning' })).status, 409, 'states only go forward');
      assert.equal((await report({ state: 'queued' })).status, 400, 'the agent cannot report a server state');
      assert.equal((await report({ progress: { done: 500, total: 1000 }, log: ['half'] })).status, 204);

      const manifest = (await (await h.agent(token, 'GET', '/api/v1/agent/manifest')).json()) as {
        chunks: { digest: string; size: number }[];
      };
      assert.ok(manifest.chunks.length > 0);
      for (const chunk of manifest.chunks) {
        const bytes = Buffer.from(
          await (await h.agent(token, 'GET', `/api/v1/agent/chunks/${chunk.digest}`)).arrayBuffer(),
        );
        assert.equal(createHash('sha256').update(bytes).digest('hex'), chunk.digest);
      }
      assert.equal((await h.agent(token, 'GET', `/api/v1/agent/chunks/${'0'.repeat(64)}`)).status, 404);
      assert.equal((await h.agent(token, 'GET', '/api/v1/agent/chunks/..%2Fsecrets.key')).status, 400);

      const unattend = await h.agent(token, 'GET', '/api/v1/agent/unattend');
      assert.equal(unattend.status, 200);
      const xml = await unattend.text();
      assert.match(xml, /<ComputerName>LAB-DE0001<\/ComputerName>/);
      assert.equal((await h.agent(token, 'GET', '/api/v1/agent/unattend')).status, 409, 'served once');

      assert.equal(
        (await report({ state: 'configuring', progress: { done: 1000, total: 1000 } })).status,
        204,
      );
      assert.equal((await report({ state: 'finalizing' })).status, 204);
      assert.equal((await report({ state: 'done', log: ['powering off'] })).status, 204);
      assert.equal(
        (await h.agent(token, 'GET', '/api/v1/agent/task')).status,
        401,
        'an ended deployment opens nothing',
      );

      const done = await deployments.show(made.id);
      assert.equal(done.state, 'done');
      assert.deepEqual(
        done.history.map((x) => x.state),
        [
          'queued',
          'booting',
          'agent-online',
          'partitioning',
          'applying',
          'configuring',
          'finalizing',
          'done',
        ],
      );
      const times = done.history.map((x) => x.at);
      assert.deepEqual([...times].sort(), times);
      assert.equal(done.disk, '/dev/vda');
      assert.deepEqual(
        (await deployments.logs(made.id, 0)).map((l) => l.line),
        ['agent started', 'half', 'powering off'],
      );
      assert.match(await h.script(), /winsmith boot script for .*: local-boot/);

      const audit = await fixture.session.accounts.listAudit(100);
      assert.ok(audit.some((e) => e.action === 'deployment.unattend.refused'));
      const { password } = await machines.password('m1');
      assert.ok(password.length >= 20);
      const b64 = Buffer.from(`${password}AdministratorPassword`, 'utf16le').toString('base64');
      const everywhere = [
        ...h.logLines,
        ...h.events.map((e) => JSON.stringify(e)),
        ...audit.map((e) => JSON.stringify(e)),
        ...(await deployments.logs(made.id, 0)).map((l) => l.line),
        JSON.stringify(await deployments.show(made.id)),
      ].join('\n');
      assert.ok(everywhere.length > 1000);
      assert.ok(!everywhere.includes(password), 'the password is in no log, event or audit record');
      assert.ok(!everywhere.includes(b64));
      assert.ok(!everywhere.includes(token), 'nor the agent token');
      assert.ok(h.events.some((e) => e.kind === 'deployment'));
    });
  },
);

/** A deployment of m1 started by its boot script, its agent online: the harness, it, its token. */
async function agentOnline(fixture: DeployFixture) {
  const h = await harness(fixture);
  h.ready.value = true;
  const made = await fixture.session.deployments.create({ machine: 'm1', profile: 'lab' });
  const token = tokenOf(await h.script());
  const online = await h.agent(token, 'POST', '/api/v1/agent/report', { state: 'agent-online' });
  assert.equal(online.status, 204);
  return { h, made, token };
}

test(
  'a cancelled deployment stops its agent at its next call; the machine boots local',
  { timeout: 60_000 },
  async () => {
    await withDeployFixture(async (fixture) => {
      const { h, made, token } = await agentOnline(fixture);
      assert.equal((await fixture.session.deployments.cancel(made.id)).state, 'cancelled');
      assert.equal(
        (await h.agent(token, 'POST', '/api/v1/agent/report', { state: 'partitioning' })).status,
        401,
      );
      assert.match(await h.script(), /: local-boot/);
      const retried = await fixture.session.deployments.retry(made.id);
      assert.equal(retried.state, 'queued');
      assert.notEqual(tokenOf(await h.script()), token);
    });
  },
);

/**
 * The watch's sweep 1.2 s after `start` fails nothing; 3.2 s after, it fails the deployment with
 * `error`, and its agent's token is refused from then on. The sweeps are given the time: no waiting.
 */
async function failedBetweenSweeps(
  fixture: DeployFixture,
  h: Harness,
  made: { readonly id: string },
  token: string,
  start: number,
  notYet: string,
  error: { readonly message: string; readonly step: string },
): Promise<void> {
  assert.equal(await fixture.app.sweepDeployments(start + 1200), 0, notYet);
  assert.equal(await fixture.app.sweepDeployments(start + 3200), 1);
  const failed = await fixture.session.deployments.show(made.id);
  assert.equal(failed.state, 'failed');
  assert.deepEqual(failed.error, error);
  assert.equal((await h.agent(token, 'GET', '/api/v1/agent/task')).status, 401);
}

test(
  'a deployment whose agent falls silent past the timeout fails: agent lost; the boot timeout does not apply to it',
  { timeout: 60_000 },
  async () => {
    await withDeployFixture(
      async (fixture) => {
        const { h, made, token } = await agentOnline(fixture);
        const start = Date.now();
        assert.equal(await fixture.app.sweepDeployments(start), 0, 'an agent just heard from is not lost');
        await failedBetweenSweeps(
          fixture,
          h,
          made,
          token,
          start,
          'an agent that reported is past the boot timeout',
          {
            message: 'agent lost: no report for 3 s',
            step: 'agent-online',
          },
        );
      },
      { deploy: { heartbeatSeconds: 1, agentTimeoutSeconds: 3, bootTimeoutSeconds: 1 } },
    );
  },
);

test(
  'a machine that booted the deploy environment and whose agent never reports fails after the boot timeout, not the agent one',
  { timeout: 60_000 },
  async () => {
    await withDeployFixture(
      async (fixture) => {
        const h = await harness(fixture);
        h.ready.value = true;
        const made = await fixture.session.deployments.create({ machine: 'm1', profile: 'lab' });
        const token = tokenOf(await h.script());
        assert.equal((await fixture.session.deployments.show(made.id)).state, 'booting');
        await failedBetweenSweeps(
          fixture,
          h,
          made,
          token,
          Date.now(),
          'a booting machine is past the agent timeout only',
          {
            message: 'the agent never reported: no word 3 s after the machine booted the deploy environment',
            step: 'booting',
          },
        );
      },
      { deploy: { heartbeatSeconds: 1, agentTimeoutSeconds: 1, bootTimeoutSeconds: 3 } },
    );
  },
);
