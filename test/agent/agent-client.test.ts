// The agent's client of the protocol against the test server: what it refuses to take (a manifest
// that is not the task's image, a chunk longer than the manifest says), and which failures it marks
// as worth another attempt (a cut, a 503) or not (a chunk the server does not have).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentClient, RequestError } from '../../src/agent/agent-client.ts';
import { AppError } from '../../src/core/errors.ts';
import { sampleForTests, startServer, taskFor, TOKEN } from './agent-fixture.ts';

const sample = sampleForTests('winsmith-agent-client-');

test("the task, and a manifest checked against the task's image", async () => {
  const server = await startServer(sample.wim, taskFor('uefi', {}));
  try {
    const client = new AgentClient({ server: server.url, token: TOKEN });
    const task = await client.task();
    assert.deepEqual(task, server.task);
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
    await server.close();
  }
});

test('chunk failures: a cut and a 503 may pass if tried again, a missing chunk or a longer one will not', async () => {
  const server = await startServer(sample.wim, taskFor('uefi', {}), {
    cut: new Set([1]),
    unavailable: new Set([2]),
  });
  try {
    const client = new AgentClient({ server: server.url, token: TOKEN });
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
        e.message === `chunk ${first.digest} is ${first.size} bytes, expected ${first.size - 1}`,
    );
  } finally {
    await server.close();
  }
});

test('a server that does not answer: a retryable failure naming the server, not the token', async () => {
  const server = await startServer(sample.wim, taskFor('uefi', {}));
  const url = server.url;
  await server.close();
  const client = new AgentClient({ server: url, token: TOKEN });
  await assert.rejects(
    client.task(),
    (e: unknown) =>
      e instanceof RequestError &&
      e.retryable &&
      e.message.startsWith(`GET /api/v1/agent/task: no answer from ${url}: `) &&
      !e.message.includes(TOKEN),
  );
});
