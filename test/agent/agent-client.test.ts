// The agent's client of the protocol against the real server: the task of its deployment, what it
// refuses to take (a manifest that is not the task's image, a chunk longer than the manifest says),
// and which failures it marks as worth another attempt (a cut and a 503 on the way, a server that
// does not answer) or not (a chunk the server does not have).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { AgentClient, RequestError } from '../../src/agent/agent-client.ts';
import { AppError } from '../../src/core/errors.ts';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { DEFAULT_LAYOUTS } from '../../src/image/disk/layout.ts';
import {
  IMAGE_REF,
  startDeployServer,
  withDeployServer,
  type DeployServer,
} from '../helpers/deploy-server.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { sampleForTests } from './agent-fixture.ts';

const sample = sampleForTests('winsmith-agent-client-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };

async function started(server: DeployServer) {
  await server.applyProfile({ name: 'web', firmware: 'uefi', disk: { serial: 'S1' } });
  await server.addMachine(MACHINE.name, MACHINE.mac);
  return server.deploy(MACHINE, 'web');
}

test("the task of the token's deployment, and a manifest checked against the task's image", async () => {
  await withDeployServer(await mkdtemp(join(sample.dir, 'task-')), sample.wim, async (server) => {
    const deployment = await started(server);
    const client = new AgentClient({ server: server.url, token: deployment.token });
    try {
      const task = await client.task();
      const machine = await server.session.machines.get(MACHINE.name);
      assert.deepEqual(task, {
        deployment: deployment.id,
        machine: { id: machine.id, name: MACHINE.name, mac: MACHINE.mac },
        firmware: 'uefi',
        layout: {
          firmware: 'uefi',
          partitions: DEFAULT_LAYOUTS.uefi.partitions.map((p) => ({ ...p })),
        },
        disk: { serial: 'S1' },
        image: {
          ...IMAGE_REF,
          digest: server.image.digest,
          size: server.image.size,
          sha256: server.image.sha256,
          index: 1,
        },
        finish: 'reboot',
        customize: null,
        heartbeatSeconds: 2,
      });
      assert.deepEqual(await client.manifest(task.image), server.manifest);
      const other = { ...task.image, digest: 'f'.repeat(64) };
      await assert.rejects(
        client.manifest(other),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === 'FORMAT_INVALID' &&
          e.message.startsWith(`the manifest is ${task.image.digest}, `) &&
          e.message.includes(`expected the task's image windows/server-2022:sample (${'f'.repeat(64)}, `),
      );
    } finally {
      client.close();
    }
  });
});

test('chunk failures: a cut and a 503 may pass if tried again, a missing chunk or a longer one will not', async () => {
  await withDeployServer(await mkdtemp(join(sample.dir, 'chunks-')), sample.wim, async (server) => {
    const deployment = await started(server);
    const proxy = await startFaultProxy(server.url, {
      match: (path) => path.startsWith(AGENT_PATHS.chunk),
      cut: new Set([1]),
      unavailable: new Set([2]),
    });
    const client = new AgentClient({ server: proxy.url, token: deployment.token });
    try {
      const first = server.manifest.chunks[0];
      assert.ok(first !== undefined);
      const retryable = (status: number | null) => (e: unknown) =>
        e instanceof RequestError && e.retryable && e.status === status;
      await assert.rejects(client.chunk(first.digest, first.size), retryable(null));
      await assert.rejects(client.chunk(first.digest, first.size), retryable(503));
      assert.equal((await client.chunk(first.digest, first.size)).byteLength, first.size);
      await assert.rejects(
        client.chunk('0'.repeat(64), 10),
        (e: unknown) => e instanceof RequestError && !e.retryable && e.code === 'NOT_FOUND',
      );
      await assert.rejects(
        client.chunk(first.digest, first.size - 1),
        (e: unknown) =>
          e instanceof AppError &&
          !(e instanceof RequestError) &&
          e.code === 'LIMIT_EXCEEDED' &&
          e.message ===
            `chunk ${first.digest}: the server's HTTP 200 answer has a body of ${first.size} bytes, expected at most ${first.size - 1}`,
      );
      assert.deepEqual([proxy.counts.cuts, proxy.counts.unavailable], [1, 1]);
    } finally {
      client.close();
      await proxy.close();
    }
  });
});

test('a share file is checked against the SHA-256 listed: a bad resume is fetched again, a changed file refused', async () => {
  await withDeployServer(await mkdtemp(join(sample.dir, 'share-')), sample.wim, async (server) => {
    const script = join(server.dataDir, 'share', 'scripts', 'a.cmd');
    await mkdir(dirname(script), { recursive: true });
    await writeFile(script, 'echo from the share\r\n');
    await server.applyProfile({
      name: 'web',
      firmware: 'uefi',
      more: 'customize:\n  - firstboot: [ { cmd: { file: scripts/a.cmd } } ]\n',
    });
    await server.addMachine(MACHINE.name, MACHINE.mac);
    const deployment = await server.deploy(MACHINE, 'web');
    const client = new AgentClient({ server: server.url, token: deployment.token });
    const dest = join(server.dataDir, 'fetched.cmd');
    try {
      const [file] = await client.shareFiles();
      assert.ok(file !== undefined);
      // What a cut fetch of an older version of the file left: resumed, it cannot match.
      await writeFile(dest, 'ECHO FROM');
      await client.shareFile(file, dest);
      assert.equal(await readFile(dest, 'utf8'), 'echo from the share\r\n');
      await rm(dest);
      await writeFile(script, 'echo from the SHARE\r\n');
      await assert.rejects(
        client.shareFile(file, dest),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === 'FORMAT_INVALID' &&
          e.message === 'share file scripts/a.cmd does not match the SHA-256 the server listed for it',
      );
      await assert.rejects(stat(dest), { code: 'ENOENT' });
    } finally {
      client.close();
    }
  });
});

test('a server that does not answer: a retryable failure naming the server, not the token', async () => {
  const server = await startDeployServer(join(await mkdtemp(join(sample.dir, 'gone-')), 'data'), sample.wim);
  const deployment = await started(server).finally(() => server.close());
  const client = new AgentClient({ server: server.url, token: deployment.token });
  try {
    await assert.rejects(
      client.task(),
      (e: unknown) =>
        e instanceof RequestError &&
        e.retryable &&
        e.message.startsWith(`GET /api/v1/agent/task: no answer from ${server.url}: `) &&
        !e.message.includes(deployment.token),
    );
  } finally {
    client.close();
  }
});
