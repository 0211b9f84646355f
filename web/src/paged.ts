// A listing the server gives a page at a time (`limit`, `cursor`, `next`): the first page read as
// the view opens (again when the event stream reconnects, or the filter changes), the next ones
// when the user asks for more, each appended to what is shown.
import { useState } from 'preact/hooks';
import { useConsole } from './context.ts';
import { useLoad } from './load.ts';

/** Records a page holds: enough to fill a screen at once, few enough to show without waiting. */
export const PAGE_SIZE = 100;

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

/** The listing at `path` in `filter`, whose pages hold their records under `key`. */
export function usePaged<T>(
  path: string,
  key: string,
  filter: Readonly<Record<string, string>> = {},
): Paged<T> {
  const { api } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const url = (cursor: string | null): string => {
    const query = new URLSearchParams({ ...filter, limit: String(PAGE_SIZE) });
    if (cursor !== null) query.set('cursor', cursor);
    return `${path}?${query.toString()}`;
  };
  const read = async (cursor: string | null): Promise<{ items: readonly T[]; next: string | null }> => {
    const page = await api.get<Readonly<Record<string, unknown>> & { readonly next: string | null }>(
      url(cursor),
    );
    return { items: page[key] as readonly T[], next: page.next };
  };
  const loaded = useLoad(() => read(null), [path, key, JSON.stringify(filter)]);
  const next = loaded.data?.next ?? null;
  const more =
    next === null || busy
      ? null
      : () => {
          setBusy(true);
          setError(null);
          read(next)
            .then(
              // Appended only to the pages it follows (not to a first page read again meanwhile).
              (page) =>
                loaded.set((data) =>
                  data === null || data.next !== next
                    ? data
                    : { items: [...data.items, ...page.items], next: page.next },
                ),
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
