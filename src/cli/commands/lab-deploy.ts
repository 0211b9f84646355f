// `winsmith lab deploy [--firmware uefi|bios] [--secure-boot] [--uefi-chain C] [--data DIR]
// [--bootenv DIR] [--capture] [--keep]`: a whole
// network deployment on this host with nothing set up (src/app/lab.ts): its steps and the
// deployment shown live on stderr, then a summary (times, the disk as read back). Ctrl-C stops it
// and removes what it made.

import { resolve } from 'node:path';
import { defaultPackageCache } from '../../app/bootenv.ts';
import { LAB_CAPTURE, LAB_FIRMWARES, runLabDeployment, type LabSummary } from '../../app/lab.ts';
import { AppError } from '../../core/errors.ts';
import { parseUefiChainOption, type UefiChainSetting } from '../../core/uefi-chain.ts';
import type { CliCommand } from '../command.ts';
import { createDeploymentDisplay } from '../deployment-display.ts';
import { secureBootText } from '../machine-text.ts';
import { formatFields, formatTable, formatBytes } from '../format.ts';
import { createProgressBar } from '../progress-bar.ts';

/** The default time limit of a run: a UEFI deployment under TCG on a busy 2-core host, with room. */
const DEFAULT_TIMEOUT_MINUTES = 30;

function firmwareOf(value: unknown): (typeof LAB_FIRMWARES)[number] {
  const found = LAB_FIRMWARES.find((f) => f === value);
  if (found === undefined) {
    throw new AppError('USAGE', `--firmware: expected uefi or bios, found '${String(value)}'`, {
      hint: 'uefi (OVMF) or bios (SeaBIOS)',
    });
  }
  return found;
}

function uefiChainOf(value: unknown): UefiChainSetting | null {
  return typeof value === 'string' ? parseUefiChainOption(value) : null;
}

function minutesOf(value: unknown): number {
  const text = String(value);
  const minutes = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(minutes >= 1 && minutes <= 1440)) {
    throw new AppError('INVALID_ARGUMENT', `--timeout: expected whole minutes in 1-1440, found '${text}'`, {
      hint: `e.g. --timeout ${DEFAULT_TIMEOUT_MINUTES}`,
    });
  }
  return minutes;
}

function time(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(1)} s`;
}

function summaryText(s: LabSummary): string {
  const t = s.times;
  const disk = s.disk;
  const fields: [string, string][] = [
    ['lab deployment', s.ok ? 'done, the disk would boot' : `NOT done: ${s.deployment.state}`],
    ['firmware', `${s.firmware}${s.secureBoot ? ', Secure Boot enforced' : ''}`],
    [
      'network',
      `${s.network.namespace}: ${s.network.bridge} ${s.network.address}, server ${s.network.server}`,
    ],
    ['machine', `${s.machine.id} MAC ${s.machine.mac} UUID ${s.machine.uuid}`],
    ['secure boot', secureBootText(s.machine.secureBoot, true)],
    ['deployment', `${s.deployment.id}: profile ${s.profile}, image ${s.image}, ${s.deployment.state}`],
    ['registration boot', time(t.registrationSeconds)],
    ['power-on → agent online', time(t.agentOnlineSeconds)],
    ['power-on → applied', time(t.appliedSeconds)],
    ['power-on → done', time(t.doneSeconds)],
    ['whole run', time(t.totalSeconds)],
  ];
  if (s.capture !== null) {
    const c = s.capture.deployment;
    fields.push([
      'capture',
      `${c.id}: into ${c.image.name}:${c.image.tag}, ${c.state}${c.error === null ? '' : `: ${c.error.message}`} (${time(s.capture.seconds)})`,
    ]);
  }
  if (s.deployment.error !== null) {
    fields.push(['error', `${s.deployment.error.message} (in ${s.deployment.error.step})`]);
  }
  const parts = [formatFields(fields)];
  if (disk !== null) {
    const files = disk.bootFiles.filter((f) => !f.endsWith('/'));
    parts.push(
      formatFields([
        [
          'disk',
          `${disk.firmware === 'uefi' ? 'GPT' : 'MBR'} ${disk.diskId ?? ''}, ${formatBytes(disk.size)}`,
        ],
        ['boot files', `${files.length} on partition ${disk.systemPartition ?? '-'}`],
        [
          'BCD',
          disk.bcd === null
            ? 'none'
            : `${disk.bcd.objects.length} objects, default loader ${disk.bcd.loader ?? 'none'}`,
        ],
        ...Object.entries(disk.windowsPaths).map(([p, ok]): [string, string] => [
          p,
          ok ? 'present' : 'MISSING',
        ]),
        ['bootable', disk.bootable ? 'yes' : `NO: ${disk.problems.join('; ')}`],
      ]),
      formatTable(
        ['#', 'start', 'size', 'partition'],
        disk.partitions.map((p) => [
          String(p.number),
          String(p.firstLba),
          formatBytes(p.sectorCount * 512),
          p.name ?? `type ${p.type}${p.active ? ', active' : ''}`,
        ]),
      ),
    );
  }
  parts.push(
    s.kept === null
      ? 'removed: the network namespace, the processes and the files the lab made'
      : `kept for inspection in ${s.kept.dir} (data ${s.data}); remove it with:\n  ${s.kept.remove.join('\n  ')}`,
  );
  return parts.join('\n\n');
}

export const labDeploy: CliCommand = {
  path: ['lab', 'deploy'],
  summary:
    'deploy the sample image to a QEMU VM over a private network on this host, from nothing, then check its disk (root)',
  define(command) {
    command
      .option('--firmware <uefi|bios>', 'the VM: OVMF (UEFI) or SeaBIOS (BIOS)', 'uefi')
      .option(
        '--secure-boot',
        "UEFI with Secure Boot enforced (OVMF's Secure Boot build with Microsoft's keys); the server sends it to shim",
      )
      .option(
        '--uefi-chain <chain>',
        "the server's chain for UEFI machines: shim, ipxe or auto (default: shim with --secure-boot, else auto)",
      )
      .option('--data <dir>', "the server's data directory, kept after (default: a temporary one)")
      .option(
        '--bootenv <dir>',
        "a deploy environment 'winsmith bootenv build -o DIR' made (default: the server builds one on first need)",
      )
      .option(
        '--cache <dir>',
        "where the deploy environment's packages are downloaded and kept, when the server builds it",
        defaultPackageCache(),
      )
      .option(
        '--capture',
        `then capture the VM's disk back into ${LAB_CAPTURE} (the machine boots the deploy environment in capture mode)`,
      )
      .option(
        '--keep',
        'leave the network namespace and the files for inspection, and say how to remove them',
      )
      .option(
        '--timeout <minutes>',
        'give up after this long, removing everything',
        String(DEFAULT_TIMEOUT_MINUTES),
      );
  },
  async run(_ctx, _args, options) {
    const firmware = firmwareOf(options.firmware);
    const timeoutMinutes = minutesOf(options.timeout);
    const stderr = process.stderr;
    const bar = createProgressBar(stderr);
    const display = createDeploymentDisplay(stderr);
    const note = (line: string): void => {
      bar.finish();
      display.note(line);
    };
    const controller = new AbortController();
    const stop = (signal: NodeJS.Signals): void => {
      if (controller.signal.aborted) return;
      note(`lab: ${signal}: stopping, and removing what the lab made`);
      controller.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let summary: LabSummary;
    try {
      summary = await runLabDeployment(
        {
          firmware,
          secureBoot: options.secureBoot === true,
          uefiChain: uefiChainOf(options.uefiChain),
          data: typeof options.data === 'string' ? resolve(options.data) : null,
          bootenv: typeof options.bootenv === 'string' ? resolve(options.bootenv) : null,
          packageCache: resolve(String(options.cache)),
          keep: options.keep === true,
          capture: options.capture === true,
          timeoutMs: timeoutMinutes * 60_000,
          signal: controller.signal,
        },
        (event) => {
          if (event.kind === 'progress') bar.listener(event.event);
          else if (event.kind === 'step') note(`lab: ${event.message}`);
          else display.show(event.deployment);
        },
      );
    } finally {
      bar.finish();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    if (controller.signal.aborted) {
      throw new AppError('INTERRUPTED', 'the lab was stopped by a signal', {
        hint:
          options.keep === true
            ? `what it made is kept in ${summary.kept?.dir ?? 'its directory'}`
            : 'everything it made was removed; run it again when wanted',
      });
    }
    return { data: summary, text: summaryText(summary), ...(summary.ok ? {} : { exitCode: 1 }) };
  },
};
