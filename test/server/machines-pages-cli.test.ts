// `winsmith machines --repo URL` on a server holding more machines than the API's largest page: the
// CLI follows `next` and lists every machine, in order, filtered by the server.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MACHINE_PAGE_MAX } from '../../src/app/session.ts';
import { withTempDir } from '../../src/io/output.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { OPERATOR, isPending, macOf, startInventoryServer } from '../helpers/inventory-server.ts';

const MACHINES = MACHINE_PAGE_MAX + 5;

test('winsmith machines on a server lists every machine, page after page', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const { server } = await startInventoryServer(dir, { images: 0, machines: MACHINES });
    try {
      const login = await fetch(`${server.url}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: OPERATOR.name, password: OPERATOR.password }),
      });
      const { token } = (await login.json()) as { token: string };
      const env = {
        HOME: join(dir, 'home'),
        XDG_CONFIG_HOME: join(dir, 'home', '.config'),
        WINSMITH_TOKEN: token,
      };
      const macs = async (...args: string[]): Promise<string[]> => {
        const run = await runWinsmith(['machines', '--json', '--repo', server.url, ...args], { env });
        assert.equal(run.code, 0, run.stderr);
        return (JSON.parse(run.stdout) as { mac: string }[]).map((m) => m.mac);
      };
      const all = Array.from({ length: MACHINES }, (_, i) => macOf(i));
      assert.deepEqual(await macs(), all);
      assert.deepEqual(
        await macs('--state', 'pending'),
        all.filter((_, i) => isPending(i)),
      );
    } finally {
      await server.close();
    }
  });
});
