// Server-sent events: the progress of long jobs the caller may see (those it may run, or whose
// image it may read; an event about an image only to callers whose scopes hold it), then each
// job's result or failure; deployments, builds and machines as they change (to whoever may read
// them). A stream sends `ready` once, then the events as they are published, and a `ping` after
// 15 s of silence. Its token is checked again before each write: the stream of a revoked token, or
// of a user disabled or removed, ends there.

import { streamSSE } from 'hono/streaming';
import { authorize, inScope, type Principal } from '../../auth/roles.ts';
import { bearer } from '../bearer.ts';
import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import type { JobEvent } from '../../app/events.ts';

/** Events one stream holds for a client slower than the jobs; past it the oldest are dropped. */
const MAX_QUEUED_EVENTS = 1024;
const PING_MS = 15_000;

/** Whether `principal` may see `e`: an event about an image (a deployment of it too) only when its scopes hold it. */
function visibleTo(principal: Principal | undefined, e: JobEvent): boolean {
  if (!authorize(principal, e.audience.action, e.audience.image ?? undefined)) return false;
  return e.audience.image === null || principal === undefined || inScope(principal, e.audience.image);
}

export function eventRoutes({ backend, events }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/events',
      summary:
        'server-sent events: progress of long jobs (store check, gc) the caller may run or whose image it may read; deployments, builds and machines as they change',
      action: 'store.read',
      ok: {
        status: 200,
        contentType: 'text/event-stream',
        description:
          'one event per progress step, done or failure, and per change of a deployment, a build or a machine',
      },
      handler(r) {
        return streamSSE(r.c, async (stream) => {
          const queue: JobEvent[] = [];
          let wake: (() => void) | null = null;
          const unsubscribe = events.subscribe((e) => {
            if (!visibleTo(r.principal, e)) return;
            queue.push(e);
            if (queue.length > MAX_QUEUED_EVENTS) queue.shift();
            wake?.();
          });
          const token = bearer(r.c) ?? '';
          const state = { open: true };
          const isOpen = (): boolean => state.open;
          /** The caller as it now is (its role or scopes may have changed), or null when locked out. */
          const current = (): Promise<Principal | null> => backend.authenticate(token);
          stream.onAbort(() => {
            state.open = false;
            wake?.();
          });
          try {
            await stream.writeSSE({ event: 'ready', data: '{}' });
            while (isOpen()) {
              const next = queue.shift();
              if (next === undefined) {
                await new Promise<void>((resolve) => {
                  wake = resolve;
                  setTimeout(resolve, PING_MS).unref();
                });
                wake = null;
                if (queue.length === 0 && isOpen()) {
                  if ((await current()) === null) break;
                  await stream.writeSSE({ event: 'ping', data: '{}' });
                }
                continue;
              }
              const principal = await current();
              if (principal === null) break;
              if (visibleTo(principal, next)) {
                await stream.writeSSE({ event: next.kind, data: JSON.stringify(next) });
              }
            }
          } finally {
            unsubscribe();
          }
        });
      },
    }),
  ];
}
