// Cancel and retry of a deployment, for users whose role may deploy: cancel while it is under way
// (after a confirmation), retry once it failed or was cancelled.
import { useState } from 'preact/hooks';
import type { Deployment } from '../api-types.ts';
import { segment } from '../api.ts';
import { useConsole } from '../context.ts';
import { machineLabel } from '../format.ts';
import { navigate } from '../router.ts';
import { ConfirmDialog } from './confirm.tsx';
import { ErrorNotice } from './common.tsx';

export const ENDED_STATES: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

export function DeploymentActions({
  deployment,
  onChanged,
}: {
  readonly deployment: Deployment;
  readonly onChanged: (deployment: Deployment) => void;
}) {
  const { api, session } = useConsole();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!session.can.deploy) return null;
  const who = machineLabel(deployment.machine);
  const cancel = (): void => {
    setAsking(false);
    setError(null);
    api.post<Deployment>(`/api/v1/deployments/${segment(deployment.id)}/cancel`).then(onChanged, setError);
  };
  const retry = (): void => {
    setError(null);
    api
      .post<Deployment>(`/api/v1/deployments/${segment(deployment.id)}/retry`)
      .then((made) => navigate('deployments', made.id), setError);
  };
  return (
    <span class="row-actions">
      {ENDED_STATES.has(deployment.state) ? null : (
        <button
          type="button"
          onClick={() => setAsking(true)}
          aria-label={`Cancel deployment ${deployment.id} to ${who}`}
        >
          Cancel
        </button>
      )}
      {deployment.state === 'failed' || deployment.state === 'cancelled' ? (
        <button type="button" onClick={retry} aria-label={`Retry deployment ${deployment.id} to ${who}`}>
          Retry
        </button>
      ) : null}
      <ErrorNotice error={error} />
      {asking ? (
        <ConfirmDialog
          title={`Cancel the deployment to ${who}?`}
          confirmLabel="Cancel the deployment"
          onCancel={() => setAsking(false)}
          onConfirm={cancel}
        >
          <p>
            Its agent stops at its next call and the machine boots from its disk. A disk already being written
            may be left without a working Windows until the deployment is retried.
          </p>
        </ConfirmDialog>
      ) : null}
    </span>
  );
}
