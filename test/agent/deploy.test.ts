// The agent as a process against the test server of the agent protocol, deploying the sample
// image onto disk image files, UEFI and BIOS: afterwards `winsmith disk verify` passes, the BCD
// names this disk's partitions, the unattend is in \Windows\Panther, the NTFS tree is the image's,
// and the reports went through every state in order with progress that grew; the unattend was
// fetched once and no secret was said.

import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { NIL_GUID } from '../../src/formats/guid.ts';
import { DEFAULT_LAYOUTS, planDisk } from '../../src/image/disk/layout.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { extractPartition, ntfsTree, run, wimTree } from '../disk/helpers.ts';
import {
  DISK_BYTES,
  everythingSaid,
  inventoryOf,
  sampleForTests,
  makeDiskFile,
  PASSWORD,
  runAgentProcess,
  startServer,
  streamingUnavailable,
  taskFor,
  TOKEN,
  UNATTEND,
} from './agent-fixture.ts';
import type { ProtocolTestServer } from './protocol-test-server.ts';

const skip = await streamingUnavailable();
const sample = sampleForTests('winsmith-agent-deploy-');

interface VerifyJson {
  bootable: boolean;
  problems: string[];
  firmware: string;
  diskId: string;
  systemPartition: number;
  windowsPartition: number;
  partitions: { number: number; firstLba: number; uniqueGuid: string | null }[];
}

function statesOf(server: ProtocolTestServer): string[] {
  return server.reports.flatMap(({ report }) => (report.state === undefined ? [] : [report.state]));
}

async function deployAndCheck(firmware: 'uefi' | 'bios'): Promise<void> {
  const work = await mkdtemp(join(sample.dir, `${firmware}-`));
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const other = await makeDiskFile(join(work, 'other.raw'));
  const task = taskFor(firmware, { serial: 'SERIAL-A' });
  // A slow link makes the apply last a few seconds, long enough for several progress reports.
  const server = await startServer(sample.wim, task, { bytesPerSecond: 768 * 1024 });
  try {
    const agent = await runAgentProcess(
      work,
      server,
      inventoryOf(firmware, [
        { path: other, serial: 'SERIAL-B' },
        { path: disk, serial: 'SERIAL-A' },
      ]),
    );
    assert.equal(agent.code, 0, agent.console);
    assert.match(agent.console, /finish: reboot \(not done: --no-finish\)/);
    assert.deepEqual(server.badReports, []);

    // Every state once, in order; the inventory once, with agent-online; the disk with partitioning.
    assert.deepEqual(statesOf(server), [
      'agent-online',
      'partitioning',
      'applying',
      'configuring',
      'finalizing',
      'done',
    ]);
    const withInventory = server.reports.filter(({ report }) => report.inventory !== undefined);
    assert.equal(withInventory.length, 1);
    assert.equal(withInventory[0]?.report.state, 'agent-online');
    assert.equal(withInventory[0].report.inventory?.disks.length, 2);
    const withDisk = server.reports.filter(({ report }) => report.disk !== undefined);
    assert.deepEqual(
      withDisk.map(({ report }) => [report.state, report.disk]),
      [['partitioning', disk]],
    );

    // Progress: bytes that grow to the total, reported more than once.
    const progress = server.reports.flatMap(({ report }) =>
      report.progress === undefined ? [] : [report.progress],
    );
    assert.ok(progress.length >= 2, `${progress.length} progress reports`);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(
        (progress[i]?.done ?? 0) > (progress[i - 1]?.done ?? 0),
        `progress went ${JSON.stringify(progress)}`,
      );
    }
    const last = progress.at(-1);
    assert.ok(last !== undefined && last.total > 0 && last.done === last.total, JSON.stringify(last));

    // A report at least every half heartbeat (1 s here), with as much again for a busy machine.
    const gaps = server.reports.slice(1).map((r, i) => r.at - (server.reports[i]?.at ?? r.at));
    assert.ok(Math.max(...gaps) < 2000, `gaps between reports: ${gaps.join(', ')} ms`);

    // The unattend was fetched once; another fetch is refused.
    assert.equal(server.counts.unattendFetches, 1);
    const again = await fetch(`${server.url}${AGENT_PATHS.unattend}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(again.status, 409);

    // No secret in anything the agent said.
    const said = everythingSaid(server, agent);
    assert.ok(!said.includes(TOKEN), 'the token was said');
    assert.ok(!said.includes(PASSWORD), 'the password was said');

    // The other disk was not touched; this one verifies.
    assert.equal((await stat(other)).blocks, 0, 'the other disk file was written');
    const verify = await runWinsmith(['disk', 'verify', disk, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const report = JSON.parse(verify.stdout) as VerifyJson;
    assert.equal(report.bootable, true, report.problems.join('; '));
    assert.equal(report.firmware, firmware);

    // The partitions are where the layout puts them, with this disk's identity in the BCD (verify
    // checks that the BCD's devices point at these partitions of this disk).
    const plan = planDisk(DEFAULT_LAYOUTS[firmware], DISK_BYTES, {
      diskGuid: NIL_GUID,
      diskSignature: 1,
      partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
    });
    assert.deepEqual(
      report.partitions.map((p) => p.firstLba),
      plan.partitions.map((p) => p.firstLba),
    );
    assert.equal(report.windowsPartition, firmware === 'uefi' ? 3 : 2);
    assert.notEqual(report.diskId, firmware === 'uefi' ? NIL_GUID : '00000000');

    const windows = plan.partitions.find((p) => p.role === 'windows');
    assert.ok(windows !== undefined);
    const volume = await extractPartition(disk, windows.offset, windows.size, join(work, 'windows.ntfs'));
    const unattend = await run('ntfscat', [volume, '/Windows/Panther/unattend.xml']);
    assert.equal(unattend, UNATTEND);
    const onDisk = await ntfsTree(volume);
    onDisk.delete('/Windows/Panther/unattend.xml');
    const inWim = await wimTree(sample.wim, 1);
    assert.ok(inWim.size > 50);
    assert.deepEqual(new Map([...onDisk].sort()), new Map([...inWim].sort()));
  } finally {
    await server.close();
  }
}

test(
  'a UEFI deployment onto a disk image file: verified, BCD for this disk, unattend, the image tree, every state',
  { skip: skip ?? false },
  () => deployAndCheck('uefi'),
);

test(
  'a BIOS deployment onto a disk image file: verified, BCD for this disk, unattend, the image tree, every state',
  { skip: skip ?? false },
  () => deployAndCheck('bios'),
);
