// The deployment profiles: what each deploys (image, edition, firmware, how it finishes, the
// computer name, whether the administrator password is generated or given), and one profile's
// YAML with its passwords masked as the server shows them, which operators and admins edit.
import { useState } from 'preact/hooks';
import type { Profile, ProfileDetail } from '../api-types.ts';
import { errorMessage, segment } from '../api.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { errorPosition, goToLine, YamlEditor } from '../components/yaml-editor.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSubmit } from '../submit.ts';
import { href } from '../router.ts';

export function ProfilesPage() {
  const profiles = useLoad((api) => api.get<{ profiles: Profile[] }>('/api/v1/profiles'), []);
  const list = profiles.data?.profiles ?? [];
  return (
    <>
      <PageTitle>Profiles</PageTitle>
      <ErrorNotice error={profiles.error} />
      {profiles.data === null ? (
        <Pending loaded={profiles} what="profiles" />
      ) : list.length === 0 ? (
        <p>
          No profile yet. Store one with <code>winsmith profile apply FILE</code>.
        </p>
      ) : (
        <Table
          columns={[
            'Profile',
            'Image',
            'Edition',
            'Firmware',
            'Then',
            'Computer name',
            'Admin password',
            'Changed',
          ]}
        >
          {list.map((p) => (
            <tr key={p.name}>
              <td>
                <a href={href('profiles', p.name)}>{p.name}</a>
              </td>
              <td>{p.summary.image}</td>
              <td class="num">{p.summary.edition}</td>
              <td>{p.summary.firmware}</td>
              <td>{p.summary.finish}</td>
              <td>{p.summary.computerName ?? '—'}</td>
              <td>{p.summary.adminPassword ?? 'none'}</td>
              <td>
                {formatTime(p.updatedAt)} {p.updatedBy === null ? null : <>by {p.updatedBy}</>}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

/** What the file is called in the errors of an edit: the server says `NAME.yaml:LINE:COLUMN: …`. */
const fileOf = (name: string): string => `${name}.yaml`;

/**
 * The editor of a profile (profiles.write): its YAML as shown, passwords masked. A mask left as
 * it is keeps the stored password (the server puts it back), so no stored password is ever sent
 * to the browser, and the edit is checked by the server as `winsmith profile apply` checks a file.
 */
function ProfileEditor({
  name,
  shown,
  onSaved,
  onCancel,
}: {
  readonly name: string;
  readonly shown: string;
  readonly onSaved: (profile: Profile) => void;
  readonly onCancel: () => void;
}) {
  const { api } = useConsole();
  const [text, setText] = useState(shown);
  const { onSubmit, busy, error } = useSubmit(() =>
    api.put<Profile>(`/api/v1/profiles/${segment(name)}`, { yaml: text, file: fileOf(name) }).then(onSaved),
  );
  const position = error === null ? null : errorPosition(errorMessage(error));
  return (
    <form onSubmit={onSubmit} aria-label={`Edit profile ${name}`}>
      <p class="muted" id="yaml-help">
        Passwords show as <code>'********'</code>: leave one so to keep the stored password, or write a new
        one in its place.
      </p>
      <YamlEditor
        id="profile-yaml"
        label={`YAML of profile ${name}`}
        value={text}
        onInput={setText}
        errorLine={position?.line ?? null}
        describedBy="yaml-help yaml-error"
      />
      <div id="yaml-error">
        <ErrorNotice error={error} />
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save profile
        </button>
        {position === null ? null : (
          <button type="button" onClick={() => goToLine('profile-yaml', position.line)}>
            Go to line {position.line}
          </button>
        )}
        <button type="button" onClick={onCancel}>
          Discard changes
        </button>
      </div>
    </form>
  );
}

export function ProfilePage({ name }: { readonly name: string }) {
  const { session } = useConsole();
  const profile = useLoad((api) => api.get<ProfileDetail>(`/api/v1/profiles/${segment(name)}`), [name]);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState('');
  const p = profile.data;
  return (
    <>
      <PageTitle>Profile {name}</PageTitle>
      <p>
        <a href={href('profiles')}>All profiles</a>
      </p>
      <ErrorNotice error={profile.error} />
      <p role="status" class="muted">
        {saved}
      </p>
      {p === null ? (
        <Pending loaded={profile} what="the profile" />
      ) : editing ? (
        <ProfileEditor
          name={name}
          shown={p.yaml}
          onCancel={() => setEditing(false)}
          onSaved={(stored) => {
            setEditing(false);
            setSaved(`Saved profile ${stored.name}.`);
            // The YAML shown before is no longer the profile's: read it again.
            profile.set(() => null);
            profile.reload();
          }}
        />
      ) : (
        <>
          <p class="muted">
            Changed {formatTime(p.updatedAt)}
            {p.updatedBy === null ? null : <> by {p.updatedBy}</>}. Passwords are masked.
            {session.can.editProfiles ? null : (
              <>
                {' '}
                Change it with <code>winsmith profile apply FILE</code>.
              </>
            )}
          </p>
          {session.can.editProfiles ? (
            <div class="actions">
              <button
                type="button"
                class="primary"
                onClick={() => {
                  setSaved('');
                  setEditing(true);
                }}
              >
                Edit profile
              </button>
            </div>
          ) : null}
          <pre class="code-block" tabIndex={0} aria-label={`The YAML of profile ${name}`}>
            {p.yaml}
          </pre>
        </>
      )}
    </>
  );
}
