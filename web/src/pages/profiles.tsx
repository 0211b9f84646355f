// The deployment profiles, read only: what each deploys (image, edition, firmware, how it finishes,
// the computer name, whether the administrator password is generated or given), and one profile's
// YAML with its passwords masked as the server shows them.
import type { Profile, ProfileDetail } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
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

export function ProfilePage({ name }: { readonly name: string }) {
  const profile = useLoad((api) => api.get<ProfileDetail>(`/api/v1/profiles/${segment(name)}`), [name]);
  const p = profile.data;
  return (
    <>
      <PageTitle>Profile {name}</PageTitle>
      <p>
        <a href={href('profiles')}>All profiles</a>
      </p>
      <ErrorNotice error={profile.error} />
      {p === null ? (
        <Pending loaded={profile} what="the profile" />
      ) : (
        <>
          <p class="muted">
            Changed {formatTime(p.updatedAt)}
            {p.updatedBy === null ? null : <> by {p.updatedBy}</>}. Passwords are masked. Change it with{' '}
            <code>winsmith profile apply FILE</code>.
          </p>
          <pre class="code-block" tabIndex={0} aria-label={`The YAML of profile ${name}`}>
            {p.yaml}
          </pre>
        </>
      )}
    </>
  );
}
