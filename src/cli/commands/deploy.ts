// `winsmith deploy MACHINE --profile P [--image NAME:TAG]`: a deployment of a profile to an
// approved machine, queued until the machine network-boots (its boot script then starts the
// deploy environment, once). `--multicast GROUP MACHINE...`: a deployment to each machine, their
// image sent once to all by a multicast session named GROUP, with its rules. `--watch` follows the
// deployments to their end.

import { AppError } from '../../core/errors.ts';
import type { CliCommand } from '../command.ts';
import { DEPLOYMENT_HEADER, deploymentRow, deploymentText } from '../deployment-text.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { watchDeployments } from '../watch-deployments.ts';

/** `500m`, `2g`, `750000k` or `1000000` (bits per second, decimal units) → bits per second. */
export function parseBitrate(text: string): number {
  const m = /^(\d{1,9})([kmg]?)$/i.exec(text);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(m?.[2] ?? '').toLowerCase()] ?? 1;
  const bits = Number(m?.[1]) * unit;
  if (m === null || !(bits >= 1e5)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--max-bitrate: expected bits per second of at least 100k, found '${text}'`,
      {
        hint: 'e.g. --max-bitrate 500m (500 Mbit/s) or --max-bitrate 800000k',
      },
    );
  }
  return bits;
}

function wholeNumber(value: unknown, flag: string, max: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw new AppError('INVALID_ARGUMENT', `${flag}: expected a whole number in 1-${max}, found '${value}'`, {
      hint: `e.g. ${flag} 10`,
    });
  }
  return n;
}

export const deploy: CliCommand = {
  path: ['deploy'],
  summary:
    'deploy a profile to approved machines (several: one multicast session, --multicast): queued until they network-boot',
  define(command) {
    command
      .argument('<machines...>', 'the machine (several with --multicast): its id, MAC or name')
      .requiredOption('--profile <name>', 'the deployment profile')
      .option('--image <name:tag>', "another image than the profile's")
      .option('--multicast <group>', 'send the image once to all the machines: a multicast session named so')
      .option('--min-receivers <n>', 'multicast: start when this many machines joined (default: all of them)')
      .option('--max-wait <seconds>', 'multicast: start anyway this long after the first machine joined')
      .option('--max-bitrate <bits>', 'multicast: the rate cap, bits per second (500m, 800000k)')
      .option(
        '--address <ip>',
        "multicast: the session's address (in 239.0.0.0/8) instead of the next free one",
      )
      .option('--watch', 'follow the deployments to their end; exit 1 unless all end done');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const machines = (args[0] as string[] | undefined) ?? [];
    const common = {
      profile: String(options.profile),
      ...(typeof options.image === 'string' ? { image: options.image } : {}),
    };
    const group = typeof options.multicast === 'string' ? options.multicast : undefined;
    const multicastFlags = ['minReceivers', 'maxWait', 'maxBitrate', 'address'].filter(
      (k) => options[k] !== undefined,
    );
    if (group === undefined && (machines.length !== 1 || multicastFlags.length > 0)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        machines.length !== 1
          ? `${machines.length} machines named: one deployment takes one machine`
          : '--min-receivers, --max-wait, --max-bitrate and --address are rules of a multicast session',
        { hint: 'deploy several machines at once with --multicast GROUP MACHINE...' },
      );
    }
    return withRepository(options, async (session) => {
      if (group === undefined) {
        const deployment = await session.deployments.create({ machine: String(machines[0]), ...common });
        if (options.watch !== true) {
          return {
            data: deployment,
            text: `${deploymentText(deployment)}\n\nqueued: the machine gets it when it next network-boots; follow it with 'winsmith deployments --watch'`,
          };
        }
        return watchDeployments(ctx, session, new Set([deployment.id]));
      }
      const minReceivers = wholeNumber(options.minReceivers, '--min-receivers', 256);
      const maxWaitSeconds = wholeNumber(options.maxWait, '--max-wait', 86_400);
      const list = await session.deployments.createMulticast({
        group,
        machines,
        ...common,
        ...(minReceivers === undefined ? {} : { minReceivers }),
        ...(maxWaitSeconds === undefined ? {} : { maxWaitSeconds }),
        ...(typeof options.maxBitrate === 'string'
          ? { maxBitsPerSecond: parseBitrate(options.maxBitrate) }
          : {}),
        ...(typeof options.address === 'string' ? { address: options.address } : {}),
      });
      if (options.watch === true) return watchDeployments(ctx, session, new Set(list.map((d) => d.id)));
      const address = list[0]?.multicast?.address ?? '';
      return {
        data: list,
        text: `${formatTable(DEPLOYMENT_HEADER, list.map(deploymentRow))}\n\nmulticast session ${group} (${address}): queued; it starts once its machines network-boot and join; follow it with 'winsmith deployments --watch'`,
      };
    });
  },
};
