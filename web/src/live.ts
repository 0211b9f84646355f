// Views kept current by the server's events: a `deployment` or `build` event carries the record as
// it now is, which replaces the one shown (no request, no polling).
import { useEffect, useRef } from 'preact/hooks';
import type { Build, Deployment, ServerEvent } from './api-types.ts';
import { useConsole } from './context.ts';

function useEventsOf(kind: ServerEvent['kind'], apply: (record: unknown) => void): void {
  const { events } = useConsole();
  const latest = useRef(apply);
  latest.current = apply;
  useEffect(
    () =>
      events.subscribe((e) => {
        if (e.kind === kind && e.result !== undefined) latest.current(e.result);
      }),
    [events, kind],
  );
}

/** Runs `apply` with each deployment the server publishes. */
export function useDeploymentEvents(apply: (deployment: Deployment) => void): void {
  useEventsOf('deployment', (record) => apply(record as Deployment));
}

/** Runs `apply` with each build the server publishes. */
export function useBuildEvents(apply: (build: Build) => void): void {
  useEventsOf('build', (record) => apply(record as Build));
}

/** `list` with `item` in place of the one of its id, or first when it is new. */
export function upsert<T extends { readonly id: string }>(list: readonly T[], item: T): T[] {
  return list.some((x) => x.id === item.id)
    ? list.map((x) => (x.id === item.id ? item : x))
    : [item, ...list];
}
