// Reading what a view shows: once when it opens, again when the event stream reconnects (events
// sent while it was down are lost), and when the view asks (after an action of its own).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useConsole } from './context.ts';
import type { Api } from './api.ts';

export interface Loaded<T> {
  readonly data: T | null;
  readonly error: unknown;
  readonly reload: () => void;
  /** Replaces the data shown (from an event) without a request. */
  readonly set: (update: (data: T | null) => T | null) => void;
}

export function useLoad<T>(read: (api: Api) => Promise<T>, keys: readonly unknown[]): Loaded<T> {
  const { api, events } = useConsole();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  useEffect(() => events.onConnected(reload), [events, reload]);
  useEffect(() => {
    let current = true;
    read(api).then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
      },
      (e: unknown) => {
        if (current) setError(e);
      },
    );
    return () => {
      current = false;
    };
    // `read` is a new function at each render: `keys` say when it reads something else.
  }, [api, round, ...keys]);
  return { data, error, reload, set: setData };
}
