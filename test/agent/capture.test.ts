// Capture as the agent runs it, a process against the real server, on disk image files: the sample
// image is deployed to a disk file by the deploy path, then captured back by a capture of the same
// machine. The image committed has the deployed tree (size and SHA-1 of every file), its editions
// read from the WIM by the server, and its lineage names the machine; the capture went through its
// states in order and never wrote the disk. Copies of that disk made BitLocker-like ("-FVE-FS-"
// written over the boot sector's OEM id), dirty (ntfsfix schedules a check) and hibernated (a
// hiberfil.sys that starts with "HIBR") are refused, each with its reason, and left as they were.
// A cut connection is tried again. A capture's token pushes its one image and nothing else: it fetches no deployment's image, and a
// deployment's token may not push.

import assert from 'node:assert/strict';
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CaptureLineage } from '../../src/app/deployments.ts';
import { pullFile } from '../../src/app/transfer.ts';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { DEFAULT_LAYOUTS, planDisk } from '../../src/image/disk/layout.ts';
import { NIL_GUID } from '../../src/formats/guid.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { CAPTURE_STATES_TO_DONE, withDeployServer, type DeployServer } from '../helpers/deploy-server.ts';
import { extractPartition, ntfsTree, run, wimTree } from '../disk/helpers.ts';
import {
  DISK_BYTES,
  everythingSaid,
  inventoryOf,
  runAgentOnDisk,
  runAgentProcess,
  sampleForTests,
  sha256File,
  streamingUnavailable,
} from './agent-fixture.ts';

const skip =
  (await streamingUnavailable()) ??
  (process.getuid?.() === 0 ? null : 'a disk file is read through a loop device (root)');
const sample = sampleForTests('winsmith-agent-capture-');
const MACHINE = { name: 'web-01', mac: '52:54:00:12:34:56' };
const TARGET = { name: 'captured/web-01', tag: 'v1' };

/** The Windows partition of a disk the deploy path wrote with the default UEFI layout. */
function windowsPartition(): { number: number; offset: number; size: number } {
  const plan = planDisk(DEFAULT_LAYOUTS.uefi, DISK_BYTES, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  });
  const windows = plan.partitions.find((p) => p.role === 'windows');
  assert.ok(windows !== undefined);
  return windows;
}

/** Runs `change` on a copy of the disk's Windows volume, then puts the volume back into the disk. */
async function changeVolume(
  disk: string,
  work: string,
  change: (volume: string) => Promise<void>,
): Promise<void> {
  const windows = windowsPartition();
  const volume = await extractPartition(disk, windows.offset, windows.size, join(work, 'volume.ntfs'));
  await change(volume);
  await run('dd', [
    `if=${volume}`,
    `of=${disk}`,
    'bs=1M',
    `seek=${windows.offset}`,
    'oflag=seek_bytes',
    'conv=notrunc,sparse',
    'status=none',
  ]);
  await rm(volume);
}

/** Captures the machine's disk file `disk` (through `via`, a proxy, when given); the agent's end and everything said. */
async function captureDisk(server: DeployServer, disk: string, work: string, tag: string, via = server.url) {
  const capture = await server.capture(MACHINE, tag);
  const agent = await runAgentProcess(work, via, capture, inventoryOf('uefi', [{ path: disk }], MACHINE.mac));
  const view = await server.session.deployments.show(capture.id);
  return { agent, view, said: await everythingSaid(server.session, capture.id, agent) };
}

test(
  'a deployed disk captured back is the deployed image, with its lineage; BitLocker, dirty and hibernated are refused',
  { skip: skip ?? false, timeout: 600_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'capture-'));
    await withDeployServer(work, sample.wim, async (server) => {
      await server.applyProfile({ name: 'web', firmware: 'uefi' });
      await server.addMachine(MACHINE.name, MACHINE.mac);
      const deployment = await server.deploy(MACHINE, 'web');
      const deployed = await runAgentOnDisk(work, server.url, deployment, MACHINE.mac);
      assert.equal(deployed.code, 0, deployed.console);
      const disk = deployed.disk;
      const diskSha = await sha256File(disk);

      // The capture, from the disk file the deploy path wrote, over a bad network: chunk calls
      // answered 503, the commit's answer cut halfway. The agent tries each again; the commit tried
      // again answers the image already committed.
      const chunks = await startFaultProxy(server.url, {
        match: (path) => path.startsWith(AGENT_PATHS.captureChunks),
        unavailable: new Set([2, 5, 9]),
      });
      const commit = await startFaultProxy(chunks.url, {
        match: (path) => path.startsWith(AGENT_PATHS.captureCommit),
        cut: new Set([1]),
      });
      const tag = `${TARGET.name}:${TARGET.tag}`;
      const { agent, view, said } = await captureDisk(server, disk, work, tag, commit.url).finally(
        async () => {
          await commit.close();
          await chunks.close();
        },
      );
      assert.equal(agent.code, 0, said);
      assert.equal(chunks.counts.unavailable, 3);
      assert.equal(commit.counts.cuts, 1);
      assert.equal(commit.counts.requests, 2);
      assert.equal(view.kind, 'capture');
      assert.equal(view.state, 'done');
      assert.deepEqual(
        view.history.map((h) => h.state),
        CAPTURE_STATES_TO_DONE,
      );
      assert.match(said, /Windows was generalized by Sysprep \(SystemSetupInProgress=1/);
      assert.match(said, /capturing partition 3 of .*disk\.raw/);
      assert.equal(await sha256File(disk), diskSha, 'the capture changed the disk it read');

      const image = await server.session.images.getImage(TARGET);
      assert.equal(view.image.digest, image.digest);
      assert.equal(image.mediaType, 'application/x-wim');
      assert.equal(image.editions.length, 1);
      const lineage = (image.recipe as { capturedFrom: CaptureLineage }).capturedFrom;
      assert.equal(lineage.machine, MACHINE.name);
      assert.equal(lineage.mac, MACHINE.mac);
      assert.equal(lineage.deployment, view.id);
      assert.ok(Date.parse(lineage.capturedAt) >= Date.parse(view.createdAt));
      const listed = (await server.session.images.listImages()).find((i) => i.name === TARGET.name);
      assert.equal(listed?.capturedFrom, MACHINE.name);

      // The captured tree is the deployed one: the image's, with the unattend the deployment added.
      const pulled = join(work, 'captured.wim');
      await pullFile(server.session.images, TARGET, pulled);
      assert.equal((await run('wiminfo', [pulled])).includes('Pipable'), true);
      const captured = await wimTree(pulled, 1);
      const windows = windowsPartition();
      const volume = await extractPartition(disk, windows.offset, windows.size, join(work, 'deployed.ntfs'));
      const onDisk = await ntfsTree(volume);
      await rm(volume);
      assert.ok(captured.size > 50);
      assert.deepEqual(new Map([...captured].sort()), new Map([...onDisk].sort()));
      captured.delete('/Windows/Panther/unattend.xml');
      assert.deepEqual(new Map([...captured].sort()), new Map([...(await wimTree(sample.wim, 1))].sort()));

      // The chunks went through the capture's own routes, with its token.
      assert.ok(
        server.requests(AGENT_PATHS.captureChunks).some((r) => r.method === 'PUT' && r.status === 204),
      );

      // Refusals, each on a copy of the disk changed one way.
      const cases: { name: string; change: (volume: string) => Promise<void>; reason: RegExp }[] = [
        {
          name: 'bitlocker',
          async change(volume) {
            const handle = await open(volume, 'r+');
            await handle.write(Buffer.from('-FVE-FS-', 'latin1'), 0, 8, 3);
            await handle.close();
          },
          reason: /BitLocker-encrypted \("-FVE-FS-" in its boot sector\)/,
        },
        {
          name: 'dirty',
          async change(volume) {
            await run('ntfsfix', [volume]);
          },
          reason: /is marked dirty/,
        },
        {
          name: 'hibernated',
          async change(volume) {
            const hiberfil = join(work, 'hiberfil.sys');
            await writeFile(hiberfil, Buffer.concat([Buffer.from('HIBR', 'latin1'), Buffer.alloc(8192)]));
            await run('ntfscp', ['-f', volume, hiberfil, '/hiberfil.sys']);
          },
          reason: /holds a hibernated Windows \(\\hiberfil\.sys starts with "hibr"\)/,
        },
      ];
      for (const c of cases) {
        const copy = join(work, `${c.name}.raw`);
        await copyFile(disk, copy);
        await changeVolume(copy, work, c.change);
        const before = await sha256File(copy);
        const refused = await captureDisk(server, copy, work, `${TARGET.name}:${c.name}`);
        assert.notEqual(refused.agent.code, 0, refused.said);
        assert.equal(refused.view.state, 'failed', c.name);
        const error = refused.view.error;
        assert.ok(error !== null, c.name);
        assert.equal(error.step, 'inspecting', c.name);
        assert.match(error.message, c.reason);
        assert.match(error.message, /winsmith does not change a disk it captures/);
        assert.equal(await sha256File(copy), before, `the ${c.name} disk was changed`);
        await assert.rejects(server.session.images.getImage({ name: TARGET.name, tag: c.name }), /no image/);
        await rm(copy);
      }
    });
  },
);

test(
  "a capture's token pushes its one image, nothing else; a deployment's token pushes nothing",
  { skip: skip ?? false, timeout: 120_000 },
  async () => {
    const work = await mkdtemp(join(sample.dir, 'tokens-'));
    await withDeployServer(work, sample.wim, async (server) => {
      await server.applyProfile({ name: 'web', firmware: 'uefi' });
      await server.addMachine(MACHINE.name, MACHINE.mac);
      await server.addMachine('db-01', '52:54:00:12:34:57');
      const capture = await server.capture(MACHINE, `${TARGET.name}:${TARGET.tag}`);
      const deployment = await server.deploy({ name: 'db-01', mac: '52:54:00:12:34:57' }, 'web');
      const capturing = await server.app.agent(capture.token, 'test');
      const deploying = await server.app.agent(deployment.token, 'test');

      // A capture's token fetches no image, no answer file, no share file.
      await assert.rejects(capturing.manifest(), /is a capture, not a deploy/);
      await assert.rejects(
        capturing.chunk(server.manifest.chunks[0]?.digest ?? ''),
        /is a capture, not a deploy/,
      );
      await assert.rejects(capturing.unattend(), /is a capture, not a deploy/);
      // A deployment's token pushes nothing.
      await assert.rejects(deploying.captureMissing([]), /is a deploy, not a capture/);
      await assert.rejects(
        deploying.captureChunk('0'.repeat(64), new Uint8Array(1)),
        /is a deploy, not a capture/,
      );

      // Chunks of images under other names are asked for again (dedup stays within the capture's
      // name), a chunk whose bytes are not its digest is refused, and the push routes do not know
      // the capture's upload.
      const known = server.manifest.chunks.slice(0, 3).map((c) => c.digest);
      assert.deepEqual(await capturing.captureMissing(known), known);
      await assert.rejects(capturing.captureChunk('0'.repeat(64), new Uint8Array(10)), /SHA-256/);
      const uploadId = (await server.session.deployments.show(capture.id)).uploadId ?? '';
      assert.notEqual(uploadId, '');
      await assert.rejects(server.app.uploadImageName(uploadId), /no upload/);
      // A commit of a manifest whose chunks were never sent is refused; nothing is listed.
      await assert.rejects(capturing.captureCommit({ ...server.manifest }), /was never sent chunk/);
      await assert.rejects(server.session.images.getImage(TARGET), /no image/);
    });
  },
);
