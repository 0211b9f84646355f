// `winsmith deployments` lists deployments, newest first, with their state and progress;
// `--watch` follows the ones under way, redrawn live, until they end.
// `winsmith deployment show|logs|cancel|retry ID`: one deployment.

import { setTimeout as sleep } from 'node:timers/promises';
import type { CliCommand } from '../command.ts';
import { DEPLOYMENT_HEADER, deploymentRow, deploymentText, hasEnded } from '../deployment-text.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { watchDeployments } from '../watch-deployments.ts';

export const deployments: CliCommand = {
  path: ['deployments'],
  summary: 'list deployments with their state and progress; --watch follows those under way to their end',
  define(command) {
    command
      .option('--machine <machine>', "only this machine's (its id, MAC or name)")
      .option('--active', 'only the deployments under way')
      .option(
        '--watch',
        'follow the deployments under way, live, until they end; exit 1 unless all end done',
      );
    addRepoOption(command);
  },
  async run(ctx, _args, options) {
    const filter = {
      ...(typeof options.machine === 'string' ? { machine: options.machine } : {}),
      ...(options.active === true || options.watch === true ? { active: true } : {}),
    };
    return withRepository(options, async (session) => {
      const list = await session.deployments.list(filter);
      if (options.watch === true && list.length > 0) {
        return watchDeployments(ctx, session, new Set(list.map((d) => d.id)));
      }
      return {
        data: list,
        text:
          list.length === 0
            ? filter.active === true
              ? 'no deployment under way'
              : 'no deployments'
            : formatTable(DEPLOYMENT_HEADER, list.map(deploymentRow)),
      };
    });
  },
};

export const deploymentShow: CliCommand = {
  path: ['deployment', 'show'],
  summary: 'show one deployment: machine, image, state and when each came, progress, disk, error',
  define(command) {
    command.argument('<id>', 'the deployment id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const deployment = await session.deployments.show(String(args[0]));
      return { data: deployment, text: deploymentText(deployment) };
    });
  },
};

export const deploymentLogs: CliCommand = {
  path: ['deployment', 'logs'],
  summary: "print a deployment's agent log; --follow prints new lines until the deployment ends",
  define(command) {
    command
      .argument('<id>', 'the deployment id')
      .option('--follow', 'keep printing lines as they come, until it ends');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const id = String(args[0]);
    return withRepository(options, async (session) => {
      const lines = await session.deployments.logs(id, 0);
      if (options.follow !== true) {
        return { data: lines, text: lines.map((l) => `${l.at} ${l.line}`).join('\n') };
      }
      const out = process.stdout;
      const print = (batch: typeof lines): void => {
        if (ctx.json) for (const l of batch) out.write(`${JSON.stringify(l)}\n`);
        else for (const l of batch) out.write(`${l.at} ${l.line}\n`);
      };
      print(lines);
      let after = lines.at(-1)?.id ?? 0;
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      try {
        for (;;) {
          const { state } = await session.deployments.show(id);
          const batch = await session.deployments.logs(id, after);
          print(batch);
          after = batch.at(-1)?.id ?? after;
          if (hasEnded({ state }) || controller.signal.aborted) {
            return {
              data: { id, state },
              text: `deployment ${id}: ${state}`,
              exitCode: state === 'done' ? 0 : 1,
            };
          }
          await sleep(1000, undefined, { signal: controller.signal }).catch(() => undefined);
        }
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
  },
};

export const deploymentCancel: CliCommand = {
  path: ['deployment', 'cancel'],
  summary: 'cancel a deployment under way: its agent stops at its next call, the machine boots local',
  define(command) {
    command.argument('<id>', 'the deployment id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const deployment = await session.deployments.cancel(String(args[0]));
      return { data: deployment, text: deploymentText(deployment) };
    });
  },
};

export const deploymentRetry: CliCommand = {
  path: ['deployment', 'retry'],
  summary: 'a new deployment like one that failed or was cancelled: same machine, profile and image',
  define(command) {
    command.argument('<id>', 'the deployment id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const deployment = await session.deployments.retry(String(args[0]));
      return { data: deployment, text: deploymentText(deployment) };
    });
  },
};
