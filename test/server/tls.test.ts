// TLS: `winsmith server` with a certificate the test's own CA signed (openssl) serves the API over
// HTTPS only, and the boot routes and the deploy agent's on a plain-HTTP boot listener. The CLI
// refuses the unknown CA with one error line, trusts it with --ca or WINSMITH_CA, and checks
// nothing with --insecure, warning each time. A token stored by login under one spelling of the
// server's URL is used under another.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src/core/errors.ts';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { makeTestCertificates } from '../helpers/test-ca.ts';
import { INSECURE_WARNING } from '../../src/cli/repo-option.ts';
import { silentLogger } from '../../src/server/log.ts';
import { startServer } from '../../src/server/server.ts';

/** GET over HTTPS trusting `ca` only: status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .once('error', reject)
      .end();
  });
}

const MAC = '52-54-00-12-34-56';

test(
  'TLS: API over HTTPS only, boot routes on the plain listener, the CLI checks the certificate',
  { timeout: 180_000 },
  async () => {
    await withTempDir(async (dir) => {
      const certs = await makeTestCertificates(dir);
      const config = join(dir, 'server.yaml');
      await writeFile(
        config,
        [
          'data: ./data',
          'listen: 127.0.0.1:0',
          `tls: { cert: ${certs.cert}, key: ${certs.key} }`,
          'boot: { listen: 127.0.0.1:0 }',
          '',
        ].join('\n'),
      );
      const log: string[] = [];
      const server = await startServerProcess(config, log);
      try {
        const api = server.url;
        assert.match(api, /^https:\/\/127\.0\.0\.1:\d+$/);
        const bootLine = log.find((l) => l.includes('"msg":"boot listener"'));
        const boot = (JSON.parse(bootLine ?? '{}') as { url?: string }).url ?? '';
        assert.match(boot, /^http:\/\/127\.0\.0\.1:\d+$/);
        const env = { HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home', '.config') };
        const winsmith = (args: string[], more: Record<string, string> = {}, input = ''): Promise<CliRun> =>
          runWinsmith(args, { env: { ...env, ...more }, input });
        const password = `${server.adminPassword ?? ''}\n`;

        // An unknown CA: one error line that says how to trust it.
        const refused = await winsmith(['login', api, '--user', 'admin', '--password-stdin'], {}, password);
        assert.ok(isCleanFailure(refused), refused.stderr);
        assert.match(
          refused.stderr,
          /^error: the certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted: unable to verify the first certificate — if a private CA signed it, pass --ca FILE \(or set WINSMITH_CA\)/,
        );

        // Trusted with --ca; the token is stored under the origin, whatever the spelling given.
        const spelled = `${api.replace('https', 'HTTPS')}/`;
        const login = await winsmith(
          ['login', spelled, '--user', 'admin', '--password-stdin', '--ca', certs.ca],
          {},
          password,
        );
        assert.equal(login.code, 0, login.stderr);
        const stored = JSON.parse(
          await readFile(join(dir, 'home', '.config', 'winsmith', 'credentials.json'), 'utf8'),
        ) as {
          servers: Record<string, unknown>;
        };
        assert.deepEqual(Object.keys(stored.servers), [api]);

        const images = ['images', '--repo', `${api}/`];
        const unknown = await winsmith(images);
        assert.ok(isCleanFailure(unknown), unknown.stderr);
        assert.match(unknown.stderr, /is not trusted/);
        for (const run of [
          await winsmith([...images, '--ca', certs.ca]),
          await winsmith(images, { WINSMITH_CA: certs.ca }),
        ]) {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.stderr, '');
        }
        const missingCa = await winsmith([...images, '--ca', join(dir, 'no-such-ca.pem')]);
        assert.ok(isCleanFailure(missingCa), missingCa.stderr);
        assert.match(missingCa.stderr, /no-such-ca\.pem \(--ca\) cannot be read/);

        // --insecure works, and warns every time it is used.
        for (let i = 0; i < 2; i++) {
          const insecure = await winsmith([...images, '--insecure']);
          assert.equal(insecure.code, 0, insecure.stderr);
          assert.equal(insecure.stderr, `${INSECURE_WARNING}\n`);
        }

        // Plain HTTP to the TLS port gets no API: the CLI says to use https://.
        const plainToTls = api.replace('https:', 'http:');
        await assert.rejects(fetch(`${plainToTls}/api/health`));
        const wrongScheme = await winsmith(['images', '--repo', plainToTls]);
        assert.ok(isCleanFailure(wrongScheme), wrongScheme.stderr);
        assert.match(wrongScheme.stderr, /try https:\/\/127\.0\.0\.1/);

        // The boot routes on the plain listener; the scripts send machines there.
        const script = await fetch(`${boot}/boot/ipxe?mac=${MAC}`);
        assert.equal(script.status, 200);
        const text = await script.text();
        assert.match(text, /^#!ipxe/);
        assert.ok(text.includes(`${boot}/boot/hello?mac=`), text);
        const file = await fetch(`${boot}/boot/files/undionly.kpxe`, { method: 'HEAD' });
        assert.equal(file.status, 200);
        assert.ok(Number(file.headers.get('content-length')) > 0);
        // A script asked for over HTTPS sends the machine to the plain listener too.
        const overTls = await httpsGet(`${api}/boot/ipxe?mac=${MAC}`, await readFile(certs.ca, 'utf8'));
        assert.equal(overTls.status, 200);
        assert.ok(overTls.body.includes(`${boot}/boot/hello?mac=`), overTls.body);
        // The deploy agent's routes are there (a call without its token is refused by the API)…
        assert.equal((await fetch(`${boot}/api/v1/agent/task`)).status, 401);
        // …and nothing else of the API.
        const other = await fetch(`${boot}/api/v1/images`);
        assert.equal(other.status, 404);
        assert.deepEqual(await other.json(), {
          error: {
            code: 'NOT_FOUND',
            message: 'this listener serves only the boot routes and the deploy agent',
            hint: `use the API at ${api}`,
          },
        });
        const throughBoot = await winsmith(['images', '--repo', boot]);
        assert.ok(isCleanFailure(throughBoot), throughBoot.stderr);
        assert.match(throughBoot.stderr, new RegExp(`use the API at ${api.replace(/\./g, '\\.')}`));
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    });
  },
);

test('TLS: a certificate or key that cannot be used stops the start with one error saying which', async () => {
  await withTempDir(async (dir) => {
    const certs = await makeTestCertificates(dir);
    const start = (tls: { cert: string; key: string }) =>
      startServer({ host: '127.0.0.1', port: 0, tls, fetch: () => new Response(''), logger: silentLogger });
    await assert.rejects(start({ cert: certs.cert, key: join(dir, 'ca.key') }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.match(e.message, /^the TLS certificate or key is not usable: .*key values mismatch/);
      return true;
    });
    await assert.rejects(
      start({ cert: join(dir, 'missing.pem'), key: certs.key }),
      /missing\.pem cannot be read/,
    );
    await assert.rejects(start({ cert: certs.key, key: certs.key }), /not usable/);
  });
});
