// A profile's customize: steps applied by the agent as a process against the real server: the
// server's deployment share holds a driver package (the real viostor INF) and a PowerShell script;
// the profile has a drivers step and a firstboot step with an inline script and the share's script.
// Afterwards the deployed disk's Windows volume, read without mounting it (ntfscat, ntfsls, and the
// project's regf code for the hives), has SetupComplete.cmd running the scripts, the scripts' bytes,
// the package staged under Windows\Drivers\winsmith, DevicePath in the SOFTWARE hive and the
// driver's boot service in SYSTEM; `winsmith disk verify` still passes. A share file cut off
// mid-way is fetched on from where it stopped. The agent's token opens no
// file of the share the profile does not name. A step that fails fails the deployment with its
// message, and leaves nothing mounted.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { ntfsListDirectory } from '../../src/engines/ntfs.ts';
import { decodeRegData, Hive } from '../../src/formats/regf/index.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { withDeployServer, type DeployServer, type StartedDeployment } from '../helpers/deploy-server.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { realFixture } from '../helpers/fixtures.ts';
import { runBytes } from '../disk/helpers.ts';
import {
  everythingSaid,
  runAgentOnDisk,
  sampleForTests,
  streamingUnavailable,
  windowsVolume,
} from './agent-fixture.ts';

const VIOSTOR = realFixture('drivers/virtio-win-0.1.240/viostor/2k22/amd64/viostor.inf');
const skip = (await streamingUnavailable()) ?? VIOSTOR.skip;
const sample = sampleForTests('winsmith-agent-customize-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };
const SCRIPT = "Write-Output 'from the share'\r\n# é\r\n";
const STEPS = `customize:
  - drivers: [ drivers/viostor ]
  - firstboot:
      - { cmd: 'echo inline' }
      - { powershell: { file: 'scripts\\first.ps1' } }
`;

/** The deployment share of the server: the driver package, the script, and a file no step names. */
async function fillShare(server: DeployServer): Promise<void> {
  const share = join(server.dataDir, 'share');
  await mkdir(join(share, 'drivers', 'viostor'), { recursive: true });
  await mkdir(join(share, 'scripts'));
  await mkdir(join(share, 'secret'));
  await writeFile(join(share, 'drivers', 'viostor', 'viostor.inf'), await readFile(VIOSTOR.path));
  await writeFile(join(share, 'drivers', 'viostor', 'viostor.sys'), 'winsmith stand-in for viostor.sys\r\n');
  await writeFile(join(share, 'drivers', 'viostor', 'viostor.cat'), 'winsmith stand-in for viostor.cat\r\n');
  await writeFile(join(share, 'scripts', 'first.ps1'), SCRIPT);
  await writeFile(join(share, 'secret', 'other.txt'), 'no step names this');
}

function shareGet(server: DeployServer, deployment: StartedDeployment, path: string, range?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${deployment.token}` };
  if (range !== undefined) headers.range = range;
  return fetch(`${server.url}${AGENT_PATHS.files}${path}`, { headers });
}

/** What the agent's token opens of the share: the named files only, a Range of them. */
async function checkShareRoutes(server: DeployServer, deployment: StartedDeployment): Promise<void> {
  const listed = (await (await shareGet(server, deployment, '')).json()) as { files: { path: string }[] };
  assert.deepEqual(
    listed.files.map((f) => f.path),
    [
      'drivers/viostor/viostor.cat',
      'drivers/viostor/viostor.inf',
      'drivers/viostor/viostor.sys',
      'scripts/first.ps1',
    ],
  );
  const part = await shareGet(
    server,
    deployment,
    `/${encodeURIComponent('scripts/first.ps1')}`,
    'bytes=6-11',
  );
  assert.equal(part.status, 206);
  assert.equal(await part.text(), 'Output');
  for (const path of ['secret/other.txt', 'drivers/viostor/../../secret/other.txt', 'drivers']) {
    const refused = await shareGet(server, deployment, `/${encodeURIComponent(path)}`);
    assert.equal(refused.status, 403, path);
    assert.doesNotMatch(await refused.text(), /no step names this/);
  }
}

/**
 * A deployment of a UEFI profile with `steps` to the machine, its agent run as a process on a disk
 * file of `work` talking to `url` (the server's by default), after `before` is given the deployment.
 */
async function deployWithSteps(
  work: string,
  server: DeployServer,
  steps: string,
  options: {
    readonly url?: string;
    readonly before?: (server: DeployServer, deployment: StartedDeployment) => Promise<void>;
  } = {},
) {
  await server.applyProfile({ name: 'web', firmware: 'uefi', more: steps });
  await server.addMachine(MACHINE.name, MACHINE.mac);
  const deployment = await server.deploy(MACHINE, 'web');
  await options.before?.(server, deployment);
  const agent = await runAgentOnDisk(work, options.url ?? server.url, deployment, MACHINE.mac);
  return { deployment, agent };
}

async function volumeFile(volume: string, path: string): Promise<Buffer> {
  return runBytes('ntfscat', [volume, path]);
}

test(
  "a profile's drivers and first-boot scripts, from the deployment share and inline, on the deployed disk",
  { skip, timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'steps-'));
    await withDeployServer(work, sample.wim, async (server) => {
      await fillShare(server);
      // The first share file the agent fetches is cut halfway: it fetches the rest with a Range.
      const proxy = await startFaultProxy(server.url, {
        match: (path) => path.startsWith(`${AGENT_PATHS.files}/`),
        cut: new Set([1]),
      });
      const { deployment, agent } = await deployWithSteps(work, server, STEPS, {
        url: proxy.url,
        before: checkShareRoutes,
      }).finally(() => proxy.close());
      assert.equal(proxy.counts.cuts, 1);
      const { disk } = agent;
      assert.equal(agent.code, 0, agent.console);
      const said = await everythingSaid(server.session, deployment.id, agent);
      assert.match(said, /customize: drivers, firstboot; 4 files of the deployment share fetched/);
      assert.match(said, /step 1 drivers: stage \/Windows\/Drivers\/winsmith\/viostor\/viostor\.inf/);
      assert.match(
        said,
        /step 0 firstboot: add \/Windows\/Setup\/Scripts\/SetupComplete\.cmd \(runs 3 first-boot scripts\)/,
      );

      const verify = await runWinsmith(['disk', 'verify', disk]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);

      const volume = await windowsVolume(disk, 'uefi', work);
      const scripts = (await ntfsListDirectory(volume, '/Windows/Setup/Scripts')) ?? [];
      const folder = scripts.find((name) => name.startsWith('winsmith-'));
      assert.ok(folder !== undefined, scripts.join(', '));
      const setup = (await volumeFile(volume, '/Windows/Setup/Scripts/SetupComplete.cmd')).toString();
      for (const name of ['01-cmd.cmd', '02-cmd.cmd', '03-powershell.ps1'])
        assert.ok(setup.includes(`%WINDIR%\\Setup\\Scripts\\${folder}\\${name}"`), setup);
      assert.equal(
        (await volumeFile(volume, `/Windows/Setup/Scripts/${folder}/03-powershell.ps1`)).toString(),
        SCRIPT,
      );
      assert.equal(
        (await volumeFile(volume, `/Windows/Setup/Scripts/${folder}/02-cmd.cmd`)).toString(),
        'echo inline\r\n',
      );
      assert.match(
        (await volumeFile(volume, `/Windows/Setup/Scripts/${folder}/01-cmd.cmd`)).toString(),
        /^pnputil\.exe \/add-driver "%WINDIR%\\Drivers\\winsmith\\viostor\\viostor\.inf" \/install\r\n$/,
      );

      assert.deepEqual((await ntfsListDirectory(volume, '/Windows/Drivers/winsmith/viostor'))?.sort(), [
        'viostor.cat',
        'viostor.inf',
        'viostor.sys',
      ]);
      for (const name of ['viostor.cat', 'viostor.inf', 'viostor.sys']) {
        assert.deepEqual(
          await volumeFile(volume, `/Windows/Drivers/winsmith/viostor/${name}`),
          await readFile(join(server.dataDir, 'share', 'drivers', 'viostor', name)),
        );
      }
      const software = Hive.parse(
        new Uint8Array(await volumeFile(volume, '/Windows/System32/config/SOFTWARE')),
      );
      const devicePath = software.getKey('Microsoft\\Windows\\CurrentVersion')?.value('DevicePath');
      assert.ok(devicePath !== undefined);
      assert.match(String(decodeRegData(devicePath)), /;%SystemRoot%\\Drivers\\winsmith$/);
      const system = Hive.parse(new Uint8Array(await volumeFile(volume, '/Windows/System32/config/SYSTEM')));
      const start = system.getKey('ControlSet001\\Services\\viostor')?.value('Start');
      assert.equal(start === undefined ? undefined : decodeRegData(start), 0);
    });
  },
);

test(
  'a step that fails fails the deployment with its message, in step customize, and leaves nothing mounted',
  { skip, timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'failing-'));
    await withDeployServer(work, sample.wim, async (server) => {
      const steps = "customize:\n  - files: { remove: [ 'Windows\\NoSuchFolder' ] }\n";
      const { deployment, agent } = await deployWithSteps(work, server, steps);
      assert.equal(agent.code, 1, agent.console);
      const failed = await server.session.deployments.show(deployment.id);
      assert.equal(failed.state, 'failed');
      assert.ok(failed.error !== null);
      assert.equal(failed.error.step, 'customize');
      assert.match(failed.error.message, /^profile web:9:24: 'Windows\\NoSuchFolder' is not in the image — /);
      assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), /windows-volume/);
    });
  },
);
