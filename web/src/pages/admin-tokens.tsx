// API tokens: one's own for everyone, everyone's for an admin (GET /api/v1/tokens?all=true). A
// token made here is shown once, in a field to copy, and only listed after (name, owner, kind: an
// API token or a sign-in session, scopes, state, expiry, last use: the server keeps no secret to
// show). Revoking asks first, naming the token and its owner.
import { useState } from 'preact/hooks';
import type { IssuedToken, TokenView } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, Pending, StateBadge } from '../components/common.tsx';
import { ConfirmDialog } from '../components/confirm.tsx';
import { ShownOnce } from '../components/shown-once.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSubmit } from '../submit.ts';
import { parseScopes } from './admin-users.tsx';

interface Created {
  readonly name: string;
  readonly token: string;
}

function CreateTokenForm({ onCreated }: { readonly onCreated: (created: Created) => void }) {
  const { api, session } = useConsole();
  const [name, setName] = useState('');
  const [user, setUser] = useState('');
  const [days, setDays] = useState('90');
  const [scopes, setScopes] = useState('');
  const { onSubmit, busy, error } = useSubmit(() => {
    const scopeList = parseScopes(scopes);
    return api
      .post<IssuedToken>('/api/v1/tokens', {
        name,
        expiresInDays: days === '' ? null : Number(days),
        ...(user === '' ? {} : { user }),
        ...(scopeList.length === 0 ? {} : { scopes: scopeList }),
      })
      .then((issued) => {
        setName('');
        onCreated({ name, token: issued.token });
      });
  });
  return (
    <form class="form-grid" onSubmit={onSubmit} aria-labelledby="new-token">
      <h2 id="new-token">Create a token</h2>
      <label>
        Token name
        <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      {session.can.manageUsers ? (
        <label>
          For user <span class="muted">(empty: yourself)</span>
          <input value={user} autocomplete="off" onInput={(e) => setUser(e.currentTarget.value)} />
        </label>
      ) : null}
      <label>
        Expires in days <span class="muted">(empty: never)</span>
        <input type="number" min={1} value={days} onInput={(e) => setDays(e.currentTarget.value)} />
      </label>
      <label>
        Scopes <span class="muted">(image-name prefixes, within the user's; none: all of theirs)</span>
        <input value={scopes} placeholder="team-a/ci" onInput={(e) => setScopes(e.currentTarget.value)} />
      </label>
      <ErrorNotice error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Create token
        </button>
      </div>
    </form>
  );
}

export function TokensSection() {
  const { api, session } = useConsole();
  const all = session.can.manageUsers;
  const tokens = useLoad(
    (a) => a.get<{ tokens: TokenView[] }>(`/api/v1/tokens${all ? '?all=true' : ''}`),
    [all],
  );
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<TokenView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const revoke = (t: TokenView): void => {
    setRevoking(null);
    setError(null);
    api.delete(`/api/v1/tokens/${segment(t.id)}`).then(() => {
      setDone(`Revoked token ${t.name} of ${t.user}.`);
      tokens.reload();
    }, setError);
  };
  const list = tokens.data?.tokens ?? [];
  return (
    <>
      <p class="muted">
        {all ? 'Every user’s tokens' : 'Your tokens'}, newest first; each sign-in made one (“login from …”). A
        token is shown only when it is made.
      </p>
      <ErrorNotice error={tokens.error ?? error} />
      <p role="status" class="muted">
        {done}
      </p>
      {created === null ? null : (
        <ShownOnce label={`Token ${created.name}`} value={created.token} onDone={() => setCreated(null)} />
      )}
      <CreateTokenForm
        onCreated={(c) => {
          setDone('');
          setCreated(c);
          tokens.reload();
        }}
      />
      <h2>Tokens</h2>
      {tokens.data === null ? (
        <Pending loaded={tokens} what="tokens" />
      ) : (
        <Table
          caption="Tokens"
          hiddenCaption
          columns={[
            'Name',
            'User',
            'Kind',
            'Scopes',
            'State',
            'Created',
            'Expires',
            'Last used',
            { label: 'Actions', hidden: true },
          ]}
        >
          {list.map((t) => (
            <tr key={t.id} data-token={t.id}>
              <td>{t.name}</td>
              <td>{t.user}</td>
              <td>{t.kind === 'login' ? 'Sign-in session' : 'API'}</td>
              <td>{t.scopes.length === 0 ? 'all' : t.scopes.join(' ')}</td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td class="nowrap">{formatTime(t.createdAt)}</td>
              <td class="nowrap">{t.expiresAt === null ? 'never' : formatTime(t.expiresAt)}</td>
              <td class="nowrap">{t.lastUsedAt === null ? 'never' : formatTime(t.lastUsedAt)}</td>
              <td>
                {t.state === 'active' ? (
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Revoke token ${t.name} of ${t.user}`}
                    onClick={() => setRevoking(t)}
                  >
                    Revoke…
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {revoking === null ? null : (
        <ConfirmDialog
          title={`Revoke token ${revoking.name}?`}
          confirmLabel={`Revoke ${revoking.name}`}
          onCancel={() => setRevoking(null)}
          onConfirm={() => revoke(revoking)}
        >
          <p>
            Token <strong>{revoking.name}</strong> of <strong>{revoking.user}</strong> is refused from the
            next request on. This cannot be undone: a new token must be made.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
