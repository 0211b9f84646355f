// Server-sent events: the progress of long jobs the caller may see (those it may run, or whose
// image it may read; an event about an image only to callers whose scopes hold it), then each
// job's result or failure. A stream sends `ready` once, then the
// events as they are published, and a `ping` after 15 s of silence.

import { streamSSE } from 'hono/streaming';
import { authorize, inScope } from '../../auth/roles.ts';
import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import type { JobEvent } from '../../app/events.ts';

/** Events one stream holds for a client slower than the jobs; past it the oldest are dropped. */
const MAX_QUEUED_EVENTS = 1024;
const PING_MS = 15_000;

export function eventRoutes({ events }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/events',
      summary:
        'server-sent events: progress of long jobs (store check, gc) the caller may run or whose image it may read',
      action: 'store.read',
      ok: {
        status: 200,
        contentType: 'text/event-stream',
        description: 'one event per progress step, done or failure',
      },
      handler(r) {
        return streamSSE(r.c, async (stream) => {
          const queue: JobEvent[] = [];
          let wake: (() => void) | null = null;
          const unsubscribe = events.subscribe((e) => {
            if (!authorize(r.principal, e.audience.action, e.audience.image ?? undefined)) return;
            // An event about an image (a deployment of it too) reaches only callers whose scopes hold it.
            if (
              e.audience.image !== null &&
              r.principal !== undefined &&
              !inScope(r.principal, e.audience.image)
            )
              return;
            queue.push(e);
            if (queue.length > MAX_QUEUED_EVENTS) queue.shift();
            wake?.();
          });
          const state = { open: true };
          const isOpen = (): boolean => state.open;
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
                if (queue.length === 0 && isOpen()) await stream.writeSSE({ event: 'ping', data: '{}' });
                continue;
              }
              await stream.writeSSE({ event: next.kind, data: JSON.stringify(next) });
            }
          } finally {
            unsubscribe();
          }
        });
      },
    }),
  ];
}
