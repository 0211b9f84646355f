// `winsmith machines` on a data directory whose catalog the boot routes filled.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { catalogBootRegistry } from '../../src/boot/catalog-registry.ts';
import { httpBootRoutes } from '../../src/boot/http-boot.ts';
import { locateBootFiles } from '../../src/boot/boot-files.ts';
import { Catalog } from '../../src/store/catalog/catalog.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

test('machines lists what iPXE registered, as a table and as JSON', { timeout: 60_000 }, async () => {
  const data = await mkdtemp(join(tmpdir(), 'winsmith-machines-'));
  try {
    const catalog = await Catalog.open({ kind: 'sqlite', path: join(data, 'catalog.sqlite') });
    try {
      const app = httpBootRoutes({
        registry: catalogBootRegistry(catalog),
        files: { located: await locateBootFiles() },
        httpBase: 'http://10.5.5.1:8080',
      });
      const script = await (
        await app.request(
          '/boot/ipxe?mac=52-54-00-00-00-01&uuid=11111111-2222-3333-4444-555555555555&manufacturer=QEMU&product=Standard%20PC&buildarch=i386&platform=pcbios',
        )
      ).text();
      const hello = /http:\/\/10\.5\.5\.1:8080(\/boot\/hello\S+)/.exec(script)?.[1];
      assert.ok(hello !== undefined);
      assert.equal((await app.request(hello)).status, 200);
      await app.request('/boot/ipxe?mac=52-54-00-00-00-02&platform=efi&buildarch=x86_64');
    } finally {
      await catalog.close();
    }

    const json = await runWinsmith(['machines', '--json', '--data', data]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      list.map((m) => [m['mac'], m['uuid'], m['manufacturer'], m['platform'], m['arch']]).sort(),
      [
        ['52:54:00:00:00:01', '11111111-2222-3333-4444-555555555555', 'QEMU', 'pcbios', 'i386'],
        ['52:54:00:00:00:02', null, null, 'efi', 'x86_64'],
      ],
    );
    const first = list.find((m) => m['mac'] === '52:54:00:00:00:01');
    assert.ok(first);
    assert.notEqual(first['lastCheckIn'], null);
    assert.equal(first['deployment'], null);
    assert.equal(list.find((m) => m['mac'] === '52:54:00:00:00:02')?.['lastCheckIn'], null);

    const text = await runWinsmith(['machines', '--data', data]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^MAC\s+UUID\s+MACHINE\s+FIRMWARE\s+FIRST SEEN\s+LAST SEEN\s+CHECK-IN\s+DEPLOYMENT$/,
    );
    assert.equal(lines.length, 3);
    assert.ok(text.stdout.includes('QEMU Standard PC'));

    const missing = await runWinsmith(['machines', '--data', join(data, 'nothing')]);
    assert.ok(isCleanFailure(missing), missing.stderr);
    assert.match(missing.stderr, /no catalog at/);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});
