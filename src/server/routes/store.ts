// The routes of the store as a whole: its figures, a check of every chunk, manifest and image,
// and garbage collection (the last two as jobs whose progress goes to /api/v1/events).

import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { runJob } from '../../app/events.ts';
import { CheckReport, GcReport, StoreStats } from '../schemas.ts';

export function storeRoutes({ backend, events }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/store/stats',
      summary: 'logical bytes (sum of artifact sizes), stored bytes, chunks, artifacts',
      action: 'store.read',
      ok: { status: 200, description: 'the figures', json: StoreStats },
      handler: (r) => backend.as(r.actor).images.stats(),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/store/check',
      summary: 'verify every chunk, manifest and image content (progress on /api/v1/events)',
      action: 'store.check',
      ok: { status: 200, description: 'the check report', json: CheckReport },
      handler(r) {
        const images = backend.as(r.actor).images;
        const audience = { action: 'store.check', image: null } as const;
        return runJob(events, 'check', audience, (p) => images.check(p));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/store/gc',
      summary:
        'delete chunks no manifest references, older than the grace period (progress on /api/v1/events)',
      action: 'store.gc',
      ok: { status: 200, description: 'the gc report', json: GcReport },
      handler(r) {
        const images = backend.as(r.actor).images;
        const audience = { action: 'store.gc', image: null } as const;
        return runJob(events, 'gc', audience, (p) => images.gc(p));
      },
    }),
  ];
}
