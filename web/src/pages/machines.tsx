// The machines: those waiting for approval (they registered themselves by network-booting), and
// the inventory, each a page at a time (the server filters by state). An operator approves a
// machine, picks a profile and starts a deployment after a confirmation that names the machine and
// says its disk will be erased. Kept current by `machine` events (a machine that registers by
// network-booting appears as it does; another operator's changes show) and by `deployment` events
// (a machine's deployment changes with them).
import { useState } from 'preact/hooks';
import type { Deployment, Machine, Profile } from '../api-types.ts';
import { segment } from '../api.ts';
import { ConfirmDialog } from '../components/confirm.tsx';
import { ENDED_STATES } from '../components/deployment-actions.tsx';
import { ErrorNotice, PageTitle, Pending, StateBadge } from '../components/common.tsx';
import { MoreButton } from '../components/more.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { formatTime, machineLabel } from '../format.ts';
import { upsert, useDeploymentEvents, useMachineEvents } from '../live.ts';
import { useLoad } from '../load.ts';
import { usePaged } from '../paged.ts';
import { href, navigate } from '../router.ts';

/**
 * `list` (oldest first) with `machine` in place, or last when new, if it `belongs` there; without it
 * if not.
 */
function placed(list: readonly Machine[], machine: Machine, belongs: boolean): readonly Machine[] {
  return belongs ? upsert(list, machine, 'last') : list.filter((m) => m.id !== machine.id);
}

function model(m: Machine): string {
  return [m.manufacturer, m.product].filter((x) => x !== null).join(' ') || '—';
}

interface DeployRequest {
  readonly machine: Machine;
  readonly profile: Profile;
}

function DeployControl({
  machine,
  profiles,
  onDeploy,
}: {
  readonly machine: Machine;
  readonly profiles: readonly Profile[];
  readonly onDeploy: (request: DeployRequest) => void;
}) {
  const [chosen, setChosen] = useState('');
  const label = machineLabel(machine);
  if (profiles.length === 0) return <span class="muted">no profile</span>;
  const profile = profiles.find((p) => p.name === chosen);
  return (
    <span class="deploy-control">
      <select
        aria-label={`Profile for ${label}`}
        value={chosen}
        onChange={(e) => setChosen(e.currentTarget.value)}
      >
        <option value="">Choose a profile…</option>
        {profiles.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name} ({p.summary.image})
          </option>
        ))}
      </select>
      <button
        type="button"
        class="primary"
        disabled={profile === undefined}
        aria-label={`Deploy to ${label}`}
        onClick={() => profile !== undefined && onDeploy({ machine, profile })}
      >
        Deploy…
      </button>
    </span>
  );
}

/** Machines waiting for approval shown at once: each is a card, and an operator approves a few at a time. */
const WAITING_PAGE = 24;

/** The states the inventory can be narrowed to (toggle buttons: each one Tab reaches), with their names. */
const STATE_FILTERS = [
  { value: '', label: 'All' },
  { value: 'pending', label: 'Waiting for approval' },
  { value: 'ready', label: 'Ready' },
] as const;

export function MachinesPage() {
  const { api, session } = useConsole();
  const [state, setState] = useState('');
  const pending = usePaged<Machine>('/api/v1/machines', 'machines', { state: 'pending' }, WAITING_PAGE);
  const inventory = usePaged<Machine>('/api/v1/machines', 'machines', state === '' ? {} : { state });
  const profiles = useLoad((a) => a.get<{ profiles: Profile[] }>('/api/v1/profiles'), []);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState<DeployRequest | null>(null);
  const [busy, setBusy] = useState(false);
  useMachineEvents(
    (m) => {
      pending.set((list) => placed(list, m, m.state === 'pending'));
      inventory.set((list) => placed(list, m, state === '' || m.state === state));
    },
    (id) => {
      pending.set((list) => list.filter((m) => m.id !== id));
      inventory.set((list) => list.filter((m) => m.id !== id));
    },
  );
  useDeploymentEvents((d) => {
    inventory.set((list) =>
      list.map((m) => (m.id === d.machineId ? { ...m, deployment: { id: d.id, state: d.state } } : m)),
    );
  });
  const approve = (m: Machine): void => {
    setError(null);
    api.post<Machine>(`/api/v1/machines/${segment(m.id)}/approve`).then((approved) => {
      pending.set((list) => list.filter((x) => x.id !== approved.id));
      inventory.set((list) => list.map((x) => (x.id === approved.id ? approved : x)));
    }, setError);
  };
  const deploy = ({ machine, profile }: DeployRequest): void => {
    setBusy(true);
    setError(null);
    api
      .post<Deployment>('/api/v1/deployments', { machine: machine.id, profile: profile.name })
      .then(
        (made) => {
          setAsking(null);
          navigate('deployments', made.id);
        },
        (e: unknown) => {
          setAsking(null);
          setError(e);
        },
      )
      .finally(() => setBusy(false));
  };
  const waiting = pending.items ?? [];
  const list = inventory.items ?? [];
  const profileList = profiles.data?.profiles ?? [];
  return (
    <>
      <PageTitle>Machines</PageTitle>
      <ErrorNotice error={pending.error ?? inventory.error ?? profiles.error ?? error} />
      {pending.items === null ? (
        <Pending loaded={pending} what="machines" />
      ) : (
        <>
          <section aria-labelledby="pending">
            <h2 id="pending">Waiting for approval</h2>
            {waiting.length === 0 ? (
              <p class="muted">No machine is waiting: a machine that network-boots unknown appears here.</p>
            ) : (
              <>
                <ul class="cards">
                  {waiting.map((m) => (
                    <li key={m.id} class="card">
                      <p>
                        <strong>{machineLabel(m)}</strong>
                      </p>
                      <p class="muted">
                        MAC {m.mac ?? '—'} · UUID {m.smbiosUuid ?? '—'} · {model(m)} · first seen{' '}
                        {formatTime(m.firstSeen)}
                      </p>
                      {session.can.approve ? (
                        <button
                          type="button"
                          onClick={() => approve(m)}
                          aria-label={`Approve ${machineLabel(m)}`}
                        >
                          Approve
                        </button>
                      ) : null}
                    </li>
                  ))}
                </ul>
                <MoreButton paged={pending} what="waiting machines" />
              </>
            )}
          </section>
          <section aria-labelledby="inventory">
            <h2 id="inventory">Inventory</h2>
            <p class="actions" role="group" aria-label="Show machines">
              {STATE_FILTERS.map((f) => (
                <button
                  key={f.value}
                  type="button"
                  aria-pressed={state === f.value}
                  onClick={() => setState(f.value)}
                >
                  {f.label}
                </button>
              ))}
            </p>
            {inventory.items === null ? (
              <Pending loaded={inventory} what="machines" />
            ) : list.length === 0 ? (
              <p class="muted">
                {state === '' ? (
                  <>
                    No machine yet. Register one with <code>winsmith machine add</code>, or network-boot it.
                  </>
                ) : (
                  'No machine in this state.'
                )}
              </p>
            ) : (
              <>
                <Table
                  columns={[
                    'Machine',
                    'MAC',
                    'SMBIOS UUID',
                    'Serial',
                    'Model',
                    'Last seen',
                    'State',
                    'Deployment',
                  ]}
                >
                  {list.map((m) => {
                    const underWay = m.deployment !== null && !ENDED_STATES.has(m.deployment.state);
                    return (
                      <tr key={m.id}>
                        <td>{machineLabel(m)}</td>
                        <td class="mono nowrap">{m.mac ?? '—'}</td>
                        <td class="mono">{m.smbiosUuid ?? '—'}</td>
                        <td>{m.serial ?? '—'}</td>
                        <td>{model(m)}</td>
                        <td>{formatTime(m.lastSeen)}</td>
                        <td>
                          <StateBadge state={m.state} />
                        </td>
                        <td>
                          {m.deployment === null ? null : (
                            <a href={href('deployments', m.deployment.id)}>{m.deployment.state}</a>
                          )}
                          {session.can.deploy && m.state === 'ready' && !underWay ? (
                            <DeployControl machine={m} profiles={profileList} onDeploy={setAsking} />
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </Table>
                <MoreButton paged={inventory} what="machines" />
              </>
            )}
          </section>
        </>
      )}
      {asking === null ? null : (
        <ConfirmDialog
          title={`Deploy to ${machineLabel(asking.machine)}?`}
          confirmLabel={busy ? 'Starting…' : `Erase and deploy ${machineLabel(asking.machine)}`}
          onCancel={() => setAsking(null)}
          onConfirm={() => !busy && deploy(asking)}
        >
          <p>
            Machine <strong>{machineLabel(asking.machine)}</strong>
            {asking.machine.mac === null ? null : <> (MAC {asking.machine.mac})</>} will get profile{' '}
            <strong>{asking.profile.name}</strong>, image <strong>{asking.profile.summary.image}</strong>.
          </p>
          <p class="warning">
            <strong>Its disk will be erased</strong> when it next network-boots: everything on it is lost.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
