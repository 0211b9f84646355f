// The audit log (admins): who changed what, when, from where, newest first, a page at a time
// (**Older entries** reads the next one). The form narrows it by user, action, target and a time
// range, as GET /api/v1/audit does; the filters stay in this view, never in the URL.
import { useState } from 'preact/hooks';
import type { AuditEntry, AuditList } from '../api-types.ts';
import { ErrorNotice, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';

/** Entries a page shows. */
const PAGE = 50;

/** The actions the server records (src/app/: record(...)), offered as the action filter's suggestions. */
const ACTIONS = [
  'build.cancel',
  'build.resume',
  'build.start',
  'capture.commit',
  'capture.create',
  'deployment.cancel',
  'deployment.create',
  'deployment.retry',
  'deployment.unattend',
  'image.push',
  'image.remove',
  'image.tag',
  'machine.add',
  'machine.approve',
  'machine.password.read',
  'machine.remove',
  'machine.set',
  'multicast.create',
  'profile.apply',
  'profile.remove',
  'store.gc',
  'token.create',
  'token.revoke',
  'upload.begin',
  'user.add',
  'user.change',
  'user.login',
  'user.login.failed',
  'user.password',
  'user.remove',
];

interface Filter {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  /** As a datetime-local field gives it: this browser's local time. */
  readonly since: string;
  readonly until: string;
}

const NO_FILTER: Filter = { actor: '', action: '', target: '', since: '', until: '' };

/** The query of a page: the filter's fields given, times in UTC, and where the page starts. */
function auditQuery(filter: Filter, before: number | null): string {
  const query = new URLSearchParams({ limit: String(PAGE) });
  for (const key of ['actor', 'action', 'target'] as const) {
    const value = filter[key].trim();
    if (value !== '') query.set(key, value);
  }
  for (const key of ['since', 'until'] as const) {
    if (filter[key] !== '') query.set(key, new Date(filter[key]).toISOString());
  }
  if (before !== null) query.set('before', String(before));
  return `/api/v1/audit?${query.toString()}`;
}

function detailsText(details: AuditEntry['details']): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

function FilterForm({ onApply }: { readonly onApply: (filter: Filter) => void }) {
  const [draft, setDraft] = useState<Filter>(NO_FILTER);
  const field = (
    key: keyof Filter,
    label: string,
    type: 'text' | 'datetime-local' = 'text',
    list?: string,
  ) => (
    <label>
      {label}
      <input
        type={type}
        value={draft[key]}
        list={list}
        autocomplete="off"
        onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
      />
    </label>
  );
  return (
    <form
      class="form-grid filters"
      aria-label="Filter the audit log"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft);
      }}
    >
      {field('actor', 'User')}
      {field('action', 'Action', 'text', 'audit-actions')}
      <datalist id="audit-actions">
        {ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      {field('target', 'Target')}
      {field('since', 'From', 'datetime-local')}
      {field('until', 'Until', 'datetime-local')}
      <div class="actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(NO_FILTER);
            onApply(NO_FILTER);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

export function AuditSection() {
  const { api } = useConsole();
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const first = useLoad((a) => a.get<AuditList>(auditQuery(filter, null)), [filter]);
  const [older, setOlder] = useState<{ entries: AuditEntry[]; next: number | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const entries = [...(first.data?.entries ?? []), ...(older?.entries ?? [])];
  const next = older === null ? (first.data?.next ?? null) : older.next;
  const more = (): void => {
    if (next === null) return;
    setError(null);
    api
      .get<AuditList>(auditQuery(filter, next))
      .then(
        (page) => setOlder({ entries: [...(older?.entries ?? []), ...page.entries], next: page.next }),
        setError,
      );
  };
  return (
    <>
      <FilterForm
        onApply={(f) => {
          setOlder(null);
          setFilter(f);
        }}
      />
      <ErrorNotice error={first.error ?? error} />
      {first.data === null ? (
        <Pending loaded={first} what="the audit log" />
      ) : entries.length === 0 ? (
        <p role="status">No entry matches.</p>
      ) : (
        <>
          <p role="status" class="muted">
            {entries.length} entr{entries.length === 1 ? 'y' : 'ies'} shown
            {next === null ? '' : ', older ones follow'}.
          </p>
          <Table
            caption="Audit log"
            hiddenCaption
            columns={['When', 'User', 'Action', 'Target', 'From', 'Details']}
          >
            {entries.map((e) => (
              <tr key={e.id} data-audit={e.action}>
                <td class="nowrap">{formatTime(e.at)}</td>
                <td>{e.actor ?? '—'}</td>
                <td class="mono nowrap">{e.action}</td>
                <td>{e.target ?? '—'}</td>
                <td>{e.client ?? '—'}</td>
                <td class="details">{detailsText(e.details)}</td>
              </tr>
            ))}
          </Table>
          {next === null ? null : (
            <button type="button" onClick={more}>
              Older entries
            </button>
          )}
        </>
      )}
    </>
  );
}
