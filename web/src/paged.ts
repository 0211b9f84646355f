// A listing the server gives a page at a time (`limit`, `cursor`, `next`): the first page read as
// the view opens (again when the filter changes), the next ones when the user asks for more, each
// appended to what is shown. When the event stream reconnects, as many records as were shown are
// read again in one page, so that the user does not lose the pages they had asked for.
import { useRef, useState } from 'preact/hooks';
import { useConsole } from './context.ts';
import { useLoad } from './load.ts';

/** Records a page holds by default: enough to fill a screen at once, few enough to show without waiting. */
export const PAGE_SIZE = 100;
/** The largest page the server gives (IMAGE_PAGE_MAX, MACHINE_PAGE_MAX). */
const SERVER_PAGE_MAX = 1000;

export interface Paged<T> {
  /** The records shown, null until the first page is read. */
  readonly items: readonly T[] | null;
  readonly error: unknown;
  /** Reads the next page; null when the last one is shown. */
  readonly more: (() => void) | null;
  /** Whether a next page is being read. */
  readonly busy: boolean;
  readonly reload: () => void;
  /** Changes the records shown (from an event or an action) without a request. */
  readonly set: (update: (items: readonly T[]) => readonly T[]) => void;
}

/** The listing at `path` in `filter`, whose pages hold their records under `key`, `size` a page. */
export function usePaged<T>(
  path: string,
  key: string,
  filter: Readonly<Record<string, string>> = {},
  size = PAGE_SIZE,
): Paged<T> {
  const { api } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const listing = JSON.stringify([path, key, filter, size]);
  // How many records of this listing are shown: what a first page read again asks for.
  const shown = useRef({ listing, count: size });
  if (shown.current.listing !== listing) shown.current = { listing, count: size };
  const read = async (
    cursor: string | null,
    limit: number,
  ): Promise<{ items: readonly T[]; next: string | null }> => {
    const query = new URLSearchParams({ ...filter, limit: String(limit) });
    if (cursor !== null) query.set('cursor', cursor);
    const page = await api.get<Readonly<Record<string, unknown>> & { readonly next: string | null }>(
      `${path}?${query.toString()}`,
    );
    return { items: page[key] as readonly T[], next: page.next };
  };
  const loaded = useLoad(() => read(null, Math.min(SERVER_PAGE_MAX, shown.current.count)), [listing]);
  const next = loaded.data?.next ?? null;
  const more =
    next === null || busy
      ? null
      : () => {
          setBusy(true);
          setError(null);
          read(next, size)
            .then(
              // Appended only to the pages it follows (not to a first page read again meanwhile).
              (page) =>
                loaded.set((data) => {
                  if (data === null || data.next !== next) return data;
                  const items = [...data.items, ...page.items];
                  shown.current = { listing, count: items.length };
                  return { items, next: page.next };
                }),
              setError,
            )
            .finally(() => setBusy(false));
        };
  return {
    items: loaded.data?.items ?? null,
    error: loaded.error ?? error,
    more,
    busy,
    reload: loaded.reload,
    set: (update) => loaded.set((data) => (data === null ? data : { ...data, items: update(data.items) })),
  };
}
