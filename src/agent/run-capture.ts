// A capture, as the agent runs it once its task says so (after agent-online):
//   inspecting  the machine's partitions read; the partition chosen (the task's, or the largest
//               clean NTFS one holding Windows); BitLocker, dirty and hibernated volumes refused
//               (src/agent/capture-inspect.ts); the Sysprep state read from the SYSTEM hive, a
//               warning logged when Windows was not generalized
//   capturing   wimlib's NTFS-3G mode reads the volume, read only, and writes a pipable WIM to its
//               stdout, which is cut and pushed as it comes (src/agent/capture-push.ts); progress
//               is wimlib's, in bytes of file data
//   committing  the manifest sent: the server checks every chunk and the whole, and lists the image
// Nothing is ever written to the machine's disks.

import type { AgentInventory, CaptureTask } from '../deploy/agent-protocol.ts';
import { wimCaptureStream } from '../engines/wimlib.ts';
import { formatSize } from '../image/disk/size.ts';
import type { AgentClient } from './agent-client.ts';
import {
  choosePartition,
  describePartition,
  inspectVolumes,
  openCaptureSource,
  type InspectedVolume,
} from './capture-inspect.ts';
import { pushCaptureStream } from './capture-push.ts';
import type { Reporter } from './reporter.ts';

export interface CaptureContext {
  readonly task: CaptureTask;
  readonly inventory: AgentInventory;
  readonly client: AgentClient;
  readonly reporter: Reporter;
  readonly log: (line: string) => void;
  readonly retrying: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  /** Enters a step (throws when the capture was stopped on the server). */
  readonly enter: (step: string) => void;
  /** Throws when the capture was stopped on the server. */
  readonly checkStopped: () => void;
  /** What must be closed at the end, whatever happens. */
  readonly closers: (() => Promise<void>)[];
}

function describeVolume(v: InspectedVolume): string {
  const what =
    v.state.kind === 'bitlocker'
      ? 'BitLocker'
      : `NTFS${v.state.dirty === true ? ', dirty' : ''}${v.windows === true ? ', Windows' : ''}`;
  return `${describePartition(v.partition)}: ${what}`;
}

/** The capture's steps, from inspecting to the image committed. */
export async function captureSteps(ctx: CaptureContext): Promise<void> {
  const { task, reporter, log } = ctx;
  const machine = task.machine.name ?? task.machine.mac ?? task.machine.id;
  const target = `${task.target.name}:${task.target.tag}`;
  log(`capture ${task.deployment}: machine ${machine} into ${target}`);

  ctx.enter('inspecting');
  reporter.state({ state: 'inspecting' });
  const volumes = await inspectVolumes(ctx.inventory.disks.filter((d) => !d.removable));
  log(`volumes: ${volumes.map(describeVolume).join('; ') || 'none'}`);
  const chosen = choosePartition(volumes, task.partition);
  const source = await openCaptureSource(chosen);
  ctx.closers.push(() => source.volume.close());
  log(`capturing ${describePartition(chosen.partition)}, read only`);
  if (source.sysprep === null) {
    log(
      `warning: the SYSTEM hive could not be read (${source.hiveProblem ?? 'unknown'}); whether Windows was generalized is not known`,
    );
  } else if (source.sysprep.generalized) {
    log(`Windows was generalized by Sysprep (${source.sysprep.evidence})`);
  } else {
    log(
      `warning: Windows was not generalized (${source.sysprep.evidence}): an image deployed to several machines should be made after 'sysprep /generalize /oobe /shutdown'`,
    );
  }

  ctx.enter('capturing');
  reporter.state({ state: 'capturing', disk: chosen.partition.disk.path });
  const stop = new AbortController();
  ctx.closers.push(async () => {
    stop.abort();
    await Promise.resolve();
  });
  const capture = wimCaptureStream(source.volume.path, {
    name: target,
    description: `captured from ${machine}`,
    signal: stop.signal,
    onProgress(e) {
      if (e.unit === 'bytes') reporter.progress(e.done, e.total);
    },
  });
  const pushing = pushCaptureStream(capture.stdout, {
    client: ctx.client,
    chunking: task.chunking,
    retrying: ctx.retrying,
    checkStopped: ctx.checkStopped,
  });
  // A failed push leaves wimcapture waiting on a full pipe: it is stopped (closers) when the step fails.
  const [pushed] = await Promise.all([pushing, capture.done]);
  const { manifest } = pushed;
  log(
    `captured ${formatSize(manifest.size)} in ${manifest.chunks.length} chunks; ${pushed.sentChunks} sent (${formatSize(pushed.sentBytes)}), the rest already on the server`,
  );

  ctx.enter('committing');
  reporter.state({ state: 'committing' });
  const image = await ctx.retrying('committing the image', () => ctx.client.captureCommit(manifest));
  log(
    `committed ${image.name}:${image.tag} (sha256:${image.digest.slice(0, 12)}…, ${formatSize(image.size)})`,
  );
}
