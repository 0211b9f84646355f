// The deployment profiles: what each deploys (image, edition, firmware, how it finishes, the
// computer name, whether the administrator password is generated or given), and one profile's
// YAML with its passwords masked as the server shows them, which operators and admins edit. They
// add a profile from its YAML (a name already taken is refused here: that profile is edited on its
// page), and remove one after a question naming it.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Profile, ProfileDetail } from '../api-types.ts';
import { errorMessage, segment } from '../api.ts';
import { ConfirmDialog } from '../components/confirm.tsx';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { errorPosition, goToLine, YamlEditor } from '../components/yaml-editor.tsx';
import { useConsole } from '../context.ts';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSubmit } from '../submit.ts';
import { href, navigate } from '../router.ts';

/** What a new profile starts from: every key a deployment needs, with the defaults spelled out. */
const NEW_PROFILE = [
  'name: new-profile',
  'image: NAME:TAG',
  'edition: 1',
  'firmware: auto',
  'disk: {}',
  'computerName: SRV-{mac6}',
  'adminPassword: generate',
  'finish: reboot',
  '',
].join('\n');

/** The name the YAML gives (its top-level `name:`), or null; the server reads the YAML itself. */
function nameIn(yaml: string): string | null {
  return /^name:[ \t]*['"]?([^'"#\s]+)/m.exec(yaml)?.[1] ?? null;
}

/** A new profile from its YAML, checked by the server as `winsmith profile apply` checks a file. */
function NewProfile({
  taken,
  onCancel,
}: {
  readonly taken: readonly string[];
  readonly onCancel: () => void;
}) {
  const { api } = useConsole();
  const add = (text: string): Promise<unknown> => {
    const name = nameIn(text);
    if (name !== null && taken.includes(name)) {
      return Promise.reject(
        new Error(`a profile named ${name} exists: open it to edit it, or give another name`),
      );
    }
    return api
      .post<Profile>('/api/v1/profiles', { yaml: text, file: fileOf(name ?? 'profile') })
      .then((stored) => navigate('profiles', stored.name));
  };
  return (
    <ProfileForm
      id="new-profile-yaml"
      title="New profile"
      yamlLabel="YAML of the new profile"
      initial={NEW_PROFILE}
      help={null}
      submitLabel="Add profile"
      cancelLabel="Cancel"
      submit={add}
      onCancel={onCancel}
    />
  );
}

export function ProfilesPage() {
  const { session } = useConsole();
  const profiles = useLoad((api) => api.get<{ profiles: Profile[] }>('/api/v1/profiles'), []);
  const [adding, setAdding] = useState(false);
  const list = profiles.data?.profiles ?? [];
  return (
    <>
      <PageTitle>Profiles</PageTitle>
      <ErrorNotice error={profiles.error} />
      {!session.can.editProfiles || profiles.data === null ? null : adding ? (
        <NewProfile taken={list.map((p) => p.name)} onCancel={() => setAdding(false)} />
      ) : (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            New profile
          </button>
        </div>
      )}
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

interface ProfileFormProps {
  readonly id: string;
  /** The form's accessible name. */
  readonly title: string;
  readonly yamlLabel: string;
  readonly initial: string;
  readonly help: ComponentChildren;
  readonly submitLabel: string;
  readonly cancelLabel: string;
  /** Sends the text; a refusal is shown, with the line it names marked and one click away. */
  readonly submit: (text: string) => Promise<unknown>;
  readonly onCancel: () => void;
}

/** A profile's YAML in the editor with line numbers, sent to the server, which checks it. */
function ProfileForm(props: ProfileFormProps) {
  const [text, setText] = useState(props.initial);
  const { onSubmit, busy, error } = useSubmit(() => props.submit(text));
  const position = error === null ? null : errorPosition(errorMessage(error));
  const helpId = `${props.id}-help`;
  const errorId = `${props.id}-error`;
  return (
    <form onSubmit={onSubmit} aria-label={props.title}>
      {props.help === null ? null : (
        <p class="muted" id={helpId}>
          {props.help}
        </p>
      )}
      <YamlEditor
        id={props.id}
        label={props.yamlLabel}
        value={text}
        onInput={setText}
        errorLine={position?.line ?? null}
        describedBy={props.help === null ? errorId : `${helpId} ${errorId}`}
      />
      <div id={errorId}>
        <ErrorNotice error={error} />
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {position === null ? null : (
          <button type="button" onClick={() => goToLine(props.id, position.line)}>
            Go to line {position.line}
          </button>
        )}
        <button type="button" onClick={props.onCancel}>
          {props.cancelLabel}
        </button>
      </div>
    </form>
  );
}

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
  return (
    <ProfileForm
      id="profile-yaml"
      title={`Edit profile ${name}`}
      yamlLabel={`YAML of profile ${name}`}
      initial={shown}
      help={
        <>
          Passwords show as <code>'********'</code>: leave one so to keep the stored password, or write a new
          one in its place.
        </>
      }
      submitLabel="Save profile"
      cancelLabel="Discard changes"
      submit={(text) =>
        api
          .put<Profile>(`/api/v1/profiles/${segment(name)}`, { yaml: text, file: fileOf(name) })
          .then(onSaved)
      }
      onCancel={onCancel}
    />
  );
}

export function ProfilePage({ name }: { readonly name: string }) {
  const { api, session } = useConsole();
  const profile = useLoad((a) => a.get<ProfileDetail>(`/api/v1/profiles/${segment(name)}`), [name]);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState('');
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const remove = (): void => {
    setRemoveError(null);
    api.delete(`/api/v1/profiles/${segment(name)}`).then(
      () => navigate('profiles'),
      (e: unknown) => {
        setRemoving(false);
        setRemoveError(e);
      },
    );
  };
  const p = profile.data;
  return (
    <>
      <PageTitle>Profile {name}</PageTitle>
      <p>
        <a href={href('profiles')}>All profiles</a>
      </p>
      <ErrorNotice error={profile.error ?? removeError} />
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
              <button type="button" class="danger" onClick={() => setRemoving(true)}>
                Remove profile…
              </button>
            </div>
          ) : null}
          <pre class="code-block" tabIndex={0} aria-label={`The YAML of profile ${name}`}>
            {p.yaml}
          </pre>
        </>
      )}
      {removing ? (
        <ConfirmDialog
          title={`Remove profile ${name}?`}
          confirmLabel="Remove profile"
          onCancel={() => setRemoving(false)}
          onConfirm={remove}
        >
          <p>
            Profile <strong>{name}</strong> is removed. Deployments made from it keep what they were made
            with; no new one can be made from it.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
