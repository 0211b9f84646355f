// `winsmith server` as a real process (from source), for tests that kill it, measure its memory or
// send it what no client library would: started on a config, resolved once it logs `listening`.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** The generated admin password of a first start (from the file its log names), or null. */
  readonly adminPassword: string | null;
  readonly exited: Promise<void>;
}

export interface ServerProcessOptions {
  /** The network namespace it runs in, when one is named. */
  readonly netns?: string;
  /** The folder it starts in (by default this one's). */
  readonly cwd?: string;
  /** Flags after --config CONFIG. */
  readonly args?: readonly string[];
}

/** Starts `winsmith server --config CONFIG`; every line it writes on stderr goes to `log`. */
export function startServerProcess(
  config: string,
  log: string[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, MAIN, 'server', '--config', config, ...(options.args ?? [])];
    const [program, ...args] =
      options.netns === undefined ? command : ['ip', 'netns', 'exec', options.netns, ...command];
    const child = spawn(program ?? '', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let buffer = '';
    let password: string | null = null;
    // Generous: a loaded machine may take long to start it; a server that does not start is stopped.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${log.join('\n')}\n${buffer}`));
    }, 60_000);
    child.stderr.on('data', (data: Buffer) => {
      buffer += data.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        log.push(line);
        if (line.startsWith('{')) {
          const entry = JSON.parse(line) as { msg: string; url?: string; file?: string };
          // The first admin's password is not in the log: the log names the file it is in.
          if (entry.msg.startsWith('first admin created') && entry.file !== undefined) {
            password = readFileSync(entry.file, 'utf8').trim();
          }
          if (entry.msg === 'listening' && entry.url !== undefined) {
            clearTimeout(timer);
            resolve({ child, url: entry.url, adminPassword: password, exited });
          }
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${String(code)}:\n${log.join('\n')}`));
    });
  });
}

/**
 * The resident memory of process `pid` in bytes, from /proc/PID/status: now (VmRSS), or the most it
 * has held (VmHWM).
 */
export async function residentBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  if (kib === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/**
 * CPU seconds (user and system) from /proc/PID/stat: the process's own, all its threads, or its
 * children's that it has waited for.
 */
export async function cpuSeconds(pid: number, whose: 'self' | 'children' = 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may hold spaces): utime is the 14th field.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = whose === 'self' ? 11 : 13;
  return (Number(fields[at]) + Number(fields[at + 1])) / 100;
}
