// `winsmith deploy --multicast GROUP MACHINE...` against a real server socket: one deployment a
// machine, all in one session whose address is the first of the default range, shown by
// `winsmith deployments` (text and --json) and `deployment show`; a second session of the same
// name while the first is under way, and bad flags, are refused with one line, nothing made.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DeploymentView } from '../../src/app/deployments.ts';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure } from '../helpers/cli.ts';
import { withCliServer } from '../helpers/cli-server.ts';
import { pushTinyImage } from '../helpers/tiny-image.ts';

test(
  'deploy --multicast on a server: a session for several machines, shown by deployments; bad flags refused',
  { timeout: 120_000 },
  async () => {
    await withTempDir(async (dir) => {
      await withCliServer(dir, async ({ winsmith, cli }) => {
        await pushTinyImage(dir, cli);
        await writeFile(join(dir, 'lab.yaml'), 'name: lab\nimage: lab/tiny:v1\nfinish: poweroff\n');
        await cli('profile', 'apply', join(dir, 'lab.yaml'));
        await cli('machine', 'add', 'web-01', '--mac', '52:54:00:ee:00:01');
        await cli('machine', 'add', 'web-02', '--mac', '52:54:00:ee:00:02');

        for (const [args, message] of [
          [
            ['deploy', 'web-01', 'web-02', '--profile', 'lab'],
            /2 machines named: one deployment takes one machine/,
          ],
          [['deploy', 'web-01', '--profile', 'lab', '--max-wait', '10'], /rules of a multicast session/],
          [
            ['deploy', '--multicast', 'rack 1', 'web-01', '--profile', 'lab'],
            /multicast group "rack 1" is not a name/,
          ],
          [
            ['deploy', '--multicast', 'r', 'web-01', '--profile', 'lab', '--max-bitrate', '5x'],
            /--max-bitrate: expected bits per second/,
          ],
          [
            ['deploy', '--multicast', 'r', 'web-01', '--profile', 'lab', '--min-receivers', '2'],
            /the session is to start when 2 machines joined; it has 1/,
          ],
          [
            ['deploy', '--multicast', 'r', 'web-01', '--profile', 'lab', '--address', '224.0.0.5'],
            /224\.0\.0\.5 is not within 239\.0\.0\.0\/8/,
          ],
        ] as const) {
          const run = await winsmith(args);
          assert.ok(isCleanFailure(run), run.stderr);
          assert.match(run.stderr, message);
        }
        assert.deepEqual(JSON.parse(await cli('deployments', '--json')) as unknown, []);

        const made = JSON.parse(
          await cli(
            'deploy',
            '--multicast',
            'rack-1',
            'web-01',
            'web-02',
            '--profile',
            'lab',
            '--max-bitrate',
            '500m',
            '--json',
          ),
        ) as DeploymentView[];
        assert.deepEqual(
          made.map((d) => [
            d.machine.name,
            d.state,
            d.multicast?.group,
            d.multicast?.state,
            d.multicast?.address,
          ]),
          [
            ['web-01', 'queued', 'rack-1', 'waiting', '239.192.85.1'],
            ['web-02', 'queued', 'rack-1', 'waiting', '239.192.85.1'],
          ],
        );
        assert.equal(made[0]?.multicast?.session, made[1]?.multicast?.session);
        const again = await winsmith(['deploy', '--multicast', 'rack-1', 'web-01', '--profile', 'lab']);
        assert.ok(isCleanFailure(again), again.stderr);
        assert.match(again.stderr, /multicast session rack-1 is under way/);

        assert.match(await cli('deployments'), /web-01 .* rack-1 waiting \(session queued\)/);
        const listed = JSON.parse(await cli('deployments', '--json')) as DeploymentView[];
        assert.deepEqual(
          listed.map((d) => d.multicast?.sessionState),
          ['queued', 'queued'],
        );
        assert.match(
          await cli('deployment', 'show', made[0]?.id ?? ''),
          /multicast:\s+rack-1 waiting \(session queued\), 239\.192\.85\.1/,
        );
      });
    });
  },
);
