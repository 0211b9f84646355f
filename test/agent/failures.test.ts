// The agent as a process against the real server when things go wrong: a disk rule that matches
// two disks (failed, naming both, neither written), a link that cuts chunk answers and answers 503
// mid-apply (done, and the image is not fetched again from its start), a chunk corrupt in the
// server's blob store (failed, naming it), an unattend already fetched (failed, not written without
// it), and a token the server refuses.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { FsBlobStore } from '../../src/store/blob-store-fs.ts';
import { chunkKey } from '../../src/store/chunk-store.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { withDeployServer, type DeployServer } from '../helpers/deploy-server.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  everythingSaid,
  inventoryOf,
  makeDiskFile,
  runAgentProcess,
  sampleForTests,
  sha256File,
  streamingUnavailable,
} from './agent-fixture.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-agent-failures-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };

/** A small disk file with random bytes at both ends, as a disk that held something. */
async function usedDiskFile(path: string): Promise<string> {
  await makeDiskFile(path, 64 * 1024 * 1024);
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    await handle.write(randomBytes(1024 * 1024), 0, 1024 * 1024, 0);
    await handle.write(randomBytes(1024 * 1024), 0, 1024 * 1024, size - 1024 * 1024);
  } finally {
    await handle.close();
  }
  return path;
}

/** Bytes of the chunks the server answered 200 for (whole, as the request log cannot say less). */
function chunkBytesServed(server: DeployServer): number {
  const sizes = new Map(server.manifest.chunks.map((c) => [c.digest, c.size]));
  return server
    .requests(AGENT_PATHS.chunk)
    .filter((r) => r.status === 200)
    .reduce((sum, r) => sum + (sizes.get(r.path.slice(AGENT_PATHS.chunk.length + 1)) ?? 0), 0);
}

/** The server with machine web-01 and a profile `web` for `firmware`, its deployment started. */
async function started(server: DeployServer, firmware: 'uefi' | 'bios', disk = {}) {
  await server.applyProfile({ name: 'web', firmware, disk });
  await server.addMachine(MACHINE.name, MACHINE.mac);
  return server.deploy(MACHINE, 'web');
}

test(
  'a disk rule that matches two disks: failed naming both, neither written, nothing fetched past the XML',
  { timeout: 60_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'rule-'));
    const a = await usedDiskFile(join(work, 'a.raw'));
    const b = await usedDiskFile(join(work, 'b.raw'));
    const before = [await sha256File(a), await sha256File(b)];
    await withDeployServer(work, sample.wim, async (server) => {
      const deployment = await started(server, 'uefi', { model: 'winsmith test disk', size: '>= 32M' });
      const agent = await runAgentProcess(
        work,
        server.url,
        deployment,
        inventoryOf('uefi', [
          { path: a, serial: 'A' },
          { path: b, serial: 'B' },
        ]),
      );
      assert.equal(agent.code, 1, agent.console);
      const failed = await server.session.deployments.show(deployment.id);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error?.step, 'disk');
      assert.match(
        failed.error.message,
        /^2 disks match the disk rule \{size: ">= 32M", model: "winsmith test disk"\}, expected exactly one: /,
      );
      assert.ok(
        failed.error.message.includes(`${a} (`) && failed.error.message.includes(`${b} (`),
        failed.error.message,
      );
      assert.deepEqual(
        failed.history.map((h) => h.state),
        ['queued', 'booting', 'agent-online', 'failed'],
      );
      assert.deepEqual([await sha256File(a), await sha256File(b)], before);
      assert.deepEqual(server.requests(AGENT_PATHS.unattend), []);
      const served = chunkBytesServed(server);
      assert.ok(served > 0 && served < server.manifest.size, `${served} bytes of chunks served`);
    });
  },
);

test(
  'cuts and 503s mid-apply: the deployment ends done, without fetching the image again from its start',
  { skip: skip ?? false, timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'resume-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    await withDeployServer(work, sample.wim, async (server) => {
      const deployment = await started(server, 'uefi');
      const proxy = await startFaultProxy(server.url, {
        match: (path) => path.startsWith(AGENT_PATHS.chunk),
        cut: new Set([8, 15, 23, 30]),
        unavailable: new Set([11, 12, 27]),
      });
      const agent = await runAgentProcess(
        work,
        proxy.url,
        deployment,
        inventoryOf('uefi', [{ path: disk }]),
      ).finally(() => proxy.close());
      assert.equal(agent.code, 0, agent.console);
      assert.equal((await server.session.deployments.show(deployment.id)).state, 'done');
      assert.deepEqual([proxy.counts.cuts, proxy.counts.unavailable], [4, 3], 'the faults happened');
      assert.ok(
        proxy.counts.bytes < 2 * server.manifest.size,
        `${proxy.counts.bytes} bytes of chunks delivered for an image of ${server.manifest.size}`,
      );
      assert.match(await everythingSaid(server.session, deployment.id, agent), /trying again in \d+ ms/);
      const verify = await runWinsmith(['disk', 'verify', disk]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  },
);

test(
  "a chunk corrupt in the server's store: failed, naming the chunk; never done",
  { skip: skip ?? false, timeout: 60_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'corrupt-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    await withDeployServer(work, sample.wim, async (server) => {
      const { chunks } = server.manifest;
      const corrupt = chunks.findIndex(
        (c, i) => i >= chunks.length / 2 && chunks.filter((o) => o.digest === c.digest).length === 1,
      );
      const chunk = chunks[corrupt];
      assert.ok(chunk !== undefined, 'a chunk in the second half of the image, there once');
      const file = await open(
        new FsBlobStore(join(server.dataDir, 'blobs')).pathOf(chunkKey(chunk.digest)),
        'r+',
      );
      try {
        const byte = Buffer.alloc(1);
        await file.read(byte, 0, 1, chunk.size >> 1);
        await file.write(Buffer.from([(byte[0] ?? 0) ^ 0x5a]), 0, 1, chunk.size >> 1);
      } finally {
        await file.close();
      }
      const deployment = await started(server, 'uefi');
      const agent = await runAgentProcess(
        work,
        server.url,
        deployment,
        inventoryOf('uefi', [{ path: disk }]),
      );
      assert.equal(agent.code, 1, agent.console);
      const failed = await server.session.deployments.show(deployment.id);
      assert.equal(failed.state, 'failed');
      assert.ok(['boot-files', 'applying'].includes(failed.error?.step ?? ''), failed.error?.step);
      assert.match(
        failed.error?.message ?? '',
        new RegExp(
          `^chunk ${corrupt} \\(${chunk.digest}\\) of the image has SHA-256 [0-9a-f]{64}, expected its digest`,
        ),
      );
      assert.ok(!failed.history.some((h) => h.state === 'done'));
    });
  },
);

test(
  'an unattend fetched before: the server refuses it, and the deployment fails in configuring',
  { skip: skip ?? false, timeout: 60_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'unattend-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    await withDeployServer(work, sample.wim, async (server) => {
      const deployment = await started(server, 'bios');
      const first = await fetch(`${server.url}${AGENT_PATHS.unattend}`, {
        headers: { authorization: `Bearer ${deployment.token}` },
      });
      assert.equal(first.status, 200);
      const agent = await runAgentProcess(
        work,
        server.url,
        deployment,
        inventoryOf('bios', [{ path: disk }]),
      );
      assert.equal(agent.code, 1, agent.console);
      const failed = await server.session.deployments.show(deployment.id);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error?.step, 'configuring');
      assert.match(
        failed.error.message,
        new RegExp(
          `^GET /api/v1/agent/unattend answered HTTP 409: the answer file of deployment ${deployment.id} was already fetched`,
        ),
      );
      assert.deepEqual(
        server.requests(AGENT_PATHS.unattend).map((r) => r.status),
        [200, 409],
      );
      const audit = await server.session.accounts.listAudit(1000);
      assert.ok(audit.some((e) => e.action === 'deployment.unattend.refused' && e.target === deployment.id));
    });
  },
);

test(
  'a token the server refuses: the agent stops at once, saying so, without the token',
  { timeout: 60_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'token-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    await withDeployServer(work, sample.wim, async (server) => {
      const deployment = await started(server, 'uefi');
      const wrong = { id: deployment.id, token: `wsa_${randomBytes(32).toString('base64url')}` };
      const agent = await runAgentProcess(work, server.url, wrong, inventoryOf('uefi', [{ path: disk }]));
      assert.equal(agent.code, 1, agent.console);
      assert.match(
        agent.console,
        /GET \/api\/v1\/agent\/task answered HTTP 401: the agent token opens no deployment under way/,
      );
      assert.ok(!agent.console.includes(wrong.token));
      assert.deepEqual(
        server.requests('/api/v1/agent/').map((r) => [r.method, r.path, r.status]),
        [
          ['GET', AGENT_PATHS.task, 401],
          ['POST', AGENT_PATHS.report, 401],
        ],
        'the task once, the failure report once',
      );
      const untouched = await server.session.deployments.show(deployment.id);
      assert.equal(untouched.state, 'booting');
      assert.deepEqual(await server.session.deployments.logs(deployment.id, 0), []);
    });
  },
);
