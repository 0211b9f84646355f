// The deployments, newest first, a page at a time, each with its state and a progress bar that the
// server's `deployment` events move (no polling).
import type { Deployment } from '../api-types.ts';
import { DeploymentActions } from '../components/deployment-actions.tsx';
import { DeploymentProgress } from '../components/deployment-progress.tsx';
import { ErrorNotice, PageTitle, Pending, StateBadge } from '../components/common.tsx';
import { MoreButton } from '../components/more.tsx';
import { Table } from '../components/table.tsx';
import { formatTime, machineLabel } from '../format.ts';
import { upsert, useDeploymentEvents } from '../live.ts';
import { usePaged } from '../paged.ts';
import { href } from '../router.ts';

export function DeploymentsPage() {
  const deployments = usePaged<Deployment>('/api/v1/deployments', 'deployments');
  const replace = (d: Deployment): void => deployments.set((list) => upsert(list, d));
  useDeploymentEvents(replace);
  const list = deployments.items ?? [];
  return (
    <>
      <PageTitle>Deployments</PageTitle>
      <ErrorNotice error={deployments.error} />
      {deployments.items === null ? (
        <Pending loaded={deployments} what="deployments" />
      ) : list.length === 0 ? (
        <p>
          No deployment yet: start one from <a href={href('machines')}>Machines</a>.
        </p>
      ) : (
        <>
          <Table
            columns={[
              'Deployment',
              'Machine',
              'Image',
              'State',
              'Progress',
              'Updated',
              { label: 'Actions', hidden: true },
            ]}
          >
            {list.map((d) => (
              <tr key={d.id} data-deployment={d.id}>
                <td>
                  <a href={href('deployments', d.id)}>{d.id}</a>
                  {d.kind === 'capture' ? <span class="muted"> (capture)</span> : null}
                </td>
                <td>{machineLabel(d.machine)}</td>
                <td>
                  {d.image.name}:{d.image.tag}
                </td>
                <td>
                  <StateBadge state={d.state} />
                </td>
                <td>
                  <DeploymentProgress deployment={d} />
                </td>
                <td>{formatTime(d.updatedAt)}</td>
                <td>
                  <DeploymentActions deployment={d} onChanged={replace} />
                </td>
              </tr>
            ))}
          </Table>
          <MoreButton paged={deployments} what="deployments" />
        </>
      )}
    </>
  );
}
