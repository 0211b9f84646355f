// A deployment's progress bar: full once it is done (its agent's last report may be short of the
// total), else what the agent reported.
import type { Deployment } from '../api-types.ts';
import { machineLabel } from '../format.ts';
import { ProgressBar } from './common.tsx';

export function DeploymentProgress({ deployment: d }: { readonly deployment: Deployment }) {
  const done = d.state === 'done';
  return (
    <ProgressBar
      done={done ? 1 : d.progress.done}
      total={done ? 1 : d.progress.total}
      label={`Progress of deployment ${d.id} to ${machineLabel(d.machine)}`}
    />
  );
}
