// Deployments shown live on stderr as they change: on a terminal, a table of them redrawn in place,
// with any other line printed above it; elsewhere, a timestamped line per state, and per tenth of
// the bytes while applying.

import type { DeploymentView } from '../app/deployments.ts';
import { DEPLOYMENT_HEADER, deploymentRow, progressText } from './deployment-text.ts';
import { formatTable } from './format.ts';

export interface DeploymentDisplay {
  /** The deployment as it is now. */
  show(deployment: DeploymentView): void;
  /** A line of something else: above the table on a terminal, as it is elsewhere. */
  note(line: string): void;
}

export function createDeploymentDisplay(live: NodeJS.WriteStream): DeploymentDisplay {
  const current = new Map<string, DeploymentView>();
  let drawnLines = 0;
  const erase = (): void => {
    if (drawnLines > 0) live.write(`\u001b[${drawnLines}A\u001b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    if (current.size === 0) return;
    const table = formatTable(DEPLOYMENT_HEADER, [...current.values()].map(deploymentRow));
    live.write(`${table}\n`);
    // A line wider than the terminal takes more than one row of it.
    const width = live.columns > 0 ? live.columns : 80;
    drawnLines = table.split('\n').reduce((rows, l) => rows + Math.max(1, Math.ceil(l.length / width)), 0);
  };
  const lastLine = new Map<string, string>();
  const tell = (d: DeploymentView): void => {
    // A line per state, and per tenth of the bytes while applying.
    const key = `${d.state} ${d.progress.total === 0 ? 0 : Math.floor((10 * d.progress.done) / d.progress.total)}`;
    if (lastLine.get(d.id) === key) return;
    lastLine.set(d.id, key);
    const line = `${d.id} ${d.state}${d.error === null ? '' : `: ${d.error.message}`} ${progressText(d)}`;
    live.write(`${new Date().toISOString()} ${line}\n`);
  };
  return {
    show(d) {
      current.set(d.id, d);
      if (live.isTTY) {
        erase();
        draw();
      } else {
        tell(d);
      }
    },
    note(line) {
      if (live.isTTY) erase();
      live.write(`${line}\n`);
      if (live.isTTY) draw();
    },
  };
}
