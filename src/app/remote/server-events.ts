// A server's event stream (GET /api/v1/events, server-sent events) read until the caller aborts:
// each event goes to `onEvent` as it comes. A stream the server ends, or a connection that breaks,
// is opened again after a second; the events in between are the ones a watcher re-reads by listing.

import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isAppError } from '../../core/errors.ts';
import type { HttpClient } from './http-client.ts';

const RECONNECT_MS = 1000;

export async function watchEvents(
  http: HttpClient,
  signal: AbortSignal,
  onEvent: (event: EventSourceMessage) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await http.request('GET', '/api/v1/events', { signal });
      const parser = createParser({ onEvent });
      const decoder = new TextDecoder();
      if (response.body !== null) {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
        }
      }
    } catch (e) {
      // A refusal (a token revoked, a role without the right) does not heal by trying again; a
      // broken connection (or the caller's abort, which ends the loop) does.
      if (isAppError(e) && e.code !== 'IO_ERROR') throw e;
    }
    await sleep(RECONNECT_MS, undefined, { signal }).catch(() => undefined);
  }
}
