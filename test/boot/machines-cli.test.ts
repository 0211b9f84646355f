// `winsmith machines` and `winsmith machine add|show|set|rm` on a data directory whose machines
// the boot routes registered, and on a server over its API (the same Session either way).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import { locateBootFiles } from '../../src/boot/boot-files.ts';
import { httpBootRoutes } from '../../src/boot/http-boot.ts';
import { grubTftpFiles } from '../../src/boot/grub-boot.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

/** A data directory where two machines booted (one checked in), to `fn`; removed after. */
async function withBootedMachines(fn: (data: string) => Promise<void>): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'winsmith-machines-'));
  try {
    const local = await LocalApp.openDataDir(data);
    try {
      const app = httpBootRoutes({
        registry: local.bootPorts().registry,
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
      // The second machine's GRUB (Secure Boot) checks in with lockdown=y.
      const grub = grubTftpFiles({
        registry: local.bootPorts().registry,
        httpBase: 'http://10.5.5.1:8080',
      }).files;
      const config = new TextDecoder().decode(
        (await grub('grub/winsmith/machine/52:54:00:00:00:02', '10.5.5.9')) ?? new Uint8Array(),
      );
      const grubHello = /\$prefix\/(winsmith\/hello\/\S+\/sb-)\$lockdown/.exec(config)?.[1];
      assert.ok(grubHello !== undefined, config);
      assert.notEqual(await grub(`grub/${grubHello}y`, '10.5.5.9'), null);
    } finally {
      await local.close();
    }
    await fn(data);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

test('machines lists what iPXE registered, as a table and as JSON', { timeout: 60_000 }, async () => {
  await withBootedMachines(async (data) => {
    const json = await runWinsmith(['machines', '--json', '--repo', data]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      list
        .map((m) => [m['mac'], m['smbiosUuid'], m['manufacturer'], m['platform'], m['arch'], m['state']])
        .sort(),
      [
        ['52:54:00:00:00:01', '11111111-2222-3333-4444-555555555555', 'QEMU', 'pcbios', 'i386', 'pending'],
        ['52:54:00:00:00:02', null, null, 'efi', 'x86_64', 'pending'],
      ],
    );
    const first = list.find((m) => m['mac'] === '52:54:00:00:00:01');
    assert.ok(first);
    assert.ok((first['inventory'] as Record<string, unknown>)['checkIn'] !== undefined);
    assert.equal(first['deployment'], null);

    const text = await runWinsmith(['machines', '--repo', data]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^NAME\s+STATE\s+MAC\s+UUID\s+MACHINE\s+FIRMWARE\s+SECURE BOOT\s+LABELS\s+LAST SEEN\s+CHECK-IN\s+DEPLOYMENT$/,
    );
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /\spcbios\/i386\s+-\s/, 'never told');
    assert.match(lines[2] ?? '', /\sefi\/x86_64\s+on\s/, 'told by GRUB');
    const shown = await runWinsmith(['machine', 'show', '52:54:00:00:00:02', '--repo', data]);
    assert.match(shown.stdout, /^secure boot: on \(reported by GRUB at \S+\)$/m);
    const second = list.find((m) => m['mac'] === '52:54:00:00:00:02');
    assert.deepEqual((second?.['secureBoot'] as Record<string, unknown> | null)?.['on'], true);
    assert.ok(text.stdout.includes('QEMU Standard PC'));

    const bad = await runWinsmith(['machines', '--state', 'lost', '--repo', data]);
    assert.ok(isCleanFailure(bad), bad.stderr);
  });
});

test('machine add, show, set and rm; machines filters by state and label', { timeout: 60_000 }, async () => {
  await withBootedMachines(async (data) => {
    const run = async (args: string[]): Promise<Record<string, unknown>> => {
      const result = await runWinsmith([...args, '--json', '--repo', data]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const added = await run(['machine', 'add', 'web-01', '--mac', '52:54:00:00:00:0a', '--label', 'web']);
    assert.deepEqual([added['name'], added['state'], added['labels']], ['web-01', 'ready', ['web']]);
    await run(['machine', 'add', 'db-01', '--uuid', '4c4c4544-0000-1000-8000-0000000000aa']);
    assert.equal((await run(['machine', 'show', '52:54:00:00:00:0a']))['name'], 'web-01');
    const set = await run([
      'machine',
      'set',
      'web-01',
      '--name',
      'web-02',
      '--label',
      'web',
      '--label',
      'rack-a1',
    ]);
    assert.deepEqual([set['name'], set['labels']], ['web-02', ['web', 'rack-a1']]);
    const list = async (filter: string[]): Promise<unknown[]> => {
      const result = await runWinsmith(['machines', ...filter, '--json', '--repo', data]);
      return (JSON.parse(result.stdout) as Record<string, unknown>[]).map((m) => m['name'] ?? m['mac']);
    };
    assert.deepEqual(await list(['--state', 'ready']), ['web-02', 'db-01']);
    assert.deepEqual(await list(['--label', 'rack-a1']), ['web-02']);
    assert.deepEqual(await list(['--state', 'pending']), ['52:54:00:00:00:01', '52:54:00:00:00:02']);
    assert.deepEqual((await run(['machine', 'set', 'web-02', '--no-labels']))['labels'], []);
    await run(['machine', 'rm', 'db-01']);
    const gone = await runWinsmith(['machine', 'show', 'db-01', '--repo', data]);
    assert.ok(isCleanFailure(gone), gone.stderr);
    assert.match(gone.stderr, /no machine "db-01"/);
    const twice = await runWinsmith([
      'machine',
      'add',
      'web-02',
      '--mac',
      '52:54:00:00:00:0b',
      '--repo',
      data,
    ]);
    assert.ok(isCleanFailure(twice), twice.stderr);
  });
});
