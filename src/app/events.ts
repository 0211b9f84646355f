// Progress of long jobs (store check, gc, ISO import) for server-sent events: jobs publish, each
// open /api/v1/events stream receives what is published after it connected, of the jobs its
// caller may see: each event names its audience, the action (and image, if any) a subscriber must
// be allowed, so that a store-wide job's results reach only those who may run it, and a job on one
// image only those whose scopes cover that image.

import type { Action } from '../auth/roles.ts';
import { AppError } from '../core/errors.ts';
import type { ProgressEvent, ProgressListener } from '../core/progress.ts';

/** Who may see a job's events: whoever `authorize` allows `action` (on `image`, when one is named). */
export interface JobAudience {
  readonly action: Action;
  readonly image: string | null;
}

export interface JobEvent {
  readonly job: string;
  readonly audience: JobAudience;
  /**
   * A job's progress, result or failure; or a deployment, a build or a machine as it now is (in
   * `result`); or a machine removed (`result`: its id, as `{ id }`).
   */
  readonly kind: 'progress' | 'done' | 'failed' | 'deployment' | 'build' | 'machine' | 'machine-removed';
  readonly progress?: ProgressEvent;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export type JobEventListener = (event: JobEvent) => void;

export class EventHub {
  readonly #listeners = new Set<JobEventListener>();
  #nextJob = 1;

  subscribe(listener: JobEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: JobEvent): void {
    for (const l of this.#listeners) l(event);
  }

  /** A new job id, e.g. 'check-3'. */
  newJob(kind: string): string {
    return `${kind}-${this.#nextJob++}`;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}

/** Publishes a job's progress, at most every 100 ms (and its last step), to its audience. */
function progressTo(events: EventHub, job: string, audience: JobAudience): ProgressListener {
  let last = 0;
  return (progress) => {
    const now = Date.now();
    if (now - last < 100 && progress.done < progress.total) return;
    last = now;
    events.publish({ job, audience, kind: 'progress', progress });
  };
}

/** Runs `work` as a job: its progress, then its result or its failure, published to `audience`. */
export async function runJob<T>(
  events: EventHub,
  kind: string,
  audience: JobAudience,
  work: (progress: ProgressListener) => Promise<T>,
): Promise<T> {
  const job = events.newJob(kind);
  try {
    const result = await work(progressTo(events, job, audience));
    events.publish({ job, audience, kind: 'done', result });
    return result;
  } catch (e) {
    const error =
      e instanceof AppError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: 'failed' };
    events.publish({ job, audience, kind: 'failed', error });
    throw e;
  }
}
