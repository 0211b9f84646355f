// The server's events (GET /api/v1/events) read from a fetch stream, so that the token travels in
// the Authorization header (EventSource cannot send one). The pages do not poll: they subscribe to
// the kinds they show (`deployment`, `build`) and read again what they show when the stream
// (re)connects, since events sent while it was down are lost.
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { Api } from './api.ts';
import type { ServerEvent } from './api-types.ts';

type ServerEventListener = (event: ServerEvent) => void;

/** After a stream breaks, the wait before the next try: doubled up to this. */
const MAX_RETRY_MS = 30_000;

export class EventFeed {
  readonly #listeners = new Set<ServerEventListener>();
  readonly #connected = new Set<() => void>();
  readonly #live = new Set<(live: boolean) => void>();
  readonly #abort = new AbortController();

  /** Runs `listener` on each event; the function returned stops it. */
  subscribe(listener: ServerEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `listener` each time the stream (re)connects: what was shown may be stale. */
  onConnected(listener: () => void): () => void {
    this.#connected.add(listener);
    return () => this.#connected.delete(listener);
  }

  /** Runs `listener` with true when the stream connects, false when it breaks. */
  onLive(listener: (live: boolean) => void): () => void {
    this.#live.add(listener);
    return () => this.#live.delete(listener);
  }

  #setLive(live: boolean): void {
    for (const l of this.#live) l(live);
  }

  /** Reads the stream of `api` until stop(), reconnecting after a break. */
  start(api: Api): void {
    const signal = this.#abort.signal;
    const stopped = (): boolean => signal.aborted;
    const run = async (): Promise<void> => {
      let retryMs = 1000;
      while (!stopped()) {
        try {
          const response = await api.stream('/api/v1/events', signal);
          if (response.body === null) throw new Error('the event stream has no body');
          const events = response.body
            .pipeThrough(new TextDecoderStream())
            .pipeThrough(new EventSourceParserStream());
          for await (const message of events) {
            if (message.event === 'ready') {
              retryMs = 1000;
              this.#setLive(true);
              for (const l of this.#connected) l();
              continue;
            }
            if (message.event === 'ping') continue;
            const event = JSON.parse(message.data) as ServerEvent;
            for (const l of this.#listeners) l(event);
          }
        } catch {
          // A break, a refused token (the session ends), or stop(): tried again unless stopped.
        }
        if (stopped()) return;
        this.#setLive(false);
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      }
    };
    void run();
  }

  stop(): void {
    this.#abort.abort();
  }
}
