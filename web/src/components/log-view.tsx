// A log read a part at a time: the lines after the last one shown, read again each time `version`
// changes (an event said something happened), never on a timer.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../api-types.ts';
import { useConsole } from '../context.ts';
import { ErrorNotice } from './common.tsx';

export function LogView({
  path,
  version,
  label,
}: {
  /** The log's route, without `?after=`. */
  readonly path: string;
  readonly version: unknown;
  readonly label: string;
}) {
  const { api, events } = useConsole();
  const [lines, setLines] = useState<readonly LogLine[]>([]);
  const [error, setError] = useState<unknown>(null);
  const box = useRef<HTMLPreElement>(null);
  /** The log being read, the id of its last line shown, and whether a read is under way or owed. */
  const state = useRef({ path, after: 0, reading: false, again: false });
  const [connected, setConnected] = useState(0);
  useEffect(() => events.onConnected(() => setConnected((n) => n + 1)), [events]);
  const read = useCallback((): void => {
    const s = state.current;
    if (s.reading) {
      s.again = true;
      return;
    }
    s.reading = true;
    s.again = false;
    api
      .get<{ lines: LogLine[] }>(`${s.path}?after=${s.after}`)
      .then(
        ({ lines: more }) => {
          if (state.current !== s) return;
          setError(null);
          if (more.length === 0) return;
          s.after = more[more.length - 1]?.id ?? s.after;
          setLines((old) => [...old, ...more]);
        },
        (e: unknown) => {
          if (state.current === s) setError(e);
        },
      )
      .finally(() => {
        s.reading = false;
        // An event came while this read was under way: what it announced may be after it.
        if (s.again && state.current === s) read();
      });
  }, [api]);
  useEffect(() => {
    state.current = { path, after: 0, reading: false, again: false };
    setLines([]);
  }, [path]);
  useEffect(read, [read, path, version, connected]);
  useEffect(() => {
    const el = box.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <>
      <ErrorNotice error={error} />
      {lines.length === 0 ? (
        <p class="muted">No log line yet.</p>
      ) : (
        <pre class="log" ref={box} tabIndex={0} aria-label={label} aria-live="polite">
          {lines.map((l) => `${new Date(l.at).toLocaleTimeString()}  ${l.line}\n`).join('')}
        </pre>
      )}
    </>
  );
}
