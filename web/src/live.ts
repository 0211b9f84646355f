// Views kept current by the server's events: a `deployment`, `build` or `machine` event carries the
// record as it now is, which replaces the one shown (no request, no polling); `machine-removed`
// names a machine gone.
import { useEffect, useRef } from 'preact/hooks';
import type { Build, Deployment, Machine, ServerEvent } from './api-types.ts';
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

/** Runs `apply` with each machine the server publishes, and `removed` with each removed one's id. */
export function useMachineEvents(apply: (machine: Machine) => void, removed: (id: string) => void): void {
  useEventsOf('machine', (record) => apply(record as Machine));
  useEventsOf('machine-removed', (record) => removed((record as { readonly id: string }).id));
}

/** `list` with `item` in place of the one of its id, or (when it is new) first, or last. */
export function upsert<T extends { readonly id: string }>(
  list: readonly T[],
  item: T,
  newAt: 'first' | 'last' = 'first',
): T[] {
  if (list.some((x) => x.id === item.id)) return list.map((x) => (x.id === item.id ? item : x));
  return newAt === 'first' ? [item, ...list] : [...list, item];
}
