// Benchmark: serving. 8 parallel pulls of a 1 GiB image from `winsmith server` against nginx
// (Debian nginx-light, sendfile on) serving the same bytes as a plain file, in the same run.
//
//   npm run bench:serve [-- SIZE_BYTES=1GiB [PARALLEL=8]]
//
// The image is pushed into a fresh data directory (default chunk sizes), the real server process
// is started on it (127.0.0.1, a free port), and nginx on a generated config serves the original
// file. Each side is pulled PARALLEL times at once by the same HTTP client (node:http, bodies
// counted as they arrive, not stored: a light client, so the servers rather than the client set
// the pace); three rounds, the side going first alternating, the best round of each side counts.
// Prints every round, both throughputs, the ratio (goal ≥ 0.8) and the server's peak RSS from
// /proc/PID/status VmHWM (goal ≤ 200 MB).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccountStore } from '../src/auth/account-store.ts';
import { issueToken } from '../src/auth/tokens.ts';
import { runProgram } from '../src/engines/run.ts';
import { withTempDir } from '../src/io/output.ts';
import { pushFile } from '../src/app/transfer.ts';
import { DEFAULT_META } from '../src/store/repository.ts';
import { LocalApp } from '../src/app/local-app.ts';
import { timed } from './timed.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const size = Number(process.argv[2] ?? 1024 ** 3);
const parallel = Number(process.argv[3] ?? 8);
const ROUNDS = 3;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A file of `bytes` random bytes. */
async function makeImage(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    let written = 0;
    while (written < bytes) {
      const block = randomBytes(Math.min(8 * 1024 * 1024, bytes - written));
      await handle.write(block, 0, block.length, written);
      written += block.length;
    }
  } finally {
    await handle.close();
  }
}

/** The bytes of one GET's body, counted and dropped. */
function pull(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`${url}: HTTP ${String(response.statusCode)}`));
      let n = 0;
      response.on('data', (piece: Buffer) => (n += piece.length));
      response.on('end', () => resolve(n));
      response.on('error', reject);
    }).on('error', reject);
  });
}

async function pullAll(url: string, headers: Record<string, string>): Promise<number> {
  const [counts, seconds] = await timed(() =>
    Promise.all(
      Array.from({ length: parallel }, async () => {
        const n = await pull(url, headers);
        if (n !== size) throw new Error(`${url}: ${n} bytes, expected ${size}`);
        return n;
      }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

function mbps(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1024 / 1024).toFixed(0)} MiB/s`;
}

async function main(): Promise<void> {
  await withTempDir(async (dir) => {
    const image = join(dir, 'image.bin');
    process.stderr.write(`making a ${size}-byte image…\n`);
    await makeImage(image, size);
    const data = join(dir, 'data');
    const repo = await LocalApp.openDataDir(data);
    await repo
      .as({ user: 'bench', client: 'local' })
      .accounts.addUser({ name: 'bench', role: 'admin', scopes: [] });
    const { token } = await issueToken(new AccountStore(repo.database), { userName: 'bench', name: 'bench' });
    process.stderr.write('pushing it…\n');
    await pushFile(
      repo.as({ user: 'bench', client: 'local' }).images,
      image,
      { name: 'bench/image', tag: 'v1' },
      DEFAULT_META,
    );
    await repo.close();

    const server = spawn(process.execPath, [MAIN, 'server', '--data', data, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const serverUrl = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      server.stderr.on('data', (d: Buffer) => {
        buffer += d.toString();
        const m = /"msg":"listening","url":"([^"]+)"/.exec(buffer);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      server.once('exit', (code) => reject(new Error(`server exited (${String(code)}): ${buffer}`)));
    });

    const nginxPort = await freePort();
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      [
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'nginx-error.log')};`,
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        '  sendfile on;',
        '  tcp_nopush on;',
        `  client_body_temp_path ${dir};`,
        `  proxy_temp_path ${dir};`,
        `  fastcgi_temp_path ${dir};`,
        `  uwsgi_temp_path ${dir};`,
        `  scgi_temp_path ${dir};`,
        `  server { listen 127.0.0.1:${nginxPort}; root ${dir}; }`,
        '}',
        '',
      ].join('\n'),
    );
    const stopNginx = new AbortController();
    const nginx = runProgram('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'], {
      signal: stopNginx.signal,
      okExitCodes: [0, 1, 143],
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));

    const ours = `${serverUrl}/api/v1/images/bench%2Fimage/tags/v1/content`;
    const theirs = `http://127.0.0.1:${nginxPort}/image.bin`;
    let best = { ours: 0, nginx: 0 };
    const pullOurs = (): Promise<number> => pullAll(ours, { authorization: `Bearer ${token}` });
    const pullTheirs = (): Promise<number> => pullAll(theirs, {});
    for (let round = 1; round <= ROUNDS; round++) {
      let a: number;
      let b: number;
      if (round % 2 === 1) {
        a = await pullOurs();
        b = await pullTheirs();
      } else {
        b = await pullTheirs();
        a = await pullOurs();
      }
      process.stderr.write(`round ${round}: winsmith ${mbps(a)}, nginx ${mbps(b)}\n`);
      best = { ours: Math.max(best.ours, a), nginx: Math.max(best.nginx, b) };
    }
    const status = await readFile(`/proc/${String(server.pid)}/status`, 'utf8');
    const hwmKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    server.kill('SIGTERM');
    stopNginx.abort();
    await nginx;
    await new Promise((r) => server.once('exit', r));
    const ratio = best.ours / best.nginx;
    process.stdout.write(
      [
        `${parallel} parallel pulls of ${(size / 1024 ** 3).toFixed(2)} GiB`,
        `winsmith server: ${mbps(best.ours)}`,
        `nginx (sendfile): ${mbps(best.nginx)}`,
        `ratio: ${ratio.toFixed(2)}× (goal ≥ 0.8×)`,
        `server peak RSS (VmHWM): ${(hwmKiB / 1024).toFixed(0)} MB (goal ≤ 200 MB)`,
        '',
      ].join('\n'),
    );
  });
}

await main();
