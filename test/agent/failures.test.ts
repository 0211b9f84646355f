// The agent as a process when things go wrong: a disk rule that matches two disks (failed, naming
// both, neither written), a server that cuts chunk answers and answers 503 mid-apply (done, and
// the image is not fetched again from its start), a corrupt chunk (failed, naming it), an unattend
// already fetched (failed, not written without it), and a token the server refuses.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentReport } from '../../src/deploy/agent-protocol.ts';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { runWinsmith } from '../helpers/cli.ts';
import {
  everythingSaid,
  inventoryOf,
  sampleForTests,
  makeDiskFile,
  runAgentProcess,
  sha256File,
  startServer,
  streamingUnavailable,
  taskFor,
  TOKEN,
} from './agent-fixture.ts';
import type { ProtocolTestServer } from './protocol-test-server.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-agent-failures-');

function lastReport(server: ProtocolTestServer): AgentReport {
  const found = server.reports.filter(({ report }) => report.state !== undefined).at(-1)?.report;
  assert.ok(found !== undefined, 'no state was reported');
  return found;
}

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

test('a disk rule that matches two disks: failed naming both, neither written, nothing fetched past the XML', async () => {
  const work = await mkdtemp(join(sample.dir, 'rule-'));
  const a = await usedDiskFile(join(work, 'a.raw'));
  const b = await usedDiskFile(join(work, 'b.raw'));
  const before = [await sha256File(a), await sha256File(b)];
  const server = await startServer(
    sample.wim,
    taskFor('uefi', { model: 'winsmith test disk', size: '>= 32M' }),
  );
  try {
    const agent = await runAgentProcess(
      work,
      server,
      inventoryOf('uefi', [
        { path: a, serial: 'A' },
        { path: b, serial: 'B' },
      ]),
    );
    assert.equal(agent.code, 1, agent.console);
    const last = lastReport(server);
    assert.equal(last.state, 'failed');
    assert.equal(last.error?.step, 'disk');
    assert.match(
      last.error.message,
      /^2 disks match the disk rule \{size: ">= 32M", model: "winsmith test disk"\}, expected exactly one: /,
    );
    assert.ok(
      last.error.message.includes(`${a} (`) && last.error.message.includes(`${b} (`),
      last.error.message,
    );
    assert.deepEqual(
      server.reports.flatMap(({ report }) => (report.state === undefined ? [] : [report.state])),
      ['agent-online', 'failed'],
    );
    assert.deepEqual([await sha256File(a), await sha256File(b)], before);
    assert.equal(server.counts.unattendFetches, 0);
    assert.ok(
      server.counts.chunkBytes < server.manifest.size,
      `${server.counts.chunkBytes} bytes of chunks sent`,
    );
  } finally {
    await server.close();
  }
});

test(
  'cuts and 503s mid-apply: the deployment ends done, without fetching the image again from its start',
  { skip: skip ?? false },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'resume-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    const server = await startServer(sample.wim, taskFor('uefi', {}), {
      cut: new Set([8, 15, 23, 30]),
      unavailable: new Set([11, 12, 27]),
    });
    try {
      const agent = await runAgentProcess(work, server, inventoryOf('uefi', [{ path: disk }]));
      assert.equal(agent.code, 0, agent.console);
      assert.equal(lastReport(server).state, 'done');
      assert.deepEqual([server.counts.cuts, server.counts.unavailable], [4, 3], 'the faults happened');
      assert.ok(
        server.counts.chunkBytes < 2 * server.manifest.size,
        `${server.counts.chunkBytes} bytes of chunks sent for an image of ${server.manifest.size}`,
      );
      assert.match(everythingSaid(server, agent), /trying again in \d+ ms/);
      const verify = await runWinsmith(['disk', 'verify', disk]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await server.close();
    }
  },
);

test('a corrupt chunk: failed, naming the chunk; never done', { skip: skip ?? false }, async () => {
  const work = await mkdtemp(join(sample.dir, 'corrupt-'));
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const probe = await startServer(sample.wim, taskFor('uefi', {}));
  const corrupt = Math.floor(probe.manifest.chunks.length / 2);
  const digest = probe.manifest.chunks[corrupt]?.digest ?? '';
  await probe.close();
  const server = await startServer(sample.wim, taskFor('uefi', {}), { corruptChunk: corrupt });
  try {
    const agent = await runAgentProcess(work, server, inventoryOf('uefi', [{ path: disk }]));
    assert.equal(agent.code, 1, agent.console);
    const last = lastReport(server);
    assert.equal(last.state, 'failed');
    assert.ok(['boot-files', 'applying'].includes(last.error?.step ?? ''), last.error?.step);
    assert.match(
      last.error?.message ?? '',
      new RegExp(
        `^chunk ${corrupt} \\(${digest}\\) of the image has SHA-256 [0-9a-f]{64}, expected its digest`,
      ),
    );
    assert.ok(!server.reports.some(({ report }) => report.state === 'done'));
  } finally {
    await server.close();
  }
});

test(
  'an unattend fetched before: the server refuses it, and the deployment fails in configuring',
  { skip: skip ?? false },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'unattend-'));
    const disk = await makeDiskFile(join(work, 'disk.raw'));
    const server = await startServer(sample.wim, taskFor('bios', {}));
    try {
      const first = await fetch(`${server.url}${AGENT_PATHS.unattend}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(first.status, 200);
      const agent = await runAgentProcess(work, server, inventoryOf('bios', [{ path: disk }]));
      assert.equal(agent.code, 1, agent.console);
      const last = lastReport(server);
      assert.equal(last.state, 'failed');
      assert.equal(last.error?.step, 'configuring');
      assert.match(
        last.error.message,
        /^GET \/api\/v1\/agent\/unattend answered HTTP 409: the unattend of this deployment was fetched already/,
      );
      assert.equal(server.counts.unattendFetches, 2);
    } finally {
      await server.close();
    }
  },
);

test('a token the server refuses: the agent stops at once, saying so, without the token', async () => {
  const work = await mkdtemp(join(sample.dir, 'token-'));
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const server = await startServer(sample.wim, taskFor('uefi', {}));
  try {
    const agent = await runAgentProcess(work, server, inventoryOf('uefi', [{ path: disk }]), 'not-the-token');
    assert.equal(agent.code, 1, agent.console);
    assert.match(
      agent.console,
      /GET \/api\/v1\/agent\/task answered HTTP 401: this route wants the deployment token/,
    );
    assert.ok(!agent.console.includes('not-the-token'));
    assert.equal(server.counts.unauthorized, 2, 'the task once, the failure report once');
    assert.equal(server.counts.chunkRequests, 0);
  } finally {
    await server.close();
  }
});
