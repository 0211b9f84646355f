// A log read a part at a time: the lines after the last one shown, read again each time `version`
// changes (an event said something happened), never on a timer.
import { useEffect, useRef, useState } from 'preact/hooks';
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
  const after = useRef(0);
  const reading = useRef(false);
  const box = useRef<HTMLPreElement>(null);
  const [connected, setConnected] = useState(0);
  useEffect(() => events.onConnected(() => setConnected((n) => n + 1)), [events]);
  useEffect(() => {
    setLines([]);
    after.current = 0;
  }, [path]);
  useEffect(() => {
    if (reading.current) return;
    reading.current = true;
    api
      .get<{ lines: LogLine[] }>(`${path}?after=${after.current}`)
      .then(
        ({ lines: more }) => {
          setError(null);
          if (more.length === 0) return;
          after.current = more[more.length - 1]?.id ?? after.current;
          setLines((old) => [...old, ...more]);
        },
        (e: unknown) => setError(e),
      )
      .finally(() => {
        reading.current = false;
      });
  }, [api, path, version, connected]);
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
