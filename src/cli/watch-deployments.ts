// Following deployments to their end, shown live on stderr (src/cli/deployment-display.ts), until
// every one followed has ended or Ctrl-C. The result is the deployments as they ended; exit status
// 1 when one of them did not end `done`.

import type { DeploymentView } from '../app/deployments.ts';
import type { Session } from '../app/session.ts';
import type { CliContext, CliResult } from './command.ts';
import { createDeploymentDisplay } from './deployment-display.ts';
import { DEPLOYMENT_HEADER, deploymentRow, hasEnded } from './deployment-text.ts';
import { formatTable } from './format.ts';

export async function watchDeployments(
  ctx: CliContext,
  session: Session,
  ids: ReadonlySet<string>,
): Promise<CliResult> {
  const current = new Map<string, DeploymentView>();
  for (const id of ids) current.set(id, await session.deployments.show(id));
  const controller = new AbortController();
  const display = createDeploymentDisplay(process.stderr);
  const allEnded = (): boolean => [...current.values()].every(hasEnded);
  const show = (d: DeploymentView): void => {
    if (!ctx.json) display.show(d);
  };
  for (const d of current.values()) show(d);
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    if (!allEnded()) {
      const reread = async (): Promise<void> => {
        for (const id of ids) {
          const d = await session.deployments.show(id);
          current.set(id, d);
          show(d);
        }
        if (allEnded()) controller.abort();
      };
      const watching = session.deployments.watch(
        (d) => {
          if (!ids.has(d.id)) return;
          current.set(d.id, d);
          show(d);
          if (allEnded()) controller.abort();
        },
        controller.signal,
        // Changes made before the watch began (or while it reconnected) are read once more.
        () => void reread().catch(() => controller.abort()),
      );
      await watching;
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
  const ended = [...current.values()];
  return {
    data: ended,
    text: formatTable(DEPLOYMENT_HEADER, ended.map(deploymentRow)),
    exitCode: ended.every((d) => d.state === 'done') ? 0 : 1,
  };
}
