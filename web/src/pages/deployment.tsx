// One deployment: its machine, image and profile, its state and the history of its states, its
// progress bar and the agent's log, all moved by the server's `deployment` events; cancel, retry.
import type { Deployment } from '../api-types.ts';
import { segment } from '../api.ts';
import { DeploymentActions } from '../components/deployment-actions.tsx';
import { DeploymentProgress } from '../components/deployment-progress.tsx';
import { ErrorNotice, PageTitle, Pending, StateBadge } from '../components/common.tsx';
import { LogView } from '../components/log-view.tsx';
import { formatBytes, formatTime, machineLabel } from '../format.ts';
import { useDeploymentEvents } from '../live.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';

export function DeploymentPage({ id }: { readonly id: string }) {
  const deployment = useLoad((api) => api.get<Deployment>(`/api/v1/deployments/${segment(id)}`), [id]);
  const replace = (d: Deployment): void => {
    if (d.id === id) deployment.set(() => d);
  };
  useDeploymentEvents(replace);
  const d = deployment.data;
  return (
    <>
      <PageTitle>Deployment {id}</PageTitle>
      <p>
        <a href={href('deployments')}>All deployments</a>
      </p>
      <ErrorNotice error={deployment.error} />
      {d === null ? (
        <Pending loaded={deployment} what="the deployment" />
      ) : (
        <>
          <div class="status-line">
            <StateBadge state={d.state} />
            <DeploymentProgress deployment={d} />
            <DeploymentActions deployment={d} onChanged={replace} />
          </div>
          {d.error === null ? null : (
            <div class="notice error" role="alert">
              <p>
                Failed in {d.error.step}: {d.error.message}
              </p>
            </div>
          )}
          <dl class="facts">
            <dt>Kind</dt>
            <dd>{d.kind}</dd>
            <dt>Machine</dt>
            <dd>
              {machineLabel(d.machine)}
              {d.machine.mac === null ? null : <span class="muted mono"> {d.machine.mac}</span>}
            </dd>
            <dt>Profile</dt>
            <dd>{d.profile}</dd>
            <dt>Image</dt>
            <dd>
              <a href={href('images', d.image.name, d.image.tag)}>
                {d.image.name}:{d.image.tag}
              </a>{' '}
              <span class="muted">
                edition {d.image.edition}, {formatBytes(d.image.size)}
              </span>
            </dd>
            <dt>Disk</dt>
            <dd>{d.disk ?? '—'}</dd>
            <dt>Started by</dt>
            <dd>{d.createdBy ?? '—'}</dd>
            <dt>Last report</dt>
            <dd>{formatTime(d.lastReportAt)}</dd>
          </dl>
          <section aria-labelledby="history">
            <h2 id="history">States</h2>
            <ol class="history">
              {d.history.map((h) => (
                <li key={`${h.state}${h.at}`}>
                  <StateBadge state={h.state} /> <span class="muted">{formatTime(h.at)}</span>
                </li>
              ))}
            </ol>
          </section>
          <section aria-labelledby="agent-log">
            <h2 id="agent-log">Agent log</h2>
            <LogView
              path={`/api/v1/deployments/${segment(id)}/logs`}
              version={d.updatedAt}
              label={`The agent's log of deployment ${id}`}
            />
          </section>
        </>
      )}
    </>
  );
}
