// `winsmith deploy MACHINE --profile P [--image NAME:TAG]`: a deployment of a profile to an
// approved machine, queued until the machine network-boots (its boot script then starts the
// deploy environment, once). `--watch` follows it to its end.

import type { CliCommand } from '../command.ts';
import { deploymentText } from '../deployment-text.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { watchDeployments } from '../watch-deployments.ts';

export const deploy: CliCommand = {
  path: ['deploy'],
  summary: 'deploy a profile to an approved machine: queued until it network-boots',
  define(command) {
    command
      .argument('<machine>', 'the machine: its id, MAC or name')
      .requiredOption('--profile <name>', 'the deployment profile')
      .option('--image <name:tag>', "another image than the profile's")
      .option('--watch', 'follow the deployment to its end; exit 1 unless it ends done');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const request = {
      machine: String(args[0]),
      profile: String(options.profile),
      ...(typeof options.image === 'string' ? { image: options.image } : {}),
    };
    return withRepository(options, async (session) => {
      const deployment = await session.deployments.create(request);
      if (options.watch !== true) {
        return {
          data: deployment,
          text: `${deploymentText(deployment)}\n\nqueued: the machine gets it when it next network-boots; follow it with 'winsmith deployments --watch'`,
        };
      }
      return watchDeployments(ctx, session, new Set([deployment.id]));
    });
  },
};
