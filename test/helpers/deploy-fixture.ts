// A data directory ready to deploy from, for tests: a small WIM pushed as `lab/tiny:v1`, a profile
// `lab` for it, and a machine `m1` (registered by hand, so ready). Everything real: the LocalApp on
// SQLite and files, the WIM made by wimlib.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import type { Actor, Session } from '../../src/app/session.ts';
import { pushFile } from '../../src/app/transfer.ts';
import { wimCapture } from '../../src/engines/wimlib.ts';
import { withTempDir } from '../../src/io/output.ts';
import type { DeploymentSettings } from '../../src/app/deployments.ts';

export const OPERATOR: Actor = { user: 'operator', client: 'test' };
export const MACHINE_MAC = '52:54:00:de:00:01';

export const LAB_PROFILE = `name: lab
image: lab/tiny:v1
computerName: LAB-{mac6}
adminPassword: generate
finish: poweroff
`;

export interface DeployFixture {
  readonly app: LocalApp;
  readonly session: Session;
  readonly dir: string;
  readonly machineId: string;
}

/** Runs `fn` on a new data directory with an image, a profile and a ready machine; closed after. */
export async function withDeployFixture(
  fn: (fixture: DeployFixture) => Promise<void>,
  options: { readonly deploy?: DeploymentSettings } = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const app = await LocalApp.openDataDir(join(dir, 'data'), {
      ...(options.deploy === undefined ? {} : { deploy: options.deploy }),
    });
    try {
      const session = app.as(OPERATOR);
      const tree = join(dir, 'tree');
      await mkdir(join(tree, 'Windows'), { recursive: true });
      await writeFile(join(tree, 'Windows', 'hello.txt'), 'hello\n');
      const wim = join(dir, 'tiny.wim');
      await wimCapture(tree, wim, { name: 'tiny', compression: 'none' });
      await pushFile(session.images, wim, { name: 'lab/tiny', tag: 'v1' }, await artifactMetaOf(wim));
      await session.profiles.apply(LAB_PROFILE, 'lab.yaml');
      const machine = await session.machines.add({ name: 'm1', mac: MACHINE_MAC });
      await fn({ app, session, dir, machineId: machine.id });
    } finally {
      await app.close();
    }
  });
}
