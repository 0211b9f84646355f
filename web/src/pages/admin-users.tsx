// Users (admins): each with its role, scopes and state; added (the password given, or generated
// and shown once), given another role or scopes, disabled and enabled again, its password reset
// (generated, shown once), removed after a question naming it. The server keeps the last enabled
// admin: its refusal is shown as it words it.
import { useState } from 'preact/hooks';
import type { CreatedUser, PasswordChange, Role, UserView } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, Pending } from '../components/common.tsx';
import { ConfirmDialog } from '../components/confirm.tsx';
import { ShownOnce } from '../components/shown-once.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSubmit } from '../submit.ts';

/** The roles of src/auth/roles.ts, most able first. */
const ROLES = ['admin', 'builder', 'operator', 'viewer'] as const satisfies readonly Role[];

/** Image-name prefixes as typed: separated by spaces or commas. */
export function parseScopes(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

function scopesText(scopes: readonly string[]): string {
  return scopes.length === 0 ? 'every image' : scopes.join(' ');
}

interface Secret {
  readonly user: string;
  readonly password: string;
  readonly what: string;
}

function RoleSelect({
  label,
  value,
  onChange,
}: {
  readonly label: string;
  readonly value: string;
  readonly onChange: (role: string) => void;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
    </label>
  );
}

function AddUserForm({ onAdded }: { readonly onAdded: (user: CreatedUser) => void }) {
  const { api } = useConsole();
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [scopes, setScopes] = useState('');
  const [password, setPassword] = useState('');
  const { onSubmit, busy, error } = useSubmit(() =>
    api
      .post<CreatedUser>('/api/v1/users', {
        name,
        role,
        scopes: parseScopes(scopes),
        ...(password === '' ? {} : { password }),
      })
      .then((user) => {
        setName('');
        setScopes('');
        setPassword('');
        onAdded(user);
      }),
  );
  return (
    <form class="form-grid" onSubmit={onSubmit} aria-labelledby="add-user">
      <h2 id="add-user">Add a user</h2>
      <label>
        Name
        <input value={name} required autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <RoleSelect label="Role" value={role} onChange={setRole} />
      <label>
        Scopes <span class="muted">(image-name prefixes; none: every image)</span>
        <input value={scopes} placeholder="team-a/" onInput={(e) => setScopes(e.currentTarget.value)} />
      </label>
      <label>
        Password <span class="muted">(empty: one is generated and shown once)</span>
        <input
          type="password"
          value={password}
          autocomplete="new-password"
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <ErrorNotice error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Add user
        </button>
      </div>
    </form>
  );
}

function EditUserForm({
  user,
  onSaved,
  onCancel,
}: {
  readonly user: UserView;
  readonly onSaved: (user: UserView) => void;
  readonly onCancel: () => void;
}) {
  const { api } = useConsole();
  const [role, setRole] = useState(user.role);
  const [scopes, setScopes] = useState(user.scopes.join(' '));
  const { onSubmit, error } = useSubmit(() =>
    api
      .patch<UserView>(`/api/v1/users/${segment(user.name)}`, { role, scopes: parseScopes(scopes) })
      .then(onSaved),
  );
  return (
    <form class="form-grid" onSubmit={onSubmit} aria-label={`Change ${user.name}`}>
      <RoleSelect label={`Role of ${user.name}`} value={role} onChange={setRole} />
      <label>
        Scopes of {user.name}
        <input value={scopes} onInput={(e) => setScopes(e.currentTarget.value)} />
      </label>
      <ErrorNotice error={error} />
      <div class="actions">
        <button type="submit" class="primary">
          Save {user.name}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function UsersSection() {
  const { api, session } = useConsole();
  const users = useLoad((a) => a.get<{ users: UserView[] }>('/api/v1/users'), []);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<UserView | null>(null);
  const [done, setDone] = useState('');
  const act = <T,>(request: Promise<T>, then: (value: T) => void): void => {
    setError(null);
    setDone('');
    request.then((value) => {
      then(value);
      users.reload();
    }, setError);
  };
  const list = users.data?.users ?? [];
  return (
    <>
      <ErrorNotice error={users.error ?? error} />
      <p role="status" class="muted">
        {done}
      </p>
      {secret === null ? null : (
        <ShownOnce
          label={`${secret.what} of ${secret.user}`}
          value={secret.password}
          onDone={() => setSecret(null)}
        />
      )}
      {users.data === null ? (
        <Pending loaded={users} what="users" />
      ) : (
        <Table
          caption="Users"
          hiddenCaption
          columns={['User', 'Role', 'Scopes', 'State', 'Added', { label: 'Actions', hidden: true }]}
        >
          {list.map((u) => (
            <tr key={u.name} data-user={u.name}>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{scopesText(u.scopes)}</td>
              <td>
                <span class={`badge ${u.disabled ? 'bad' : 'good'}`}>
                  {u.disabled ? 'disabled' : 'enabled'}
                </span>
              </td>
              <td class="nowrap">{formatTime(u.createdAt)}</td>
              <td>
                {editing === u.name ? (
                  <EditUserForm
                    user={u}
                    onCancel={() => setEditing(null)}
                    onSaved={(changed) => {
                      setEditing(null);
                      setDone(`Changed ${changed.name}: ${changed.role}, ${scopesText(changed.scopes)}.`);
                      users.reload();
                    }}
                  />
                ) : (
                  <div class="row-actions">
                    <button
                      type="button"
                      aria-label={`Change role or scopes of ${u.name}`}
                      onClick={() => setEditing(u.name)}
                    >
                      Change…
                    </button>
                    <button
                      type="button"
                      aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                      onClick={() =>
                        act(
                          api.patch<UserView>(`/api/v1/users/${segment(u.name)}`, { disabled: !u.disabled }),
                          (changed) =>
                            setDone(`${changed.name} is ${changed.disabled ? 'disabled' : 'enabled'}.`),
                        )
                      }
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                    {u.name === session.user ? null : (
                      <button
                        type="button"
                        aria-label={`Reset password of ${u.name}`}
                        onClick={() =>
                          act(
                            api.put<PasswordChange>(`/api/v1/users/${segment(u.name)}/password`, {}),
                            (changed) => {
                              if (changed.password !== undefined)
                                setSecret({
                                  user: changed.name,
                                  password: changed.password,
                                  what: 'New password',
                                });
                            },
                          )
                        }
                      >
                        Reset password
                      </button>
                    )}
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete ${u.name}`}
                      onClick={() => setRemoving(u)}
                    >
                      Delete…
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <AddUserForm
        onAdded={(user) => {
          setDone(`Added ${user.name} (${user.role}).`);
          if (user.password !== undefined)
            setSecret({ user: user.name, password: user.password, what: 'Password' });
          users.reload();
        }}
      />
      {removing === null ? null : (
        <ConfirmDialog
          title={`Delete user ${removing.name}?`}
          confirmLabel={`Delete ${removing.name}`}
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const name = removing.name;
            setRemoving(null);
            act(api.delete(`/api/v1/users/${segment(name)}`), () => setDone(`Deleted ${name}.`));
          }}
        >
          <p>
            User <strong>{removing.name}</strong> ({removing.role}) and every token of theirs are removed;
            they can no longer sign in. The audit log keeps what they did.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
