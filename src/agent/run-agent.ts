// One deployment, as the agent runs it in the deploy environment:
//   task         fetch the task (tried again while the server cannot answer)
//   inventory    read the machine; report agent-online with it
//   image        fetch the manifest (checked to be the task's image); read the WIM's header and
//                XML through its chunks
//   disk         check the layout; choose the disk by the task's rule (no guess: fail naming the
//                candidates)
//   share-files  read the profile's customize: steps; fetch the deployment share's files they use
//   boot-files   mount the streamed image; take the boot files and the BCD template out of it;
//                check that it has \Windows\Panther — nothing has been written yet
//   partitioning the table, FAT32 on the ESP, NTFS on a recovery partition
//   applying     mkntfs and wimlib's apply of the edition, streamed, with progress
//   customize    (state configuring) the steps applied to the mounted Windows volume
//   configuring  the unattend (fetched once) into \Windows\Panther, boot files and the BCD
//   finalizing   unmount, flush, close; then done, and reboot or power off as the task says
// A capture's task (kind capture) goes on from agent-online with src/agent/run-capture.ts instead.
// Each step's failure is reported as failed with the step's name; a corrupt chunk or a server
// gone for good is reported as itself, not as the I/O error wimlib saw. Nothing is written to a
// disk before the disk step has chosen it.

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, errorText } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import type { AgentInventory, AgentTask } from '../deploy/agent-protocol.ts';
import { decodeXml } from '../formats/unattend/xml.ts';
import { REQUIRED_BOOT_FILES, extractBootFiles } from '../image/disk/boot-files.ts';
import {
  applyWindowsVolume,
  bootStoreFor,
  diskNeeds,
  partitionOf,
  randomIdentity,
  readBcdTemplate,
  requireUnattendDirectory,
} from '../image/disk/build.ts';
import { checkLayout, planDisk, type DiskLayout } from '../image/disk/layout.ts';
import { formatSize } from '../image/disk/size.ts';
import { windowsPartitionNeeds } from '../image/disk/windows-size.ts';
import { readWimInfo, type WimEdition } from '../image/wim-info.ts';
import type { Manifest } from '../store/manifest.ts';
import { AgentClient, isRetryable, type RequestError } from './agent-client.ts';
import type { AgentConfig } from './agent-config.ts';
import { chooseDisk, describeDisk, describeRule } from './disk-rule.ts';
import { openDiskTarget, type DiskTarget, type NtfsVolume } from './disk-target.ts';
import { customizeVolume } from './customize-volume.ts';
import { ImageChunks } from './image-chunks.ts';
import { openNbdFile } from '../io/nbd-file.ts';
import { Reporter, REPORTER_DEFAULTS } from './reporter.ts';
import { captureSteps } from './run-capture.ts';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';
import { SecretScrubber, unattendSecrets } from './secrets.ts';
import { prepareProfileSteps } from './share-files.ts';
import { installBootFiles, partitionDisk, writeUnattend } from './write-disk.ts';
import { messageOf } from './messages.ts';
import { applyMaybeMulticast } from './multicast-apply.ts';

export interface AgentEnvironment {
  readonly config: AgentConfig;
  /** The machine's inventory (of the machine itself, or of an inventory file). */
  readonly inventory: () => Promise<AgentInventory>;
  /** Restarts or powers off the machine, once the deployment is done and reported. */
  readonly finish: (action: AgentTask['finish']) => Promise<void>;
  /** A private directory for the agent's scratch files; emptied at the end. */
  readonly workDir: string;
  /** The machine's console. */
  readonly print: (line: string) => void;
  readonly retry?: RetryPolicy;
  /** A network namespace udp-receiver runs in (a test's machine network); none when absent. */
  readonly receiveNetns?: string;
}

export type AgentOutcome = 'done' | 'failed';

/** How long the last report (done or failed) may take to get through before the agent goes on. */
const FINAL_REPORT_MS = 5 * 60_000;

/** The task's layout as winsmith disk takes it, after the checks a bootable disk needs. */
function layoutOf(task: AgentTask, inventory: AgentInventory): DiskLayout {
  if (task.layout.firmware !== task.firmware) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the task's layout is for ${task.layout.firmware} firmware, its machine for ${task.firmware}`,
      { hint: "make the deployment's layout and firmware agree" },
    );
  }
  if (inventory.firmware !== task.firmware) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the task is for ${task.firmware} firmware; this machine booted the deploy environment with ${inventory.firmware}`,
      {
        hint: `set the machine's firmware to ${inventory.firmware} in the deployment, or boot the machine in ${task.firmware} mode`,
      },
    );
  }
  const layout: DiskLayout = {
    firmware: task.layout.firmware,
    partitions: task.layout.partitions.map((p) => ({
      role: p.role,
      size: p.size,
      ...(p.guid === undefined ? {} : { guid: p.guid }),
      ...(p.label === undefined ? {} : { label: p.label }),
    })),
  };
  checkLayout(layout, "the task's layout");
  return layout;
}

function editionOf(info: Awaited<ReturnType<typeof readWimInfo>>, task: AgentTask): WimEdition {
  const edition = info.images[task.image.index - 1];
  if (edition === undefined) {
    throw new AppError(
      'NOT_FOUND',
      `${task.image.name}:${task.image.tag} has no edition ${task.image.index}; it holds ${info.images.length}`,
      { hint: 'choose one of its editions in the deployment' },
    );
  }
  if (info.parts !== 1) {
    throw new AppError(
      'FORMAT_UNSUPPORTED',
      `${task.image.name}:${task.image.tag} is one part of a split WIM`,
      {
        hint: 'join the parts (winsmith image join) and push the whole image',
      },
    );
  }
  return edition;
}

/** Fails when the extracted Windows\Boot (`bootDir`) lacks what the firmware boots from. */
async function checkBootDirectory(bootDir: string, task: AgentTask): Promise<void> {
  for (const required of REQUIRED_BOOT_FILES[task.firmware]) {
    const local = join(bootDir, ...required.slice('/Windows/Boot/'.length).split('/'));
    if (
      !(await stat(local).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      throw new AppError(
        'NOT_FOUND',
        `${task.image.name}:${task.image.tag} has no ${required.replaceAll('/', '\\')}, which ${task.firmware} boot needs`,
        { hint: 'deploy an image of an installed Windows with the boot files of this firmware' },
      );
    }
  }
}

/** Runs the deployment the kernel command line names; never throws. */
export async function runAgent(env: AgentEnvironment): Promise<AgentOutcome> {
  const retry = env.retry ?? DEFAULT_RETRY;
  const scrubber = new SecretScrubber();
  scrubber.add(env.config.token);
  const client = new AgentClient(env.config);
  const cancel: { reason: RequestError | null; image: ImageChunks | null } = { reason: null, image: null };
  const cancelled = new AbortController();
  const reporter = new Reporter({
    ...REPORTER_DEFAULTS,
    send: (report) => client.report(report),
    scrubber,
    print: env.print,
    onRefused(error) {
      cancel.reason = error;
      cancel.image?.fail(error);
      cancelled.abort(error);
    },
  });
  const log = (line: string): void => reporter.log(line);
  const retrying = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    withRetry(what, fn, {
      policy: retry,
      retryable: isRetryable,
      onRetry: (e, attempt, delay) =>
        log(
          `${what}: ${errorText(e)}; trying again in ${delay} ms (attempt ${attempt + 1} of ${retry.attempts})`,
        ),
    });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (let close = closers.pop(); close !== undefined; close = closers.pop()) {
      await close().catch((e: unknown) => log(`cleaning up: ${errorText(e)}`));
    }
  };
  let step = 'task';
  const enter = (name: string): void => {
    if (cancel.reason !== null) throw cancel.reason;
    step = name;
  };
  const started = Date.now();
  /** Reports done, then restarts or powers off the machine as the task says. */
  const finished = async (finish: AgentTask['finish']): Promise<AgentOutcome> => {
    enter('done');
    log(`done in ${Math.round((Date.now() - started) / 1000)} s; then ${finish}`);
    reporter.state({ state: 'done' });
    if (!(await reporter.flush(FINAL_REPORT_MS)))
      env.print('the server did not take the last report; going on');
    reporter.stop();
    // The work is done and reported: a machine that cannot restart itself is left for someone
    // to restart.
    await env.finish(finish).catch((e: unknown) => env.print(`cannot ${finish}: ${messageOf(e)}`));
    return 'done';
  };
  try {
    const fetched = await retrying('fetching the task', () => client.task());
    reporter.start(fetched.heartbeatSeconds * 500);
    enter('inventory');
    const inventory = await env.inventory();
    reporter.state({ state: 'agent-online', inventory });
    if ('kind' in fetched) {
      await captureSteps({
        task: fetched,
        inventory,
        client,
        reporter,
        log,
        retrying,
        enter,
        checkStopped: () => {
          if (cancel.reason !== null) throw cancel.reason;
        },
        closers,
      });
      await closeAll();
      return await finished(fetched.finish);
    }
    const task = fetched;
    log(
      `deployment ${task.deployment}: ${task.image.name}:${task.image.tag} edition ${task.image.index} to machine ${task.machine.name ?? task.machine.id} (${task.firmware})`,
    );
    log(`inventory: ${inventory.disks.map(describeDisk).join(', ') || 'no disks'}`);

    enter('image');
    const scratch = join(env.workDir, 'scratch');
    await mkdir(scratch, { mode: 0o700 });
    const manifest: Manifest = await retrying('fetching the manifest', () => client.manifest(task.image));
    const image = new ImageChunks(manifest, (chunk, index, into) =>
      retrying(`chunk ${index}`, () => client.chunk(chunk.digest, chunk.size, into)),
    );
    cancel.image = image;
    const edition = editionOf(await readWimInfo(image), task);
    log(
      `image: ${manifest.chunks.length} chunks, ${formatSize(manifest.size)}; edition ${task.image.index}: ${edition.name ?? 'no name'}`,
    );

    enter('disk');
    const layout = layoutOf(task, inventory);
    const need = diskNeeds(layout, windowsPartitionNeeds(edition, manifest.size * 3));
    const disk = chooseDisk(inventory.disks, task.disk, need);
    log(
      `disk ${describeDisk(disk)}, chosen by ${describeRule(task.disk)}; the image needs ${formatSize(need)}`,
    );

    enter('share-files');
    const customize = await prepareProfileSteps(task.customize, client, join(env.workDir, 'share'), retrying);
    if (customize.steps.length > 0) {
      log(
        `customize: ${customize.steps.map((st) => st.kind).join(', ')}; ${customize.files} files of the deployment share fetched (${formatSize(customize.bytes)})`,
      );
    }

    enter('boot-files');
    const streamDir = join(env.workDir, 'image');
    await mkdir(streamDir, { mode: 0o700 });
    const stream = await openNbdFile(image, streamDir, 'image.wim');
    closers.push(() => stream.close());
    const index = task.image.index;
    const bootDir = await extractBootFiles(stream.path, index, scratch);
    await checkBootDirectory(bootDir, task);
    const template = await readBcdTemplate(stream.path, index, scratch);
    await requireUnattendDirectory(stream.path, index, `${task.image.name}:${task.image.tag}`);

    enter('partitioning');
    reporter.state({ state: 'partitioning', disk: disk.path });
    const plan = planDisk(layout, disk.size, randomIdentity(layout.partitions.length));
    const target: DiskTarget = await openDiskTarget(disk.path, disk.size, scratch);
    closers.push(() => target.close());
    await partitionDisk(target, plan);
    log(
      `${plan.firmware === 'uefi' ? `GPT disk ${plan.diskGuid}` : `MBR disk ${plan.diskSignature.toString(16).padStart(8, '0')}`}: ${plan.partitions.map((p) => `${p.number} ${p.role} ${formatSize(p.size)}`).join(', ')}`,
    );

    enter('applying');
    reporter.state({ state: 'applying' });
    const windows = partitionOf(plan, 'windows');
    const volume: NtfsVolume = await target.ntfsVolume(windows);
    const onProgress: ProgressListener = (e) => {
      if (e.unit === 'bytes') reporter.progress(e.done, e.total);
    };
    const came = await applyMaybeMulticast({
      join: () => retrying('asking how to receive the image', () => client.multicast()),
      unicast: () => applyWindowsVolume(volume.path, windows, stream.path, index, onProgress),
      report: (multicast) => reporter.multicast(multicast),
      log,
      onProgress,
      volume: volume.path,
      partition: windows,
      netns: env.receiveNetns ?? null,
      signal: cancelled.signal,
    });
    log(
      `applied edition ${index} (${came}); ${image.fetchedBytes} bytes of chunks fetched for the ${manifest.size} of the image`,
    );

    enter('configuring');
    reporter.state({ state: 'configuring' });
    if (customize.steps.length > 0) {
      enter('customize');
      const changes = await customizeVolume({
        volume: volume.path,
        steps: customize.steps,
        edition,
        firstbootId: customize.id,
        scratch,
        log,
      });
      log(`customize: ${changes} changes made to the Windows volume`);
      enter('configuring');
    }
    const unattend = await retrying('fetching the unattend', () => client.unattend());
    scrubber.add(...unattendSecrets(decodeXml(unattend)));
    await writeUnattend(volume.path, unattend, scratch);
    await volume.close();
    await installBootFiles(target, plan, bootDir, bootStoreFor(plan, template), scratch);
    log(`unattend, boot files and BCD written for ${plan.firmware} boot`);

    enter('finalizing');
    reporter.state({ state: 'finalizing' });
    await closeAll();
    return await finished(task.finish);
  } catch (e) {
    const error = cancel.reason ?? cancel.image?.failure ?? e;
    await closeAll();
    if (cancel.reason !== null) {
      reporter.log(`stopped: ${messageOf(error)}`);
      return 'failed';
    }
    reporter.log(`failed in step ${step}: ${messageOf(error)}`);
    reporter.state({ state: 'failed', error: { message: messageOf(error), step } });
    if (!(await reporter.flush(FINAL_REPORT_MS))) env.print('the server did not take the failure report');
    return 'failed';
  } finally {
    reporter.stop();
    client.close();
  }
}
