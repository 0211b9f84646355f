// Following deployments to their end: a table of them redrawn in place on a terminal (one line
// per change elsewhere) on stderr, until every one followed has ended or Ctrl-C. The result is the
// deployments as they ended; exit status 1 when one of them did not end `done`.

import type { DeploymentView } from '../app/deployments.ts';
import type { Session } from '../app/session.ts';
import type { CliContext, CliResult } from './command.ts';
import { DEPLOYMENT_HEADER, deploymentRow, progressText } from './deployment-text.ts';
import { formatTable } from './format.ts';

const ENDED = new Set(['done', 'failed', 'cancelled']);

export async function watchDeployments(
  ctx: CliContext,
  session: Session,
  ids: ReadonlySet<string>,
): Promise<CliResult> {
  const live = process.stderr;
  const current = new Map<string, DeploymentView>();
  for (const id of ids) current.set(id, await session.deployments.show(id));
  const controller = new AbortController();
  let drawnLines = 0;
  const draw = (): void => {
    const table = formatTable(DEPLOYMENT_HEADER, [...current.values()].map(deploymentRow));
    if (drawnLines > 0) live.write(`\u001b[${drawnLines}A\u001b[J`);
    live.write(`${table}\n`);
    drawnLines = table.split('\n').length;
  };
  const lastLine = new Map<string, string>();
  const tell = (d: DeploymentView): void => {
    const line = `${d.id} ${d.state}${d.error === null ? '' : `: ${d.error.message}`} ${progressText(d)}`;
    // Without a terminal: a line per state, and per tenth of the bytes while applying.
    const key = `${d.state} ${d.progress.total === 0 ? 0 : Math.floor((10 * d.progress.done) / d.progress.total)}`;
    if (lastLine.get(d.id) === key) return;
    lastLine.set(d.id, key);
    live.write(`${new Date().toISOString()} ${line}\n`);
  };
  const allEnded = (): boolean => [...current.values()].every((d) => ENDED.has(d.state));
  const show = (d: DeploymentView): void => {
    if (ctx.json) return;
    if (live.isTTY) draw();
    else tell(d);
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
  const notDone = ended.filter((d) => d.state !== 'done');
  return {
    data: ended,
    text: formatTable(DEPLOYMENT_HEADER, ended.map(deploymentRow)),
    exitCode: notDone.length === 0 && allEnded() ? 0 : 1,
  };
}
