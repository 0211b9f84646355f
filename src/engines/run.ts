// Runs another program: the only place that spawns. A missing program is an error naming the
// Debian package to install; a failing one is an error quoting what it said last.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { BUILT_PROGRAMS, PROGRAM_PACKAGES, builtFile, notBuilt, type Program } from './programs.ts';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the program's standard input, which is then closed. */
  readonly input?: string | Uint8Array;
  /** Each line of stdout and stderr, split on \n and on \r (progress lines end in \r). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Receives stdout as it comes instead of it being collected in the result. */
  readonly onStdout?: (chunk: Buffer) => void;
  /**
   * Stdout is left for the caller to read from StartedProgram.stdout, at its own pace (the
   * program waits while the caller does not read); it is then neither collected nor split.
   */
  readonly pipeStdout?: boolean;
  /** Exit codes that are not a failure (default: only 0). */
  readonly okExitCodes?: readonly number[];
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly exitCode: number;
}

/** The programs started by startProgram and runPiped that have not ended yet. */
const running = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  running.add(child);
  child.once('close', () => running.delete(child));
  child.once('error', () => {
    if (child.pid === undefined) running.delete(child);
  });
}

/**
 * Ends every program startProgram and runPiped started that still runs, at once (SIGKILL): a signal
 * is stopping this process, and what they write is about to be removed. Services are stopped by
 * their owners.
 */
export function killProgramsNow(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function isBuilt(program: Program): program is keyof typeof BUILT_PROGRAMS {
  return Object.hasOwn(BUILT_PROGRAMS, program);
}

/** A built program's file (build/ at the top of the project, from src/engines or dist/engines alike). */
function executable(program: Program): string {
  return isBuilt(program) ? builtFile(program) : program;
}

function missingProgram(program: Program, cause: unknown): AppError {
  if (isBuilt(program)) return notBuilt(program, BUILT_PROGRAMS[program], cause);
  const pkg = PROGRAM_PACKAGES[program];
  return new AppError('MISSING_PROGRAM', `${program} is not installed`, {
    hint: `install the Debian package ${pkg}: apt-get install -y ${pkg}`,
    cause,
  });
}

/** Why `program` could not be started: not installed (ENOENT), or another spawn error. */
function startFailure(program: Program, cause: NodeJS.ErrnoException): AppError {
  if (cause.code === 'ENOENT') return missingProgram(program, cause);
  return new AppError('PROGRAM_FAILED', `${program} could not be run: ${cause.message}`, { cause });
}

function lineSplitter(emit: (line: string) => void): { push(text: string): void; end(): void } {
  let pending = '';
  return {
    push(text) {
      const parts = (pending + text).split(/\r\n|\r|\n/);
      pending = parts.pop() ?? '';
      for (const part of parts) emit(part);
    },
    end() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}

/** A program started with its stdin left open: write to it, then wait for the end. */
export interface StartedProgram {
  readonly stdin: Writable;
  /** The program's stdout, for a caller that asked for `pipeStdout` (read by no one else). */
  readonly stdout: Readable;
  /** The program's end: as runProgram's result (stdout is empty when `onStdout` took it). */
  readonly done: Promise<RunResult>;
}

/**
 * Starts `program` and leaves its stdin open for the caller (`input` is not used). Stdout goes to
 * `onStdout` as it comes when given (its lines are then not split for `onLine`), else is collected.
 */
export function startProgram(
  program: Program,
  args: readonly string[],
  options: Omit<RunOptions, 'input'> = {},
): StartedProgram {
  const child = spawn(executable(program), args, {
    cwd: options.cwd,
    env: { ...process.env, LC_ALL: 'C.UTF-8', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    signal: options.signal,
  });
  track(child);
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    const out: Buffer[] = [];
    let stderr = '';
    const { onLine, onStdout } = options;
    const outLines = onLine && !onStdout ? lineSplitter((l) => onLine(l, 'stdout')) : undefined;
    const errLines = onLine ? lineSplitter((l) => onLine(l, 'stderr')) : undefined;
    if (options.pipeStdout !== true) {
      child.stdout.on('data', (chunk: Buffer) => {
        if (onStdout) onStdout(chunk);
        else out.push(chunk);
        outLines?.push(chunk.toString('utf8'));
      });
    }
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr += text;
      errLines?.push(text);
    });
    child.on('error', (cause: NodeJS.ErrnoException) => reject(startFailure(program, cause)));
    child.on('close', (code, signal) => {
      outLines?.end();
      errLines?.end();
      const exitCode = code ?? 128;
      const ok = options.okExitCodes ?? [0];
      if (signal !== null || !ok.includes(exitCode)) {
        reject(programFailed(program, args, exitCode, signal, stderr));
        return;
      }
      resolvePromise({ stdout: Buffer.concat(out), stderr, exitCode });
    });
  });
  child.stdin.on('error', () => undefined);
  return { stdin: child.stdin, stdout: child.stdout, done };
}

export function runProgram(
  program: Program,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const started = startProgram(program, args, options);
  if (options.input === undefined) started.stdin.end();
  else started.stdin.end(options.input);
  return started.done;
}

function programFailed(
  program: Program,
  args: readonly string[],
  exitCode: number,
  signal: NodeJS.Signals | null,
  stderr: string,
  exitLine?: RegExp,
): AppError {
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && exitLine?.test(l) !== true);
  const last = lines.at(-1) ?? 'no message';
  const how = signal === null ? `exit ${exitCode}` : `signal ${signal}`;
  return new AppError('PROGRAM_FAILED', `${program} ${args[0] ?? ''} failed (${how}): ${last}`, {
    hint: "the message is the program's own; run with --debug to see all it printed",
    cause: new Error(stderr),
  });
}

/** How a long-running program ended: its exit code, or the signal that ended it. */
export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it could not be started (it then has neither code nor signal). */
  readonly error: AppError | null;
}

export interface ServiceOptions {
  /** Where its stdout and stderr go too, as they come. */
  readonly logFile?: string;
  /** Add to the log file instead of replacing it (a program started again). */
  readonly appendLog?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** Each line of its stdout and stderr, as it comes. */
  readonly onLine?: (line: string) => void;
  /**
   * Keep only the last this many characters of its output (a program that writes progress for as
   * long as it runs); all of it when absent.
   */
  readonly keepLast?: number;
  /**
   * In a process group of its own: a Ctrl-C on the terminal reaches only this process, which then
   * stops the program itself, in the order it chooses.
   */
  readonly detached?: boolean;
}

/** A program that runs until it ends or is stopped: a server, a VM. */
export interface RunningService {
  readonly program: Program;
  readonly pid: number | undefined;
  readonly logFile: string | null;
  /** Settles when the program has exited (never rejects). */
  readonly exited: Promise<ServiceExit>;
  running(): boolean;
  /** All it wrote so far (or its end: ServiceOptions.keepLast), stdout and stderr in the order they came. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<ServiceExit>;
}

/** Starts `program` with no stdin, its output kept (and logged to a file when asked). */
export function startService(
  program: Program,
  args: readonly string[],
  options: ServiceOptions = {},
): RunningService {
  const child = spawn(executable(program), args, {
    env: { ...process.env, LC_ALL: 'C.UTF-8', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const log =
    options.logFile === undefined
      ? null
      : createWriteStream(options.logFile, { flags: options.appendLog === true ? 'a' : 'w' });
  log?.on('error', () => undefined);
  const { onLine } = options;
  const lines = onLine === undefined ? null : lineSplitter(onLine);
  let all = '';
  const keepLast = options.keepLast;
  const take = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    all += text;
    if (keepLast !== undefined && all.length > 2 * keepLast) all = all.slice(-keepLast);
    lines?.push(text);
    log?.write(chunk);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  let ended = false;
  const exited = new Promise<ServiceExit>((resolvePromise) => {
    const end = (exit: ServiceExit): void => {
      ended = true;
      lines?.end();
      log?.end();
      resolvePromise(exit);
    };
    child.on('error', (cause: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      end({ code: null, signal: null, error: startFailure(program, cause) });
    });
    child.on('close', (code, signal) => end({ code, signal, error: null }));
  });
  return {
    program,
    pid: child.pid,
    logFile: options.logFile ?? null,
    exited,
    running: () => !ended,
    output: () => (keepLast === undefined ? all : all.slice(-keepLast)),
    async stop(graceMs = 5000) {
      if (ended) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const done = await exited;
      clearTimeout(timer);
      return done;
    },
  };
}

/** One program of a pipeline. */
export interface PipedProgram {
  readonly program: Program;
  readonly args: readonly string[];
  /** Each line of its stderr (and, for the last, its stdout), as it comes. */
  readonly onLine?: (line: string) => void;
  /** What it prints as it exits, failed or not: never the message of its failure. */
  readonly exitLine?: RegExp;
}

/**
 * Runs `producer | consumer`: the producer's stdout goes to the consumer's stdin, with back-pressure.
 * A consumer that is done before the producer's end (wimlib stops reading once it has the image it
 * applies) leaves the rest to be read and dropped: the producer runs to its own end (udp-receiver
 * acknowledges every slice, and the session does not wait for this machine). A consumer that fails
 * while the producer still writes ends the producer, and its failure is the error. A producer that
 * fails does not end the consumer: its input ends there, and the consumer, which checks what it
 * reads (wimlib, each file's SHA-1 and the stream's end), fails on an input cut short, the
 * producer's failure then being the error, whichever of the two the system reports first; a
 * consumer that succeeds had all it needed (udp-receiver can end with a failure once every byte was
 * written). `signal` ends both.
 */
export async function runPiped(
  producer: PipedProgram,
  consumer: PipedProgram,
  signal?: AbortSignal,
): Promise<void> {
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  const first = spawn(executable(producer.program), producer.args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal,
  });
  const second = spawn(executable(consumer.program), consumer.args, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    signal,
  });
  track(first);
  track(second);
  first.stdout.pipe(second.stdin);
  second.stdin.on('error', () => undefined);
  // The producer's own failure, the consumer's, and whether the consumer is done or ended the producer.
  const state: {
    producerFailure: AppError | null;
    consumerFailure: AppError | null;
    consumerDone: boolean;
    producerStopped: boolean;
    producerOutputEnded: boolean;
  } = {
    producerFailure: null,
    consumerFailure: null,
    consumerDone: false,
    producerStopped: false,
    producerOutputEnded: false,
  };
  // The consumer reads the end of its input only after this.
  first.stdout.once('end', () => (state.producerOutputEnded = true));
  const ended = (
    child: ChildProcess & { stderr: Readable },
    part: PipedProgram,
    other: ChildProcess,
    isConsumer: boolean,
  ): Promise<void> =>
    new Promise((resolvePromise) => {
      let stderr = '';
      const lines = part.onLine === undefined ? null : lineSplitter(part.onLine);
      const fail = (error: AppError): void => {
        if (isConsumer) {
          state.consumerFailure = error;
          // A producer whose output has ended is ending on its own, and may be why the consumer
          // failed (its input cut short): it is left to end, its failure then being the error.
          if (!state.producerOutputEnded) {
            state.producerStopped = true;
            other.kill('SIGTERM');
          }
        } else if (!state.producerStopped) {
          state.producerFailure = error;
        }
        resolvePromise();
      };
      child.stderr.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        stderr += text;
        lines?.push(text);
      });
      if (isConsumer) child.stdout?.on('data', (chunk: Buffer) => lines?.push(chunk.toString('utf8')));
      child.on('error', (cause: NodeJS.ErrnoException) => fail(startFailure(part.program, cause)));
      child.on('close', (code, sig) => {
        lines?.end();
        if (sig !== null || code !== 0) {
          fail(programFailed(part.program, part.args, code ?? 128, sig, stderr, part.exitLine));
          return;
        }
        if (isConsumer) {
          state.consumerDone = true;
          first.stdout.unpipe(second.stdin);
          first.stdout.resume();
        }
        resolvePromise();
      });
    });
  await Promise.all([ended(first, producer, second, false), ended(second, consumer, first, true)]);
  // A producer that failed on its own cut the consumer's input: its failure is the cause.
  const failure = state.consumerDone ? null : (state.producerFailure ?? state.consumerFailure);
  if (failure !== null) throw failure;
}
