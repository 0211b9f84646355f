// The builds the user may see, running and past, newest first; kept current by `build` events.
import type { Build } from '../api-types.ts';
import { ErrorNotice, PageTitle, Pending, StateBadge } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { formatTime } from '../format.ts';
import { upsert, useBuildEvents } from '../live.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';

function BuildTable({ builds, caption }: { readonly builds: readonly Build[]; readonly caption: string }) {
  return (
    <Table
      columns={['Build', 'State', 'Output', 'Recipe', 'Started by', 'Created', 'Ended']}
      caption={caption}
    >
      {builds.map((b) => (
        <tr key={b.id}>
          <td>
            <a href={href('builds', b.id)}>{b.id}</a>
          </td>
          <td>
            <StateBadge state={b.state} />
          </td>
          <td>{b.output}</td>
          <td>{b.recipe.file}</td>
          <td>{b.owner}</td>
          <td>{formatTime(b.createdAt)}</td>
          <td>{formatTime(b.endedAt)}</td>
        </tr>
      ))}
    </Table>
  );
}

export function BuildsPage() {
  const builds = useLoad((api) => api.get<{ builds: Build[] }>('/api/v1/builds'), []);
  useBuildEvents((build) =>
    builds.set((data) => (data === null ? data : { builds: upsert(data.builds, build) })),
  );
  const list = builds.data?.builds ?? [];
  const running = list.filter((b) => b.state === 'running' || b.state === 'queued');
  const past = list.filter((b) => b.state !== 'running' && b.state !== 'queued');
  return (
    <>
      <PageTitle>Builds</PageTitle>
      <ErrorNotice error={builds.error} />
      {builds.data === null ? (
        <Pending loaded={builds} what="builds" />
      ) : list.length === 0 ? (
        <p>
          No build yet. Start one with <code>winsmith build RECIPE --repo URL</code>.
        </p>
      ) : (
        <>
          {running.length === 0 ? (
            <p>No build is running or queued.</p>
          ) : (
            <BuildTable builds={running} caption="Running and queued" />
          )}
          {past.length === 0 ? null : <BuildTable builds={past} caption="Past builds" />}
        </>
      )}
    </>
  );
}
