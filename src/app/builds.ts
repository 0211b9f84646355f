// Builds the server runs (`winsmith build RECIPE --repo URL`, POST /api/v1/builds): queued, at most
// `max` at a time, each as the user who started it (its pulls and its push are that user's). A
// build lives in a folder of its own under the builds folder:
//
//   job.json     who started it, what it makes, its state (queued, running, failed, cancelled, done)
//   recipe.yaml  the recipe's text as it was sent
//   build.log    the lines the build wrote, one per line, each after its time
//   work/        the build's folder (src/app/build.ts): its record build.json, the serial log, the
//                latest screenshot, the answer media and the disk's layers while it runs
//
// The host paths of a recipe the server runs are relative to the deployment share and must lead
// inside it; its result goes to the repository (output.tag), never to a file of the server. A
// server that stops fails the builds it was running (they resume from their last finished phase)
// and runs its queued ones when it starts again. Builds are seen by those who may read their
// output image; started, cancelled and resumed by those who may build it.

import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import { formatImageRef, parseImageRef } from '../core/names.ts';
import type { ProgressListener } from '../core/progress.ts';
import { loadBuildRecipe, parseBuildRecipe, type RecipeReading } from '../build/build-recipe.ts';
import { readBuildRecord, type BuildRecord } from '../build/build-record.ts';
import type { BuildSettings } from '../config/server-config.ts';
import { SCREENSHOT_FILE } from '../build/build-vm-run.ts';
import { requireInShare } from '../deploy/deployment-share.ts';
import { exists } from '../io/paths.ts';
import type { Recorder } from './audit-trail.ts';
import { resumeBuild, startBuild, type BuildEvents } from './build.ts';
import type { EventHub, JobAudience } from './events.ts';
import type { Actor, ActorNeeds, Builds, Session } from './session.ts';
import { visibleTo, type ImageVisibility } from './visibility.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export const BUILD_STATES = ['queued', 'running', 'failed', 'cancelled', 'done'] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export type { BuildSettings };

/** A build as it is shown: its job and, once it started, its record (phases, steps, result). */
export interface BuildView {
  readonly id: string;
  readonly state: BuildState;
  /** The user who started it (its pulls and push are theirs). */
  readonly owner: string;
  /** The recipe's name as it was sent, and the SHA-256 of its text. */
  readonly recipe: { readonly file: string; readonly sha256: string };
  /** NAME:TAG the result is stored as. */
  readonly output: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly record: BuildRecord | null;
}

/** job.json: the view but the record, with the actor the build runs as. */
interface BuildJob extends Omit<BuildView, 'record' | 'owner'> {
  readonly format: 1;
  readonly actor: Actor;
  state: BuildState;
  startedAt: string | null;
  endedAt: string | null;
  error: { readonly code: string; readonly message: string } | null;
}

/** A build's log lines given at most at once, and the serial log's bytes. */
export const MAX_BUILD_LOG_LINES = 1000;
export const MAX_SERIAL_BYTES = 1024 * 1024;
/** The builds a listing shows at most, newest first. */
export const MAX_BUILDS_LISTED = 500;

const JOB_FILE = 'job.json';
const RECIPE_FILE = 'recipe.yaml';
const LOG_FILE = 'build.log';
const WORK_DIR = 'work';
/** A build's folder being removed is renamed to this and its id, out of the list. */
const REMOVED_PREFIX = '.removed-';
/** A build id: what randomUUID makes, and nothing else is ever a path below the builds folder. */
const BUILD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function now(): string {
  return new Date().toISOString();
}

const SERVER_STOPPED = {
  code: 'INTERRUPTED',
  message: 'the server stopped while the build ran; resume it to go on from its last finished phase',
} as const;

/** The answer about a build that does not exist, or that the caller may not see. */
export function buildNotFound(id: string): AppError {
  return new AppError('NOT_FOUND', `no build ${JSON.stringify(id.slice(0, 100))}`, {
    hint: '`winsmith builds` lists them',
  });
}

function errorOf(e: unknown): { code: string; message: string } {
  return e instanceof AppError
    ? { code: e.code, message: e.message }
    : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export interface BuildServiceParts {
  readonly settings: BuildSettings;
  /** The deployment share: the folder a recipe's host paths are relative to. */
  readonly share: string;
  readonly events: EventHub;
  /**
   * The session a build runs in: its owner's, as the owner's rights stand now, allowed each of
   * `needs` (FORBIDDEN otherwise: AccountService.actorNow).
   */
  readonly sessionNow: (actor: Actor, needs: ActorNeeds) => Promise<Session>;
  readonly recorderFor: (actor: Actor) => Recorder;
}

export class BuildService {
  readonly #parts: BuildServiceParts;
  readonly #queue: string[] = [];
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Runs builds: only the server does (a CLI on the same data directory only looks at them). */
  #runner = false;
  /** The server is stopping: the builds it stops fail (they resume), they are not cancelled. */
  #stopping = false;
  /** Log lines are appended one after the other, in the order they were written. */
  #logging = Promise.resolve();

  constructor(parts: BuildServiceParts) {
    this.#parts = parts;
  }

  get #dir(): string {
    return this.#parts.settings.dir;
  }

  /**
   * Makes this process the one that runs builds: those it was running when it last stopped have
   * failed (they resume), those queued run.
   */
  async serve(): Promise<void> {
    this.#runner = true;
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.#dir)) {
      if (name.startsWith(REMOVED_PREFIX)) await rm(join(this.#dir, name), { recursive: true, force: true });
    }
    const jobs = (await this.#jobs()).reverse();
    for (const job of jobs) {
      if (job.state === 'running') {
        job.state = 'failed';
        job.endedAt = now();
        job.error = SERVER_STOPPED;
        await this.#save(job);
        await this.#log(job.id, job.error.message);
      }
      if (job.state === 'queued') this.#queue.push(job.id);
    }
    this.#pump();
  }

  /** Checks the recipe (its host paths in the share) and queues the build. */
  async start(actor: Actor, text: string, file: string): Promise<BuildView> {
    this.#requireRunner();
    const recipe = await loadBuildRecipe(file, this.#reading(text));
    if (recipe.source.kind === 'image' && !visibleTo(actor)(recipe.source.image.name)) {
      throw new AppError(
        'FORBIDDEN',
        `user ${actor.user} may not read ${recipe.source.image.name}, the image the build services`,
        { hint: 'ask an admin for a scope that reads it' },
      );
    }
    const tag = recipe.output.tag;
    if (tag === null || recipe.output.disk !== null) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${file}: a build the server runs stores its result in the repository: output needs tag:${recipe.output.disk === null ? '' : ', and no disk:'}`,
        {
          hint: 'give output.tag NAME:TAG; to get a disk file, run the build here with a local --repo and --work',
        },
      );
    }
    const job: BuildJob = {
      format: 1,
      id: randomUUID(),
      actor,
      state: 'queued',
      recipe: { file, sha256: recipe.sha256 },
      output: formatImageRef(tag),
      createdAt: now(),
      startedAt: null,
      endedAt: null,
      error: null,
    };
    const folder = join(this.#dir, job.id);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeFile(join(folder, RECIPE_FILE), text, { mode: 0o600 });
    await this.#save(job);
    await this.#log(job.id, `queued by ${actor.user}: ${file} → ${job.output}`);
    await this.#parts.recorderFor(actor)('build.start', job.id, { recipe: job.recipe, output: job.output });
    this.#queue.push(job.id);
    this.#publish(job, null);
    this.#pump();
    return this.#view(job, null);
  }

  /** The image name a recipe's text stores into (from its text alone): for the caller's rights. */
  recipeOutput(text: string, file: string): string | null {
    return parseBuildRecipe(text, file, this.#parts.share).output.tag?.name ?? null;
  }

  async list(visible: ImageVisibility): Promise<BuildView[]> {
    const jobs = (await this.#jobs()).filter((j) => visible(this.#outputName(j)));
    return Promise.all(jobs.map(async (j) => this.#view(j, await this.#record(j.id))));
  }

  async show(id: string, visible: ImageVisibility): Promise<BuildView> {
    const job = await this.#visible(id, visible);
    return this.#view(job, await this.#record(id));
  }

  /** The build's log lines after line `after`. */
  async logs(
    id: string,
    after: number,
    visible: ImageVisibility,
  ): Promise<{ id: number; at: string; line: string }[]> {
    await this.#visible(id, visible);
    const text = await readFile(join(this.#dir, id, LOG_FILE), 'utf8').catch(() => '');
    return text
      .split('\n')
      .slice(0, -1)
      .map((entry, n) => {
        const space = entry.indexOf(' ');
        return { id: n + 1, at: entry.slice(0, space), line: entry.slice(space + 1) };
      })
      .filter((l) => l.id > after)
      .slice(0, MAX_BUILD_LOG_LINES);
  }

  /** The VM's serial log from byte `offset`, at most MAX_SERIAL_BYTES of it, and where the next read starts. */
  async serial(
    id: string,
    offset: number,
    visible: ImageVisibility,
  ): Promise<{ offset: number; next: number; text: string }> {
    await this.#visible(id, visible);
    const file = await open(join(this.#dir, id, WORK_DIR, 'serial.log')).catch(() => null);
    if (file === null) return { offset, next: offset, text: '' };
    try {
      const length = Math.max(0, Math.min(MAX_SERIAL_BYTES, (await file.stat()).size - offset));
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return { offset, next: offset + bytesRead, text: buffer.subarray(0, bytesRead).toString('utf8') };
    } finally {
      await file.close();
    }
  }

  /** The VM's latest screenshot (PNG). */
  async screenshot(id: string, visible: ImageVisibility): Promise<Buffer> {
    await this.#visible(id, visible);
    try {
      return await readFile(join(this.#dir, id, WORK_DIR, SCREENSHOT_FILE));
    } catch (cause) {
      throw new AppError('NOT_FOUND', `build ${id} has no screenshot yet`, {
        hint: 'the screen is saved every few seconds once its VM runs',
        cause,
      });
    }
  }

  /** Cancels a queued build, or stops a running one (its folder is kept: it can be resumed). */
  async cancel(actor: Actor, id: string): Promise<BuildView> {
    this.#requireRunner();
    const job = await this.#job(id);
    const running = this.#running.get(id);
    if (running !== undefined) {
      await this.#log(id, `cancelled by ${actor.user}`);
      running.controller.abort();
      await running.done;
    } else if (job.state === 'queued') {
      this.#queue.splice(this.#queue.indexOf(id), 1);
      job.state = 'cancelled';
      job.endedAt = now();
      await this.#save(job);
      await this.#log(id, `cancelled by ${actor.user} before it started`);
      this.#publish(job, null);
    } else {
      throw new AppError(
        'CONFLICT',
        `build ${id} is ${job.state}: only a queued or running build is cancelled`,
        {
          hint: job.state === 'done' ? 'it is over' : `resume it with \`winsmith build resume ${id}\``,
        },
      );
    }
    await this.#parts.recorderFor(actor)('build.cancel', id);
    return this.show(id, () => true);
  }

  /** Queues a failed or cancelled build again: it goes on from its last finished phase, as `actor`. */
  async resume(actor: Actor, id: string): Promise<BuildView> {
    this.#requireRunner();
    const old = await this.#job(id);
    if (old.state !== 'failed' && old.state !== 'cancelled') {
      throw new AppError(
        'CONFLICT',
        `build ${id} is ${old.state}: only a failed or cancelled build is resumed`,
        {
          hint: old.state === 'done' ? 'start a new build' : 'it is under way',
        },
      );
    }
    const job: BuildJob = { ...old, actor, state: 'queued', endedAt: null, error: null };
    await this.#save(job);
    await this.#log(id, `resumed by ${actor.user}`);
    await this.#parts.recorderFor(actor)('build.resume', id);
    this.#queue.push(id);
    this.#publish(job, await this.#record(id));
    this.#pump();
    return this.#view(job, await this.#record(id));
  }

  /**
   * Removes a build that is over (done, failed or cancelled): its folder, the VM's disks, log and
   * screenshots. Its folder is renamed out of the list first, so a removal cut short shows nothing
   * half removed; the server finishes it when it starts again.
   */
  async remove(actor: Actor, id: string): Promise<void> {
    this.#requireRunner();
    const job = await this.#job(id);
    if (job.state === 'queued' || job.state === 'running') {
      throw new AppError('CONFLICT', `build ${id} is ${job.state}: only a build that is over is removed`, {
        hint: `cancel it first: winsmith build cancel ${id}`,
      });
    }
    const removed = join(this.#dir, `${REMOVED_PREFIX}${id}`);
    await rename(join(this.#dir, id), removed);
    await this.#parts.recorderFor(actor)('build.remove', id, { output: job.output });
    await rm(removed, { recursive: true, force: true });
  }

  /** The output image name of a build (NOT_FOUND when there is none), for the caller's scope check. */
  async imageOf(id: string): Promise<string> {
    return this.#outputName(await this.#job(id));
  }

  /** Stops the running builds (they fail, and resume when the server starts again). */
  async close(): Promise<void> {
    this.#runner = false;
    this.#stopping = true;
    this.#queue.length = 0;
    const running = [...this.#running.values()];
    for (const r of running) r.controller.abort();
    await Promise.all(running.map((r) => r.done));
  }

  #requireRunner(): void {
    if (!this.#runner) {
      throw new AppError('CONFLICT', 'builds are started, cancelled and resumed by a winsmith server', {
        hint: 'give --repo the server URL, or run a build here: winsmith build RECIPE --work DIR --repo DATA',
      });
    }
  }

  /** How a recipe sent to the server is read: its host paths in the deployment share. */
  #reading(text: string): RecipeReading {
    const share = this.#parts.share;
    return { text, base: share, check: (input) => requireInShare(share, input) };
  }

  #pump(): void {
    while (this.#runner && this.#running.size < this.#parts.settings.max) {
      const id = this.#queue.shift();
      if (id === undefined) return;
      const controller = new AbortController();
      const done = this.#run(id, controller.signal).finally(() => {
        this.#running.delete(id);
        this.#pump();
      });
      this.#running.set(id, { controller, done });
    }
  }

  async #run(id: string, signal: AbortSignal): Promise<void> {
    // A build removed while a resume queued it again (the two asked at once) is not run.
    const job = await this.#job(id).catch(() => null);
    if (job === null) return;
    const folder = join(this.#dir, id);
    const work = join(folder, WORK_DIR);
    job.state = 'running';
    job.startedAt = now();
    await this.#save(job);
    const record = await this.#record(id);
    this.#publish(job, record);
    const events: BuildEvents = {
      line: (text) => void this.#log(id, text),
      progress: this.#progress(job),
      saved: (r) => this.#publish(job, r),
    };
    try {
      const text = await readFile(join(folder, RECIPE_FILE), 'utf8');
      const reading = this.#reading(text);
      // The owner's rights are checked again as the build starts, and each time it uses the repository.
      const source = parseBuildRecipe(text, job.recipe.file, this.#parts.share).source;
      const needs: ActorNeeds = [
        { action: 'image.build', image: this.#outputName(job) },
        ...(source.kind === 'image' ? [{ action: 'image.read' as const, image: source.image.name }] : []),
      ];
      const repository = async (): Promise<Session['images']> =>
        (await this.#parts.sessionNow(job.actor, needs)).images;
      await repository();
      if (record !== null) {
        await resumeBuild({ work, reading, repository, events, signal });
      } else {
        await rm(work, { recursive: true, force: true });
        await startBuild({
          recipe: job.recipe.file,
          reading,
          work,
          repository,
          accelerator: this.#parts.settings.accelerator,
          events,
          signal,
        });
      }
      job.state = 'done';
      await this.#log(id, 'done');
    } catch (e) {
      job.state = signal.aborted && !this.#stopping ? 'cancelled' : 'failed';
      job.error = this.#stopping ? SERVER_STOPPED : errorOf(e);
      await this.#log(id, `${job.state}: ${job.error.message}`);
    }
    job.endedAt = now();
    await this.#save(job);
    this.#publish(job, await this.#record(id));
  }

  /** Progress of a build's long steps (ISO check, pull, capture, push), to its audience every 100 ms. */
  #progress(job: BuildJob): ProgressListener {
    let last = 0;
    return (progress) => {
      const at = Date.now();
      if (at - last < 100 && progress.done < progress.total) return;
      last = at;
      this.#parts.events.publish({ job: job.id, audience: this.#audience(job), kind: 'progress', progress });
    };
  }

  #audience(job: BuildJob): JobAudience {
    return { action: 'image.read', image: this.#outputName(job) };
  }

  #publish(job: BuildJob, record: BuildRecord | null): void {
    this.#parts.events.publish({
      job: job.id,
      audience: this.#audience(job),
      kind: 'build',
      result: this.#view(job, record),
    });
  }

  #view(job: BuildJob, record: BuildRecord | null): BuildView {
    return {
      id: job.id,
      state: job.state,
      owner: job.actor.user,
      recipe: job.recipe,
      output: job.output,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      endedAt: job.endedAt,
      error: job.error,
      record,
    };
  }

  #outputName(job: BuildJob): string {
    return parseImageRef(job.output).name;
  }

  async #record(id: string): Promise<BuildRecord | null> {
    const work = join(this.#dir, id, WORK_DIR);
    return (await exists(join(work, 'build.json'))) ? readBuildRecord(work) : null;
  }

  async #job(id: string): Promise<BuildJob> {
    const text = BUILD_ID.test(id)
      ? await readFile(join(this.#dir, id, JOB_FILE), 'utf8').catch(() => null)
      : null;
    if (text === null) throw buildNotFound(id);
    return JSON.parse(text) as BuildJob;
  }

  /** The job of a build the caller may see; one it may not is not found, as one that does not exist. */
  async #visible(id: string, visible: ImageVisibility): Promise<BuildJob> {
    const job = await this.#job(id);
    if (!visible(this.#outputName(job))) throw buildNotFound(id);
    return job;
  }

  /** Every build's job, newest first (MAX_BUILDS_LISTED at most). */
  async #jobs(): Promise<BuildJob[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const jobs: BuildJob[] = [];
    for (const name of names.filter((n) => BUILD_ID.test(n))) {
      const job = await this.#job(name).catch(() => null);
      if (job !== null) jobs.push(job);
    }
    return jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, MAX_BUILDS_LISTED);
  }

  async #save(job: BuildJob): Promise<void> {
    const path = join(this.#dir, job.id, JOB_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(job, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  #log(id: string, text: string): Promise<void> {
    const line = `${now()} ${text.replaceAll('\n', ' ')}\n`;
    this.#logging = this.#logging.then(() =>
      appendFile(join(this.#dir, id, LOG_FILE), line, { mode: 0o600 }).catch(() => undefined),
    );
    return this.#logging;
  }
}

const POLL_MS = 1000;

/** The build operations of `actor` (whose rights the caller has checked). */
export function buildsFor(service: BuildService, actor: Actor): Builds {
  const visible = visibleTo(actor);
  return {
    start: ({ recipe, file }) => service.start(actor, recipe, file),
    list: () => service.list(visible),
    show: (id) => service.show(id, visible),
    logs: (id, after) => service.logs(id, after, visible),
    serial: (id, offset) => service.serial(id, offset, visible),
    screenshot: (id) => service.screenshot(id, visible),
    cancel: (id) => service.cancel(actor, id),
    resume: (id) => service.resume(actor, id),
    remove: (id) => service.remove(actor, id),
    async watch(onChange, signal) {
      const seen = new Map<string, string>();
      while (!signal.aborted) {
        for (const b of await service.list(visible)) {
          const key = JSON.stringify([b.state, b.record?.phases, b.record?.steps]);
          if (seen.get(b.id) === key) continue;
          seen.set(b.id, key);
          onChange(b);
        }
        await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
      }
    },
  };
}
