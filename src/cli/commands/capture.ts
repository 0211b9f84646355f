// `winsmith capture MACHINE --tag NAME:TAG [--partition N]`: a capture of an approved machine's
// Windows into the repository, queued until the machine network-boots (its boot script then
// starts the deploy environment in capture mode, once). `--watch` follows it to its end.

import type { CliCommand } from '../command.ts';
import { deploymentText } from '../deployment-text.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { watchDeployments } from '../watch-deployments.ts';
import { AppError } from '../../core/errors.ts';

export const capture: CliCommand = {
  path: ['capture'],
  summary:
    "capture an approved machine's Windows into NAME:TAG over the network: queued until it network-boots",
  define(command) {
    command
      .argument('<machine>', 'the machine: its id, MAC or name')
      .requiredOption('--tag <name:tag>', 'the image to make')
      .option(
        '--partition <n>',
        'the partition number to capture (default: the largest NTFS partition holding Windows)',
      )
      .option('--watch', 'follow the capture to its end; exit 1 unless it ends done');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const partition = options.partition === undefined ? undefined : Number(options.partition);
    if (partition !== undefined && !(Number.isInteger(partition) && partition >= 1 && partition <= 128)) {
      throw new AppError(
        'USAGE',
        `--partition: expected a partition number from 1 to 128, found '${String(options.partition)}'`,
        { hint: 'number partitions as sgdisk -p or lsblk does, or leave --partition out' },
      );
    }
    const request = {
      machine: String(args[0]),
      tag: String(options.tag),
      ...(partition === undefined ? {} : { partition }),
    };
    return withRepository(options, async (session) => {
      const started = await session.deployments.capture(request);
      if (options.watch !== true) {
        return {
          data: started,
          text: `${deploymentText(started)}\n\nqueued: the machine is captured when it next network-boots; follow it with 'winsmith deployments --watch'`,
        };
      }
      return watchDeployments(ctx, session, new Set([started.id]));
    });
  },
};
