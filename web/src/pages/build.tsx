// One build: its state, phases (install, provision, generalize) and provisioning steps, its live
// log and the VM's latest screenshot, all read again when a `build` event names it.
import { useEffect, useState } from 'preact/hooks';
import type { Build } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, PageTitle, Pending, StateBadge } from '../components/common.tsx';
import { ConfirmDialog } from '../components/confirm.tsx';
import { LogView } from '../components/log-view.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useBuildEvents } from '../live.ts';
import { useLoad } from '../load.ts';
import { href, navigate } from '../router.ts';

const PHASES = [
  ['install', 'Install'],
  ['provision', 'Provision'],
  ['generalize', 'Generalize'],
] as const;

/** The VM's latest screenshot, fetched with the token and shown from a blob: URL. */
function Screenshot({ id, version }: { readonly id: string; readonly version: unknown }) {
  const { api } = useConsole();
  const [url, setUrl] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let current = true;
    api.blob(`/api/v1/builds/${segment(id)}/screenshot`).then(
      (png) => {
        if (!current) return;
        setMissing(false);
        setUrl((old) => {
          if (old !== null) URL.revokeObjectURL(old);
          return URL.createObjectURL(png);
        });
      },
      () => {
        if (current) setMissing(true);
      },
    );
    return () => {
      current = false;
    };
  }, [api, id, version]);
  useEffect(
    () => () => {
      if (url !== null) URL.revokeObjectURL(url);
    },
    [url],
  );
  if (url === null || missing)
    return <p class="muted">No screenshot yet: the VM saves one every few seconds while it runs.</p>;
  return <img class="screenshot" src={url} alt={`The screen of build ${id}'s VM, as last saved`} />;
}

export function BuildPage({ id }: { readonly id: string }) {
  const { api, session } = useConsole();
  const build = useLoad((a) => a.get<Build>(`/api/v1/builds/${segment(id)}`), [id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const [removing, setRemoving] = useState(false);
  useBuildEvents((b) => {
    if (b.id === id) build.set(() => b);
  });
  const b = build.data;
  const act = (what: 'cancel' | 'resume'): void => {
    setActionError(null);
    api
      .post<Build>(`/api/v1/builds/${segment(id)}/${what}`)
      .then((next) => build.set(() => next), setActionError);
  };
  const remove = (): void => {
    setRemoving(false);
    setActionError(null);
    api.delete(`/api/v1/builds/${segment(id)}`).then(() => navigate('builds'), setActionError);
  };
  return (
    <>
      <PageTitle>Build {id}</PageTitle>
      <p>
        <a href={href('builds')}>All builds</a>
      </p>
      <ErrorNotice error={build.error} />
      {b === null ? (
        <Pending loaded={build} what="the build" />
      ) : (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <StateBadge state={b.state} />
            </dd>
            <dt>Output</dt>
            <dd>{b.output}</dd>
            <dt>Recipe</dt>
            <dd>{b.recipe.file}</dd>
            <dt>Started by</dt>
            <dd>{b.owner}</dd>
            <dt>Created</dt>
            <dd>{formatTime(b.createdAt)}</dd>
            <dt>Started</dt>
            <dd>{formatTime(b.startedAt)}</dd>
            <dt>Ended</dt>
            <dd>{formatTime(b.endedAt)}</dd>
            {b.error === null ? null : (
              <>
                <dt>Error</dt>
                <dd>
                  {b.error.message} ({b.error.code})
                </dd>
              </>
            )}
          </dl>
          {session.can.build ? (
            <div class="actions">
              {b.state === 'queued' || b.state === 'running' ? (
                <button type="button" onClick={() => act('cancel')}>
                  Cancel build
                </button>
              ) : null}
              {b.state === 'failed' || b.state === 'cancelled' ? (
                <button type="button" onClick={() => act('resume')}>
                  Resume build
                </button>
              ) : null}
              {b.state !== 'queued' && b.state !== 'running' ? (
                <button type="button" class="danger" onClick={() => setRemoving(true)}>
                  Remove build…
                </button>
              ) : null}
            </div>
          ) : null}
          {removing ? (
            <ConfirmDialog
              title={`Remove build ${id}?`}
              confirmLabel="Remove build"
              onCancel={() => setRemoving(false)}
              onConfirm={remove}
            >
              <p>
                Its VM disks, log and screenshots are deleted, and it can no longer be resumed. What it stored
                in the repository stays there.
              </p>
            </ConfirmDialog>
          ) : null}
          <ErrorNotice error={actionError} />
          <section aria-labelledby="phases">
            <h2 id="phases">Phases and steps</h2>
            {b.record === null ? (
              <p class="muted">The build has not started: its phases appear when its VM starts.</p>
            ) : (
              <>
                <ol class="phases">
                  {PHASES.map(([p, label]) => {
                    const phase = b.record?.phases[p];
                    return (
                      <li key={p}>
                        <span class="step-label">{label}</span>{' '}
                        <StateBadge state={phase?.state ?? 'pending'} />{' '}
                        <span class="muted">
                          {formatTime(phase?.startedAt)} – {formatTime(phase?.endedAt)}
                        </span>
                      </li>
                    );
                  })}
                </ol>
                {b.record.steps.length === 0 ? (
                  <p class="muted">The recipe has no provisioning step.</p>
                ) : (
                  <Table
                    columns={['Step', 'Kind', 'Where', 'State', 'Started', 'Ended']}
                    caption="Provisioning steps"
                  >
                    {b.record.steps.map((s) => (
                      <tr key={s.index}>
                        <td class="num">{s.index + 1}</td>
                        <td>{s.kind}</td>
                        <td>{s.where}</td>
                        <td>
                          <StateBadge state={s.state} />
                        </td>
                        <td>{formatTime(s.startedAt)}</td>
                        <td>{formatTime(s.endedAt)}</td>
                      </tr>
                    ))}
                  </Table>
                )}
              </>
            )}
          </section>
          <section aria-labelledby="screen">
            <h2 id="screen">Screen</h2>
            <Screenshot id={id} version={b} />
          </section>
          <section aria-labelledby="log">
            <h2 id="log">Log</h2>
            <LogView
              path={`/api/v1/builds/${segment(id)}/logs`}
              version={b}
              label={`The log of build ${id}`}
            />
          </section>
        </>
      )}
    </>
  );
}
