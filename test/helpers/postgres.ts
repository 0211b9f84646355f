// A private PostgreSQL cluster for tests: initdb in a temp directory (as the `postgres` user when
// running as root, since initdb refuses root), listening on a unix socket in that directory and on
// 127.0.0.1 at a free port only. One cluster per test file; each test gets a fresh database.
// `stop` drops what was made, stops the cluster and deletes the directory, also after a failure.

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const POSTGRES_LIB = '/usr/lib/postgresql';

/** The bin directory of the newest installed PostgreSQL, or undefined when none is installed. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const versions = readdirSync(POSTGRES_LIB)
    .filter((v) => existsSync(join(POSTGRES_LIB, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(POSTGRES_LIB, versions[0], 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresSkipReason(): string | undefined {
  return findPostgresBin() === undefined
    ? `PostgreSQL is not installed (no ${POSTGRES_LIB}/*/bin/initdb): apt-get install -y postgresql`
    : undefined;
}

export interface PostgresCluster {
  /** A new, empty database; its URL (with the password) for openDatabase. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresSkipReason());
  const asRoot = process.getuid?.() === 0;
  const asOwner = (program: string, args: string[]) =>
    asRoot
      ? exec('runuser', ['-u', 'postgres', '--', join(bin, program), ...args])
      : exec(join(bin, program), args);

  const dir = await mkdtemp(join(tmpdir(), 'winsmith-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const user = 'winsmith';
  let started = false;
  let port = 0;

  // If the test process ends without `stop` (a runner timeout, Ctrl-C), the cluster must not
  // outlive it: stop it synchronously on the way out.
  const stopNow = (): void => {
    if (!started) return;
    started = false;
    const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]);
    else spawnSync(join(bin, 'pg_ctl'), args);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    stopNow();
    process.kill(process.pid, signal);
  };
  process.once('exit', stopNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const stopCluster = async (): Promise<void> => {
    process.off('exit', stopNow);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (started) {
      started = false;
      await asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() =>
        asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
      );
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    if (asRoot) {
      const { stdout } = await exec('id', ['-u', 'postgres']);
      const { stdout: gid } = await exec('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o644 });
    await asOwner('initdb', [
      '-D',
      data,
      '-U',
      user,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await rm(pwfile);
    port = await freePort();
    const options = [
      `-k ${dir}`,
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    started = true;
    await asOwner('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  } catch (e) {
    const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
    await stopCluster();
    throw new Error(`PostgreSQL did not start: ${String(e)}\n${log}`, { cause: e });
  }

  const url = (database: string) => `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  const databases: string[] = [];

  return {
    async createDatabase() {
      const name = `catalog_${databases.length + 1}_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name} STRATEGY FILE_COPY`);
      databases.push(name);
      return url(name);
    },
    async stop() {
      try {
        for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      } finally {
        await stopCluster();
      }
    },
  };
}
