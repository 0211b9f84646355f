// Small pieces every view uses: an API error as the server worded it, a progress bar, a state.
import type { ComponentChildren } from 'preact';
import { ApiError, errorMessage } from '../api.ts';
import { percent } from '../format.ts';

/** An error as the server said it: its message, what to do (its hint), and its code. */
export function ErrorNotice({ error }: { readonly error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <div class="notice error" role="alert">
      <p>{errorMessage(error)}</p>
      {error instanceof ApiError && error.hint !== null ? <p class="hint">{error.hint}</p> : null}
      {error instanceof ApiError ? <p class="code">{error.code}</p> : null}
    </div>
  );
}

/** What a view shows while its data is not there: the loading line, or nothing once the read failed (its error is shown). */
export function Pending({
  loaded,
  what,
}: {
  readonly loaded: { readonly error: unknown };
  readonly what: string;
}) {
  if (loaded.error !== null) return null;
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ProgressBar({
  done,
  total,
  label,
}: {
  readonly done: number;
  readonly total: number;
  readonly label: string;
}) {
  const value = percent(done, total);
  return (
    <span class="progress">
      <progress max={100} value={value} aria-label={label} />
      <span class="progress-text">{value}%</span>
    </span>
  );
}

const STATE_TONES: Readonly<Record<string, string>> = {
  done: 'good',
  ready: 'good',
  failed: 'bad',
  cancelled: 'quiet',
  pending: 'warn',
  queued: 'quiet',
  active: 'good',
  revoked: 'bad',
  expired: 'quiet',
};

export function StateBadge({ state }: { readonly state: string }) {
  return <span class={`badge ${STATE_TONES[state] ?? 'busy'}`}>{state}</span>;
}

export function PageTitle({ children }: { readonly children: ComponentChildren }) {
  return <h1 tabIndex={-1}>{children}</h1>;
}
