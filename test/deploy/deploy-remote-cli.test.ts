// The deployment commands against a real server socket: a profile applied and a machine deployed
// through the API, and `deployments --watch` following the deployment by the server's events
// while an agent (plain HTTP calls here) takes it to done; it exits 0 with the deployment done.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTempDir } from '../../src/io/output.ts';
import { withCliServer } from '../helpers/cli-server.ts';
import { pushTinyImage } from '../helpers/tiny-image.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test(
  'deploy and deployments --watch on a server, followed by its events to done',
  { timeout: 180_000 },
  async () => {
    await withTempDir(async (dir) => {
      await withCliServer(dir, async ({ server, app, env, cli }) => {
        await pushTinyImage(dir, cli);
        await writeFile(join(dir, 'lab.yaml'), "name: lab\nimage: lab/tiny:v1\ncomputerName: '{name}'\n");
        await cli('profile', 'apply', join(dir, 'lab.yaml'));
        await cli('machine', 'add', 'web-01', '--mac', '52:54:00:ee:00:01');
        const made = JSON.parse(await cli('deploy', 'web-01', '--profile', 'lab', '--json')) as {
          id: string;
        };

        const watch = spawn(process.execPath, [MAIN, 'deployments', '--watch', '--json'], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        watch.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        watch.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number>((resolve) => watch.on('close', (code) => resolve(code ?? 128)));

        const started = await app.bootPorts().registry.startDeployment('52:54:00:ee:00:01');
        assert.ok(started !== null);
        // Once the watch listens to the server's events, the changes are made.
        while (app.events.listenerCount === 0) await new Promise((resolve) => setTimeout(resolve, 50));
        for (const state of [
          'agent-online',
          'partitioning',
          'applying',
          'configuring',
          'finalizing',
          'done',
        ]) {
          const response = await fetch(`${server.url}/api/v1/agent/report`, {
            method: 'POST',
            headers: { authorization: `Bearer ${started.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ state, progress: { done: 10, total: 10 } }),
          });
          assert.equal(response.status, 204);
        }
        const code = await Promise.race([
          exited,
          new Promise<number>((_, reject) =>
            setTimeout(() => reject(new Error(`watch did not end: ${stderr}`)), 30_000),
          ),
        ]);
        assert.equal(code, 0, stderr);
        const ended = JSON.parse(stdout) as { id: string; state: string }[];
        assert.deepEqual(
          ended.map((d) => [d.id, d.state]),
          [[made.id, 'done']],
        );
      });
    });
  },
);
