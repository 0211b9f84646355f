// What differs between this image and another one picked from the listing (GET …/diff): how many
// files, registry values, drivers and unattend settings changed, then each list. A diff reads both
// images on the server, so it is asked for only when the button is pressed.
import { useState } from 'preact/hooks';
import type { ImageDiff, ImageSummary } from '../api-types.ts';
import { segment } from '../api.ts';
import { useConsole } from '../context.ts';
import { formatBytes, shortDigest } from '../format.ts';
import { ErrorNotice } from './common.tsx';
import { Table } from './table.tsx';

const sizeOf = (n: number | undefined): string => (n === undefined ? '—' : formatBytes(n));

const TONES = { added: 'good', removed: 'bad', changed: 'warn' } as const;

function ChangeBadge({ change }: { readonly change: keyof typeof TONES }) {
  return <span class={`badge ${TONES[change]}`}>{change}</span>;
}

function Changes({ diff }: { readonly diff: ImageDiff }) {
  const { counts } = diff;
  return (
    <>
      <dl class="facts diff-counts">
        <dt>Files</dt>
        <dd>{counts.files}</dd>
        <dt>Registry</dt>
        <dd>{counts.registry}</dd>
        <dt>Drivers</dt>
        <dd>{counts.drivers}</dd>
        <dt>Unattend</dt>
        <dd>{counts.unattend}</dd>
      </dl>
      {diff.truncated ? (
        <p class="muted">
          Each list below shows its first changes only; the counts above are of all of them.
        </p>
      ) : null}
      {counts.files === 0 ? null : (
        <Table columns={['Change', 'Path', 'Size before', 'Size after']} caption="Files">
          {diff.files.map((f) => (
            <tr key={f.path}>
              <td>
                <ChangeBadge change={f.change} />
              </td>
              <td class="mono">
                {f.path}
                {f.isDir ? '/' : ''}
              </td>
              <td class="num nowrap">{sizeOf(f.sizeA)}</td>
              <td class="num nowrap">{sizeOf(f.sizeB)}</td>
            </tr>
          ))}
        </Table>
      )}
      {counts.registry === 0 ? null : (
        <Table columns={['Change', 'Hive', 'Key', 'Value', 'Before', 'After']} caption="Registry">
          {diff.registry.map((r) => (
            <tr key={`${r.hive}${r.key}\u0000${r.value ?? ''}`}>
              <td>
                <ChangeBadge change={r.change} />
              </td>
              <td>{r.hive}</td>
              <td class="mono">{r.key}</td>
              <td class="mono">{r.value ?? '—'}</td>
              <td class="mono">{r.a ?? '—'}</td>
              <td class="mono">{r.b ?? '—'}</td>
            </tr>
          ))}
        </Table>
      )}
      {counts.drivers === 0 ? null : (
        <Table columns={['Change', 'INF', 'Where']} caption="Drivers">
          {diff.drivers.map((d) => (
            <tr key={`${d.where}${d.inf}`}>
              <td>
                <ChangeBadge change={d.change} />
              </td>
              <td class="mono">{d.inf}</td>
              <td>{d.where}</td>
            </tr>
          ))}
        </Table>
      )}
      {counts.unattend === 0 ? null : (
        <Table columns={['Change', 'Setting', 'Before', 'After']} caption="Unattend">
          {diff.unattend.map((u) => (
            <tr key={u.setting}>
              <td>
                <ChangeBadge change={u.change} />
              </td>
              <td class="mono">{u.setting}</td>
              <td class="mono">{u.a ?? '—'}</td>
              <td class="mono">{u.b ?? '—'}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

export function ImageDiffView({
  name,
  tag,
  index,
  images,
}: {
  readonly name: string;
  readonly tag: string;
  readonly index: number;
  /** The images to offer, this image's other tags first. */
  readonly images: readonly ImageSummary[];
}) {
  const { api } = useConsole();
  const others = images
    .filter((i) => !(i.name === name && i.tag === tag))
    .sort((x, y) => Number(y.name === name) - Number(x.name === name));
  const [to, setTo] = useState('');
  const [diff, setDiff] = useState<ImageDiff | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const chosen = to === '' ? (others[0] === undefined ? '' : `${others[0].name}:${others[0].tag}`) : to;

  const compare = (event: Event): void => {
    event.preventDefault();
    if (chosen === '') return;
    setBusy(true);
    setError(null);
    api
      .get<ImageDiff>(
        `/api/v1/images/${segment(name)}/tags/${segment(tag)}/diff?index=${index}&to=${encodeURIComponent(chosen)}`,
      )
      .then(
        (d) => {
          setDiff(d);
          setBusy(false);
        },
        (e: unknown) => {
          setError(e);
          setBusy(false);
        },
      );
  };

  if (others.length === 0) return <p class="muted">No other image to compare with.</p>;
  return (
    <>
      <form class="actions" onSubmit={compare}>
        <label for="diff-to">Compare with</label>
        <select id="diff-to" value={chosen} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
          {others.map((i) => (
            <option key={`${i.name}:${i.tag}`} value={`${i.name}:${i.tag}`}>
              {i.name}:{i.tag} ({shortDigest(i.digest)})
            </option>
          ))}
        </select>
        <button type="submit" class="primary" disabled={busy}>
          Compare
        </button>
      </form>
      <ErrorNotice error={error} />
      {busy ? (
        <p class="muted" role="status">
          Comparing the two images…
        </p>
      ) : null}
      {diff === null ? null : (
        <div role="region" aria-label={`Changes from ${name}:${tag} to ${diff.b.name}:${diff.b.tag}`}>
          <p>
            From <strong>{`${name}:${tag}`}</strong> (edition {diff.a.index}) to{' '}
            <strong>{`${diff.b.name}:${diff.b.tag}`}</strong> (edition {diff.b.index}):
          </p>
          <Changes diff={diff} />
        </div>
      )}
    </>
  );
}
