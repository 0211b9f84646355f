import { mkdtemp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { MiB } from '../src/image/disk/size.ts';
import { startDeployServer } from '../test/helpers/deploy-server.ts';
import { openMulticastNetwork } from '../test/helpers/multicast-network.ts';
import { inventoryOf, makeDiskFile, startAgentProcess } from '../test/agent/agent-fixture.ts';

const work = await mkdtemp(join(tmpdir(), 'mcdbg-'));
const wim = join(work, 's.wim');
await buildSampleImage(wim, { seed: 11, size: 6 * MiB });
const network = await openMulticastNetwork(2);
const server = await startDeployServer(join(work, 'data'), wim, {
  heartbeatSeconds: 1,
  multicast: { interface: 'br0', netns: network.server, retriesUntilDrop: 8, receiveTimeoutSeconds: 10 },
});
try {
  await server.applyProfile({ name: 'web', firmware: 'uefi' });
  const macs = ['52:54:00:00:0c:01', '52:54:00:00:0c:02'];
  for (const [i, mac] of macs.entries()) await server.addMachine(`m${i}`, mac);
  const views = await server.session.deployments.createMulticast({ group: 'g', machines: ['m0', 'm1'], profile: 'web', maxWaitSeconds: 20 });
  console.log(views.map((v) => v.multicast));
  const agents = [];
  for (const [i, v] of views.entries()) {
    const st = await server.app.bootPorts().registry.startDeployment(macs[i]!);
    const dir = join(work, `a${i}`);
    await mkdir(dir);
    const disk = await makeDiskFile(join(dir, 'disk.raw'));
    agents.push(await startAgentProcess(dir, server.url, { id: v.id, token: st!.token }, inventoryOf('uefi', [{ path: disk }], macs[i]), { receiveNetns: network.machines[i]! }));
  }
  const t = setInterval(async () => {
    const l = await server.session.deployments.list({});
    console.log(l.map((d) => `${d.state} ${JSON.stringify(d.multicast)}`).join('\n'));
  }, 3000);
  const runs = await Promise.race([Promise.all(agents.map((a) => a.done)), new Promise((r) => setTimeout(() => r('timeout'), 90_000))]);
  clearInterval(t);
  console.log(typeof runs === 'string' ? runs : (runs as { console: string }[]).map((r) => r.console).join('\n-----\n'));
  for (const a of agents) await a.endGroup();
} finally {
  await server.close();
  await network.close();
}
