// What the agent tells the server while it works, as AgentReports: each state once and in order
// (with what goes with it: the inventory, the chosen disk, the error), the apply's progress at
// most every `progressMs` when it moved, log lines in batches, and a report at least every half
// heartbeat even when nothing changed. One report is in flight at a time; one that fails is sent
// again (with what came since) after a pause that doubles, and never stops the agent. A refusal
// that no retry can change (400: a report the server cannot take, dropped; 401/403/404/409/410:
// the deployment is over on the server) is passed to `onRefused`. Every line is scrubbed of the
// agent's secrets before it is reported or printed; lines waiting are bounded, the oldest dropped.

import {
  MAX_LINE_LENGTH,
  MAX_REPORT_LINES,
  type AgentInventory,
  type AgentReport,
} from '../deploy/agent-protocol.ts';
import { RequestError } from './agent-client.ts';
import { retryDelay, type RetryPolicy } from './retry.ts';
import type { SecretScrubber } from './secrets.ts';

export type ReportedState = NonNullable<AgentReport['state']>;

export interface StateReport {
  readonly state: ReportedState;
  readonly inventory?: AgentInventory;
  readonly disk?: string;
  readonly error?: { readonly message: string; readonly step: string };
}

export interface ReporterOptions {
  readonly send: (report: AgentReport) => Promise<void>;
  readonly scrubber: SecretScrubber;
  /** Progress at most this often. */
  readonly progressMs: number;
  /** Each line, scrubbed, as it is logged (the machine's console). */
  readonly print: (line: string) => void;
  /** Called once when the server refuses reports for good. */
  readonly onRefused: (error: RequestError) => void;
  readonly retry: RetryPolicy;
  /** Lines kept while reports cannot be sent. */
  readonly maxPendingLines: number;
}

const MAX_PENDING_LINES = 5000;

export const REPORTER_DEFAULTS = {
  progressMs: 2000,
  retry: { attempts: Number.POSITIVE_INFINITY, firstDelayMs: 500, maxDelayMs: 10_000 },
  maxPendingLines: MAX_PENDING_LINES,
} as const;

const REFUSED_FOR_GOOD = new Set([401, 403, 404, 409, 410]);

export class Reporter {
  readonly #options: ReporterOptions;
  readonly #states: StateReport[] = [];
  /** The machine's places in its multicast session, each sent once, in order. */
  readonly #multicast: NonNullable<AgentReport['multicast']>[] = [];
  /** Lines not yet delivered, each with its number in the order logged. */
  #lines: { readonly seq: number; readonly text: string }[] = [];
  #logged = 0;
  #droppedLines = 0;
  #progress: { done: number; total: number } | null = null;
  #progressSent = true;
  #lastSent = 0;
  #lastProgressSent = 0;
  #failures = 0;
  #retryAt = 0;
  #sending: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #tickMs = 0;
  #heartbeatMs = Number.POSITIVE_INFINITY;
  #refused = false;
  readonly #idle = new Set<() => void>();

  constructor(options: ReporterOptions) {
    this.#options = options;
  }

  /** Starts sending a report at least every `heartbeatMs` (half the task's heartbeat). */
  start(heartbeatMs: number): void {
    this.#lastSent = Date.now();
    this.#heartbeatMs = heartbeatMs;
    this.#tickMs = Math.max(50, Math.min(this.#options.progressMs, heartbeatMs) / 2);
    this.#timer = setInterval(() => this.#pump(), this.#tickMs);
  }

  /** Stops the heartbeat; what is queued stays unsent. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  state(report: StateReport): void {
    const error =
      report.error === undefined
        ? undefined
        : { message: this.#line(report.error.message), step: report.error.step.slice(0, 64) };
    this.#states.push({ ...report, ...(error === undefined ? {} : { error }) });
    this.#pump();
  }

  /** The machine's place in its multicast session. */
  multicast(report: NonNullable<AgentReport['multicast']>): void {
    const reason = report.reason === undefined ? {} : { reason: this.#line(report.reason) };
    this.#multicast.push({ state: report.state, ...reason });
    this.#pump();
  }

  progress(done: number, total: number): void {
    if (this.#progress?.done === done && this.#progress.total === total) return;
    this.#progress = { done, total };
    this.#progressSent = false;
  }

  log(text: string): void {
    const line = this.#line(text);
    this.#options.print(line);
    this.#lines.push({ seq: ++this.#logged, text: line });
    if (this.#lines.length > this.#options.maxPendingLines) {
      this.#lines.shift();
      this.#droppedLines++;
    }
  }

  /** True once everything queued has been delivered, false if `timeoutMs` passed first. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#drained()) {
      if (this.#refused || Date.now() >= deadline) return false;
      this.#pump();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#idle.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(200, Math.max(1, deadline - Date.now())));
        this.#idle.add(wake);
      });
    }
    return true;
  }

  #line(text: string): string {
    const clean = this.#options.scrubber.scrub(text).replace(/[\r\n]+/g, ' ');
    return clean.length > MAX_LINE_LENGTH ? `${clean.slice(0, MAX_LINE_LENGTH - 1)}…` : clean;
  }

  #drained(): boolean {
    return (
      this.#states.length === 0 &&
      this.#multicast.length === 0 &&
      this.#lines.length === 0 &&
      this.#progressSent &&
      this.#sending === null
    );
  }

  /** Sends the next report if one is due and none is in flight. */
  #pump(): void {
    if (this.#sending !== null || this.#refused) return;
    const now = Date.now();
    if (now < this.#retryAt) return;
    const progressDue = !this.#progressSent && now - this.#lastProgressSent >= this.#options.progressMs;
    const due =
      this.#states.length > 0 ||
      this.#multicast.length > 0 ||
      this.#lines.length > 0 ||
      progressDue ||
      now - this.#lastSent >= this.#heartbeatMs - this.#tickMs;
    if (!due) return;
    this.#sending = this.#send().finally(() => {
      this.#sending = null;
      for (const wake of [...this.#idle]) wake();
    });
  }

  async #send(): Promise<void> {
    const state = this.#states[0];
    const multicast = this.#multicast[0];
    const dropped = this.#droppedLines;
    const marker =
      dropped > 0 ? [`(${dropped} earlier lines were dropped while reports could not be sent)`] : [];
    const queued = this.#lines.slice(0, MAX_REPORT_LINES - marker.length);
    const lines = [...marker, ...queued.map((l) => l.text)];
    const progress = this.#progress;
    const sendsProgress = progress !== null && !this.#progressSent;
    const report: AgentReport = {
      ...(state === undefined ? {} : state),
      ...(multicast === undefined ? {} : { multicast }),
      ...(sendsProgress ? { progress } : {}),
      ...(lines.length === 0 ? {} : { log: lines }),
    };
    try {
      await this.#options.send(report);
    } catch (error) {
      if (!(error instanceof RequestError) || error.retryable) {
        this.#failures++;
        this.#retryAt = Date.now() + retryDelay(this.#options.retry, this.#failures, Math.random());
        return;
      }
      if (REFUSED_FOR_GOOD.has(error.status ?? 0)) {
        this.#refused = true;
        this.stop();
        this.#options.onRefused(error);
        return;
      }
      this.#options.print(`the server refused a report, which is dropped: ${this.#line(error.message)}`);
    }
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastSent = Date.now();
    if (state !== undefined) this.#states.shift();
    if (multicast !== undefined) this.#multicast.shift();
    const lastSeq = queued.at(-1)?.seq;
    if (lastSeq !== undefined) this.#lines = this.#lines.filter((l) => l.seq > lastSeq);
    this.#droppedLines -= dropped;
    if (sendsProgress && this.#progress === progress) {
      this.#progressSent = true;
      this.#lastProgressSent = this.#lastSent;
    }
  }
}
