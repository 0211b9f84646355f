// A private network for boot tests: a network namespace with a bridge (10.N.M.1/24) and tap devices
// for VMs, deleted afterwards — also when the test fails. Processes run inside it with
// `ip netns exec`. Nothing here touches any other network.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../../../src/engines/run.ts';

export interface Done {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<Done>;
  /** Text written so far (stdout and stderr, in arrival order). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<Done>;
}

export interface Netns {
  readonly name: string;
  /** The bridge's address, e.g. 10.123.45.1 (the namespace's own network, /24). */
  readonly address: string;
  readonly subnet: string;
  readonly bridge: string;
  /** Per-run directory for logs and files (kept after the run). */
  readonly dir: string;
  /** An address of the subnet: host part `n` (2–254). */
  host(n: number): string;
  /** Adds a tap device on the bridge for one VM and returns its name. */
  addTap(): Promise<string>;
  /** Starts a process inside the namespace, its output going to `<dir>/<logName>.log`. */
  spawn(command: string, args: readonly string[], logName: string, env?: Record<string, string>): Spawned;
}

/** Runs `ip` to its end: its standard output; a failure throws (PROGRAM_FAILED, quoting stderr). */
async function ip(args: readonly string[]): Promise<string> {
  return (await runProgram('ip', args)).stdout.toString();
}

/** Why namespaces cannot be made here, or null when they can. */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const name = `ws-probe-${randomBytes(3).toString('hex')}`;
  try {
    await ip(['netns', 'add', name]);
    await ip(['netns', 'exec', name, 'ip', 'tuntap', 'add', 'tapprobe', 'mode', 'tap']);
    return null;
  } catch (e) {
    return `cannot make a network namespace with a tap device: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await ip(['netns', 'del', name]).catch(() => undefined);
  }
}

function spawnLogged(
  command: string,
  args: readonly string[],
  logPath: string,
  env?: Record<string, string>,
): Spawned {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const log = createWriteStream(logPath);
  let text = '';
  const onData = (c: Buffer): void => {
    text += c.toString('latin1');
    log.write(c);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<Done>((resolve) => {
    child.on('error', (e) => {
      text += `\nspawn failed: ${e.message}\n`;
      log.end();
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      log.end();
      resolve({ code, signal });
    });
  });
  return {
    child,
    logPath,
    exited,
    output: () => text,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const done = await exited;
        clearTimeout(timer);
        return done;
      }
      return exited;
    },
  };
}

/**
 * Runs `fn` with a fresh namespace; every process started through it is stopped and the namespace
 * deleted afterwards, whatever happens. The logs in `ns.dir` are removed when `fn` succeeds, and
 * kept (their folder named in the error) when it fails.
 */
export async function withNetns<T>(fn: (ns: Netns) => Promise<T>): Promise<T> {
  const name = `ws-${randomBytes(4).toString('hex')}`;
  const subnet = `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
  const address = `${subnet}.1`;
  const bridge = 'br0';
  const dir = await mkdtemp(join(tmpdir(), `winsmith-netboot-${name}-`));
  const started: Spawned[] = [];
  let taps = 0;
  let succeeded = false;
  await ip(['netns', 'add', name]);
  try {
    const inside = (args: readonly string[]) => ip(['netns', 'exec', name, ...args]);
    await inside(['ip', 'link', 'set', 'lo', 'up']);
    await inside(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    await inside(['ip', 'addr', 'add', `${address}/24`, 'dev', bridge]);
    await inside(['ip', 'link', 'set', bridge, 'up']);
    const ns: Netns = {
      name,
      address,
      subnet: `${subnet}.0/24`,
      bridge,
      dir,
      host: (n) => `${subnet}.${n}`,
      async addTap() {
        const tap = `tap${taps++}`;
        await inside(['ip', 'tuntap', 'add', tap, 'mode', 'tap']);
        await inside(['ip', 'link', 'set', tap, 'master', bridge]);
        await inside(['ip', 'link', 'set', tap, 'up']);
        return tap;
      },
      spawn(command, args, logName, env) {
        const s = spawnLogged(
          'ip',
          ['netns', 'exec', name, command, ...args],
          join(dir, `${logName}.log`),
          env,
        );
        started.push(s);
        return s;
      },
    };
    const result = await fn(ns).catch((e: unknown) => {
      if (e instanceof Error) e.message += ` (logs in ${dir})`;
      throw e;
    });
    succeeded = true;
    return result;
  } finally {
    await Promise.all(started.map((s) => s.stop(3000)));
    const leftover = await ip(['netns', 'pids', name]).catch(() => '');
    for (const pid of leftover.split('\n').filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip(['netns', 'del', name]);
    if (succeeded) await rm(dir, { recursive: true, force: true });
  }
}

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | null | Promise<T | null>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
