// The files of one edition of an image, a folder at a time (GET …/files): a breadcrumb of the
// folders down to this one, its entries (folders first) with size and SHA-1, a folder opened by its
// button, and the next page of a big folder (WinSxS) on demand. Everything is a link or a button:
// the keyboard reaches it all, and the focus goes to the folder's heading when it changes.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ImageDirectory } from '../api-types.ts';
import { segment } from '../api.ts';
import { useConsole } from '../context.ts';
import { formatBytes } from '../format.ts';
import { ErrorNotice } from './common.tsx';
import { Table } from './table.tsx';

/** Entries asked for at a time (the server gives at most 1000). */
const PAGE = 500;

function parentsOf(path: string): { readonly name: string; readonly path: string }[] {
  const parts = path.split('/').filter((p) => p !== '');
  return [
    { name: 'Root', path: '/' },
    ...parts.map((name, i) => ({ name, path: `/${parts.slice(0, i + 1).join('/')}` })),
  ];
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function FileBrowser({
  name,
  tag,
  index,
}: {
  readonly name: string;
  readonly tag: string;
  readonly index: number;
}) {
  const { api } = useConsole();
  const [path, setPath] = useState('/');
  const [listing, setListing] = useState<ImageDirectory | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const moved = useRef(false);

  const read = (dir: string, offset: number): Promise<ImageDirectory> =>
    api.get<ImageDirectory>(
      `/api/v1/images/${segment(name)}/tags/${segment(tag)}/files?index=${index}&path=${encodeURIComponent(dir)}&offset=${offset}&limit=${PAGE}`,
    );

  useEffect(() => {
    let current = true;
    setLoading(true);
    read(path, 0).then(
      (page) => {
        if (!current) return;
        setListing(page);
        setError(null);
        setLoading(false);
        if (moved.current) heading.current?.focus();
      },
      (e: unknown) => {
        if (!current) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [api, name, tag, index, path]);

  const open = (dir: string): void => {
    moved.current = true;
    setPath(dir);
  };
  const more = (): void => {
    if (listing?.next === null || listing === null) return;
    read(listing.path, listing.next).then(
      (page) => setListing({ ...page, entries: [...listing.entries, ...page.entries] }),
      setError,
    );
  };

  const crumbs = parentsOf(path);
  return (
    <div class="file-browser">
      <nav aria-label="Folder">
        <ol class="breadcrumb">
          {crumbs.map((c, i) => (
            <li key={c.path}>
              {i === crumbs.length - 1 ? (
                <span aria-current="location">{c.name}</span>
              ) : (
                <button type="button" class="link" onClick={() => open(c.path)}>
                  {c.name}
                </button>
              )}
            </li>
          ))}
        </ol>
      </nav>
      <h3 tabIndex={-1} ref={heading} class="mono">
        {path}
      </h3>
      <ErrorNotice error={error} />
      {loading && listing === null ? (
        <p class="muted" role="status">
          Reading the folder…
        </p>
      ) : null}
      {listing === null ? null : (
        <>
          <p class="muted" role="status">
            {loading
              ? 'Reading the folder…'
              : `${listing.total} ${listing.total === 1 ? 'entry' : 'entries'}${listing.entries.length < listing.total ? `, ${listing.entries.length} shown` : ''}`}
          </p>
          <Table columns={['Name', 'Size', 'SHA-1']} caption={`Files in ${listing.path}`} hiddenCaption>
            {listing.entries.map((e) => (
              <tr key={e.name}>
                <td>
                  {e.isDir ? (
                    <button
                      type="button"
                      class="link folder"
                      onClick={() => open(join(listing.path, e.name))}
                    >
                      {e.name}
                      <span aria-hidden="true">/</span>
                    </button>
                  ) : (
                    <span class="file-name">{e.name}</span>
                  )}
                </td>
                <td class="num nowrap">{e.isDir ? '—' : formatBytes(e.size)}</td>
                <td class="mono">{e.sha1 === null ? '—' : e.sha1.slice(0, 12)}</td>
              </tr>
            ))}
          </Table>
          {listing.next === null ? null : (
            <button type="button" onClick={more}>
              More entries
            </button>
          )}
        </>
      )}
    </div>
  );
}
