// GET /metrics of a real server on 127.0.0.1: the text parses with a strict Prometheus text-format
// reader (test/helpers/prometheus-text.ts) and counts a push, a pull and a boot script request
// (network boot's HTTP routes mounted as `winsmith server` mounts them), besides requests by route,
// deployments by state, the store's size and the process's figures. Who may read it: addresses of
// metrics.allow, or the metrics token.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareNetboot } from '../../src/app/netboot.ts';
import { loginRemote } from '../../src/app/remote/http-client.ts';
import { remoteSession } from '../../src/app/remote/remote-session.ts';
import { pullFile, pushFile } from '../../src/app/transfer.ts';
import { DEFAULT_REGISTRATION_LIMITS } from '../../src/boot/registration-gate.ts';
import { embeddedSettings, type ServerSettings } from '../../src/config/server-config.ts';
import { withTempDir } from '../../src/io/output.ts';
import { silentLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.ts';

const CHUNKING = { minSize: 4096, avgSize: 16384, maxSize: 65536 };

async function scrape(url: string, token?: string): Promise<Response> {
  return fetch(
    `${url}/metrics`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  );
}

test(
  'GET /metrics parses as Prometheus text and counts a push, a pull and a boot script request',
  { timeout: 120_000 },
  async () => {
    await withTempDir(async (dir) => {
      const settings: ServerSettings = {
        ...embeddedSettings(join(dir, 'data')),
        port: 0,
        chunking: CHUNKING,
      };
      const netboot = await prepareNetboot(
        {
          bootRoot: join(dir, 'boot'),
          ipxeDir: null,
          tftp: null,
          httpBase: null,
          dhcp: null,
          deployEnvironment: null,
          uefiChain: 'auto',
        },
        silentLogger,
      );
      let password = '';
      const { server } = await serveRepository(settings, {
        logger: silentLogger,
        onFirstAdmin: (a) => (password = a.password),
        extras: (app, metrics) => {
          const parts = netboot(app, {
            dataDir: settings.data,
            listen: () => ({ host: '127.0.0.1', port: 0, secure: false }),
            registration: DEFAULT_REGISTRATION_LIMITS,
            count: (event) => metrics.boot(event),
          });
          return { services: parts.services, mounts: [{ name: 'boot', app: parts.routes }] };
        },
      });
      try {
        const before = parsePrometheusText(await (await scrape(server.url)).text());
        assert.equal(sampleValue(before, 'winsmith_pushed_bytes_total'), 0);

        const { token } = await loginRemote(server.url, 'admin', password);
        const remote = remoteSession(server.url, token).images;
        const file = join(dir, 'image.bin');
        const bytes = randomBytes(300_000);
        await writeFile(file, bytes);
        const ref = { name: 'team-a/metrics', tag: 'v1' };
        const pushed = await pushFile(remote, file, ref, DEFAULT_META);
        await pullFile(remote, ref, join(dir, 'pulled.bin'));
        const script = await fetch(`${server.url}/boot/ipxe?mac=52-54-00-aa-bb-01&platform=efi`);
        assert.equal(script.status, 200, await script.text());

        const response = await scrape(server.url);
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const metrics = parsePrometheusText(await response.text());
        assert.equal(sampleValue(metrics, 'winsmith_pushed_bytes_total'), pushed.uploadedBytes);
        assert.equal(pushed.uploadedBytes, bytes.length);
        assert.equal(sampleValue(metrics, 'winsmith_pulled_bytes_total'), bytes.length);
        assert.equal(sampleValue(metrics, 'winsmith_boot_scripts_total', { loader: 'ipxe' }), 1);
        const chunkRoute = { method: 'PUT', route: '/api/v1/uploads/{id}/chunks/{digest}', status: '204' };
        assert.equal(sampleValue(metrics, 'winsmith_http_requests_total', chunkRoute), pushed.uploadedChunks);
        assert.equal(
          sampleValue(metrics, 'winsmith_http_request_duration_seconds_count', chunkRoute),
          pushed.uploadedChunks,
        );
        assert.equal(metrics.get('winsmith_http_request_duration_seconds')?.type, 'histogram');
        const content = { method: 'GET', route: '/api/v1/images/{name}/tags/{tag}/content', status: '200' };
        assert.equal(sampleValue(metrics, 'winsmith_http_requests_total', content), 1);
        assert.equal(
          sampleValue(metrics, 'winsmith_http_requests_total', {
            method: 'GET',
            route: '/boot/ipxe',
            status: '200',
          }),
          1,
        );
        // Figures are read at most every 30 s: the first scrape's, before the push, are still shown.
        assert.equal(sampleValue(metrics, 'winsmith_deployments', { state: 'queued' }), 0);
        assert.equal(sampleValue(metrics, 'winsmith_store_dedup_ratio'), 1);
        assert.equal(metrics.get('winsmith_dhcp_packets_total')?.type, 'counter');
        assert.equal(metrics.get('winsmith_tftp_transfers_total')?.type, 'counter');
        assert.ok(sampleValue(metrics, 'process_resident_memory_bytes') > 0);
        assert.ok(metrics.has('nodejs_eventloop_lag_seconds'));
      } finally {
        await server.close();
      }
    });
  },
);

test('/metrics answers the addresses of metrics.allow, or the metrics token', async () => {
  await withTempDir(async (dir) => {
    const open = { ...embeddedSettings(join(dir, 'a')), port: 0 };
    const closed: ServerSettings = {
      ...embeddedSettings(join(dir, 'b')),
      port: 0,
      metrics: { token: 'scrape-secret-123', allow: ['192.0.2.0/24'] },
    };
    const one = await serveRepository(open, { logger: silentLogger });
    const two = await serveRepository(closed, { logger: silentLogger });
    try {
      assert.equal((await scrape(one.server.url)).status, 200, 'this machine, by default');
      const none = await scrape(two.server.url);
      assert.equal(none.status, 403);
      assert.match(await none.text(), /not open to 127\.0\.0\.1.*metrics\.allow/);
      assert.equal((await scrape(two.server.url, 'wrong-token')).status, 401);
      const withToken = await scrape(two.server.url, 'scrape-secret-123');
      assert.equal(withToken.status, 200);
      assert.ok(parsePrometheusText(await withToken.text()).has('winsmith_http_requests_total'));
    } finally {
      await one.server.close();
      await two.server.close();
    }
  });
});

test('the text reader the tests use is strict', () => {
  const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  assert.equal(sampleValue(parsePrometheusText(good), 'a_total', { x: '1' }), 2);
  for (const bad of [
    'a_total 1\n',
    '# TYPE a counter\na 1',
    '# TYPE a counter\na{x=1} 1\n',
    '# TYPE a counter\na 1\na 2\n',
    '# TYPE a counter\na one\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n',
  ]) {
    assert.throws(() => parsePrometheusText(bad), Error, JSON.stringify(bad));
  }
});
