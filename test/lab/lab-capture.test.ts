// A VM captured over the network, end to end under TCG: `winsmith lab deploy --capture` deploys the
// sample image to a UEFI VM by the deploy path, then queues a capture of it and powers it on again;
// the VM network-boots the deploy environment in capture mode and its agent reads the disk it was
// just given. Kept (--keep) and read back here: the image in the repository has the deployed disk's
// Windows tree (size and SHA-1 of every file), its lineage names the machine, and the capture went
// through its states in order. One VM; the lab's own time limit, and the test's beyond it. The deploy
// environment's packages come from .cache/bootenv-debs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LabSummary } from '../../src/app/lab.ts';
import { listNetns, netnsUnavailable } from '../../src/engines/netns.ts';
import { extractRange } from '../../src/engines/qemu-img.ts';
import { vmUnavailable } from '../../src/engines/qemu-system.ts';
import type { ImageSummary } from '../../src/store/repository.ts';
import { removeKept } from '../helpers/lab-kept.ts';
import { REPO_ROOT, runWinsmith } from '../helpers/cli.ts';
import { ntfsTree, wimTree } from '../disk/helpers.ts';

const PACKAGES = join(REPO_ROOT, '.cache', 'bootenv-debs');
const LAB_TIMEOUT_MINUTES = '25';
const TEST_TIMEOUT_MS = 27 * 60_000;

const skip =
  [
    await netnsUnavailable(),
    await vmUnavailable('uefi'),
    spawnSync('apt-get', ['--version']).error === undefined ? null : 'apt-get is not installed (Debian apt)',
  ].find((r) => r !== null) ?? false;

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'winsmith-lab-capture-'));
});
after(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

test(
  'a VM deployed by the deploy path boots in capture mode; the captured image is the deployed tree, and names the machine',
  { skip, timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const started = performance.now();
    const run = await runWinsmith([
      'lab',
      'deploy',
      '--firmware',
      'uefi',
      '--cache',
      PACKAGES,
      '--capture',
      '--keep',
      '--timeout',
      LAB_TIMEOUT_MINUTES,
      '--json',
    ]);
    t.diagnostic(`lab deploy --capture: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
    const summary = JSON.parse(run.stdout) as LabSummary;
    assert.ok(summary.kept !== null);
    try {
      assert.equal(summary.ok, true);
      assert.equal(summary.deployment.state, 'done');
      const capture = summary.capture?.deployment;
      assert.ok(capture !== undefined);
      t.diagnostic(`capture: ${String(summary.capture?.seconds)} s`);
      assert.equal(capture.kind, 'capture');
      assert.equal(capture.machineId, summary.machine.id);
      assert.deepEqual(
        capture.history.map((h) => h.state),
        ['queued', 'booting', 'agent-online', 'inspecting', 'capturing', 'committing', 'done'],
      );
      const logs = await runWinsmith(['deployment', 'logs', capture.id, '--repo', summary.data]);
      assert.match(logs.stdout, /capturing partition 3 of \/dev\/vda/);
      assert.match(logs.stdout, /Windows was generalized by Sysprep/);

      // The deployed disk's Windows volume, read back from the kept disk.
      const disk = join(summary.kept.dir, 'disk.qcow2');
      const windows = summary.disk?.partitions.find((p) => p.number === summary.disk?.windowsPartition);
      assert.ok(windows !== undefined);
      const volume = join(work, 'windows.img');
      await extractRange(disk, 'qcow2', windows.firstLba * 512, windows.sectorCount * 512, volume);
      const onDisk = await ntfsTree(volume);

      // The captured image, pulled from the repository: the same tree.
      const pulled = join(work, 'captured.wim');
      const pull = await runWinsmith([
        'pull',
        `${capture.image.name}:${capture.image.tag}`,
        '-o',
        pulled,
        '--repo',
        summary.data,
      ]);
      assert.equal(pull.code, 0, pull.stderr);
      const captured = await wimTree(pulled, 1);
      assert.ok(captured.size > 50);
      assert.deepEqual(new Map([...captured].sort()), new Map([...onDisk].sort()));

      // Its lineage names the machine.
      const images = await runWinsmith(['images', '--json', '--repo', summary.data]);
      const listed = (JSON.parse(images.stdout) as ImageSummary[]).find((i) => i.name === capture.image.name);
      assert.equal(listed?.capturedFrom, summary.machine.id);
      assert.equal(listed.digest, capture.image.digest);
    } finally {
      removeKept(summary.kept);
    }
    assert.ok(!(await listNetns()).includes(summary.network.namespace));
  },
);
