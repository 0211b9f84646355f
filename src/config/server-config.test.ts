import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import {
  loadServerSettings,
  parseListen,
  parseServerSettings,
  redactSettings,
  stripCredentials,
} from './server-config.ts';

test('embedded defaults: SQLite and blobs under the data directory, 127.0.0.1:8080', async () => {
  const s = await loadServerSettings({ data: '/srv/ws' }, {});
  assert.deepEqual(s.catalog, { kind: 'sqlite', path: '/srv/ws/catalog.sqlite' });
  assert.deepEqual(s.blobs, { kind: 'fs', path: '/srv/ws/blobs' });
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 8080);
  assert.deepEqual([s.heartbeatSeconds, s.agentTimeoutSeconds, s.bootTimeoutSeconds], [10, 300, 600]);
  assert.equal((await loadServerSettings({ listen: '[::1]:0' }, {})).host, '::1');
});

test('a full config file: postgres from an environment variable, S3 keys from variables, sizes', () => {
  const text = [
    'data: /var/lib/winsmith',
    'listen: 0.0.0.0:9000',
    'catalog: { kind: postgres, urlEnv: DB }',
    'blobs: { kind: s3, endpoint: "http://127.0.0.1:9001", bucket: b, prefix: p/ }',
    'gc: { graceSeconds: 60 }',
    'limits: { maxChunkBytes: 1048576 }',
    'chunking: { minSize: 4096, avgSize: 16384, maxSize: 65536 }',
    'deploy: { heartbeatSeconds: 5, agentTimeoutSeconds: 120, bootTimeoutSeconds: 900 }',
  ].join('\n');
  const env = { DB: 'postgres://u:secret@db/ws', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' };
  const s = parseServerSettings(text, '/etc/winsmith/server.yaml', env);
  assert.deepEqual(s.catalog, { kind: 'postgres', url: 'postgres://u:secret@db/ws' });
  assert.equal(s.blobs.kind, 's3');
  assert.equal(s.port, 9000);
  assert.equal(s.gcGraceSeconds, 60);
  assert.deepEqual(s.chunking, { minSize: 4096, avgSize: 16384, maxSize: 65536 });
  assert.deepEqual(
    [s.heartbeatSeconds, s.agentTimeoutSeconds, s.bootTimeoutSeconds],
    [5, 120, 900],
    'the deploy section',
  );
  const shown = JSON.stringify(redactSettings(s));
  assert.doesNotMatch(shown, /:secret@|"AK"|"SK"/);
});

test("docs/server.md's config file parses as written, its deploy section the defaults", async () => {
  const doc = await readFile(new URL('../../docs/server.md', import.meta.url), 'utf8');
  const block = /### Config file\n[^]*?```yaml\n([^]*?)\n```/.exec(doc)?.[1];
  assert.ok(block !== undefined, 'docs/server.md has a ```yaml block under "### Config file"');
  const env = {
    WINSMITH_DATABASE_URL: 'postgres://winsmith@db.example/winsmith',
    AWS_ACCESS_KEY_ID: 'AK',
    AWS_SECRET_ACCESS_KEY: 'SK',
    WINSMITH_SECRETS_KEY: 'key',
    WINSMITH_METRICS_TOKEN: 'token',
  };
  const s = parseServerSettings(block, '/etc/winsmith/server.yaml', env);
  const defaults = await loadServerSettings({ data: '/var/lib/winsmith' }, {});
  assert.equal(s.port, 8080);
  assert.deepEqual(
    [s.heartbeatSeconds, s.agentTimeoutSeconds, s.bootTimeoutSeconds],
    [defaults.heartbeatSeconds, defaults.agentTimeoutSeconds, defaults.bootTimeoutSeconds],
  );
});

test('config errors name FILE:LINE:COLUMN and what was expected', () => {
  const bad = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseServerSettings(text, 'server.yaml', {}),
      (e: unknown) => e instanceof AppError && pattern.test(e.message),
    );
  bad('listen: 1.2.3.4\n', /server\.yaml:1:9: expected HOST:PORT/);
  bad('colour: blue\n', /server\.yaml:1:1: unknown key 'colour'/);
  bad('catalog: { kind: mysql }\n', /catalog\.kind must be sqlite or postgres/);
  bad('chunking: { minSize: 9, avgSize: 8, maxSize: 16 }\n', /minSize ≤ avgSize/);
  assert.throws(() => parseListen('localhost:99999'), /HOST:PORT/);
});

test('kind sections: exact message, hint and place of each error', () => {
  const cases: [string, string, string][] = [
    ['catalog: {}', '1:1: catalog.kind must be a string, found nothing', 'give catalog.kind as text'],
    [
      'catalog: { kind: constructor }',
      "1:18: catalog.kind must be sqlite or postgres, found 'constructor'",
      'write kind: sqlite or kind: postgres',
    ],
    [
      'catalog: { kind: postgres, urlEnv: UNSET }',
      '1:10: catalog of kind postgres needs url (or urlEnv naming a set variable)',
      'e.g. url: postgres://winsmith@db.example/winsmith',
    ],
    ['blobs: {}', '1:8: blobs needs kind', 'add kind: … under blobs'],
    ['blobs: { kind: zip }', "1:16: blobs.kind must be fs or s3, found 'zip'", 'write kind: fs or kind: s3'],
    ['blobs: { kind: s3, endpoint: e }', '1:8: blobs needs bucket', 'add bucket: … under blobs'],
    [
      'blobs: { kind: s3, endpoint: e, bucket: [b] }',
      '1:41: blobs.bucket must be a string, found a list',
      'give blobs.bucket as text',
    ],
    [
      'blobs: { kind: fs, nope: 1 }',
      "1:20: unknown key 'nope' in blobs — expected one of kind, path, endpoint, bucket, region, prefix, accessKeyIdEnv, secretAccessKeyEnv",
      "check the spelling of 'nope'",
    ],
    ['chunking: { minSize: 1 }', '1:11: chunking needs avgSize', 'give minSize, avgSize and maxSize'],
    [
      'limits: { jsonBodyBytes: x, maxChunkBytes: -1 }',
      '1:26: limits.jsonBodyBytes must be a whole number ≥ 0, found x',
      'give limits.jsonBodyBytes as a number',
    ],
    [
      'data: d\nboot:\n  uefiChain: grub',
      "3:14: boot.uefiChain must be auto, shim, ipxe, found 'grub'",
      'write uefiChain: auto (shim for machines that report Secure Boot on), shim or ipxe',
    ],
    [
      'boot: { chain: shim }',
      "1:9: unknown key 'chain' in boot — expected one of uefiChain, listen",
      "check the spelling of 'chain'",
    ],
  ];
  for (const [text, message, hint] of cases) {
    assert.throws(
      () => parseServerSettings(text, 'server.yaml', {}),
      (e: unknown) => e instanceof AppError && e.message === `server.yaml:${message}` && e.hint === hint,
      text,
    );
  }
});

test('kind sections: paths relative to the file, defaults under data, S3 keys from the variables named', () => {
  const text = [
    'data: d',
    'catalog: { kind: sqlite, url: ignored }',
    'blobs: { kind: s3, endpoint: e, bucket: 5, accessKeyIdEnv: K, secretAccessKeyEnv: S }',
  ].join('\n');
  const s = parseServerSettings(text, '/etc/ws/server.yaml', { K: 'ak', S: 'sk' });
  assert.deepEqual(s.catalog, { kind: 'sqlite', path: '/etc/ws/d/catalog.sqlite' });
  assert.deepEqual(s.blobs, {
    kind: 's3',
    endpoint: 'e',
    bucket: '5',
    region: 'us-east-1',
    prefix: '',
    accessKeyId: 'ak',
    secretAccessKey: 'sk',
  });
  const paths = parseServerSettings(
    'blobs: { kind: fs, path: b }\ncatalog: { kind: sqlite, path: /c.db }',
    '/etc/ws/x.yaml',
  );
  assert.deepEqual(
    [paths.blobs, paths.catalog],
    [
      { kind: 'fs', path: '/etc/ws/b' },
      { kind: 'sqlite', path: '/c.db' },
    ],
  );
});

test('boot.uefiChain sets the chain of UEFI machines; auto when absent', () => {
  assert.equal(parseServerSettings('boot: { uefiChain: shim }', 's.yaml').uefiChain, 'shim');
  assert.equal(parseServerSettings('boot: {}', 's.yaml').uefiChain, 'auto');
  assert.equal(parseServerSettings('data: d', 's.yaml').uefiChain, 'auto');
});

test('credentials are stripped from URLs in messages', () => {
  assert.equal(
    stripCredentials('cannot reach postgres://u:pw@db:5432/x now'),
    'cannot reach postgres://db:5432/x now',
  );
  assert.equal(stripCredentials('http://tok@h/'), 'http://h/');
  assert.equal(stripCredentials('no url here'), 'no url here');
});

test('the deployment share: DATA/share, moved with --data; share: in the file (relative to it); --share', async () => {
  assert.equal((await loadServerSettings({ data: '/srv/ws' }, {})).share, '/srv/ws/share');
  assert.equal(
    parseServerSettings('data: /srv/ws\nshare: ../deploy-share\n', '/etc/ws/server.yaml').share,
    '/etc/deploy-share',
  );
  assert.equal((await loadServerSettings({ data: '/srv/ws', share: '/srv/share' }, {})).share, '/srv/share');
});

test('multicast: defaults (no interface: no sessions), the section read, an odd port base refused', () => {
  const defaults = parseServerSettings('data: /srv/ws\n', '/etc/winsmith/server.yaml', {}).multicast;
  assert.deepEqual(defaults, {
    interface: null,
    netns: null,
    addresses: '239.192.85.0/24',
    portBase: 9000,
    minReceivers: null,
    maxWaitSeconds: 60,
    maxBitsPerSecond: null,
    retriesUntilDrop: 30,
    receiveTimeoutSeconds: 30,
    workDir: '/srv/ws/multicast',
  });
  const text =
    'multicast:\n  interface: br0\n  portBase: 9100\n  minReceivers: 8\n  maxBitsPerSecond: 500000000\n  workDir: mc\n';
  const read = parseServerSettings(text, '/etc/winsmith/server.yaml', {}).multicast;
  assert.deepEqual(
    [
      read.interface,
      read.portBase,
      read.minReceivers,
      read.maxBitsPerSecond,
      read.maxWaitSeconds,
      read.workDir,
    ],
    ['br0', 9100, 8, 500_000_000, 60, '/etc/winsmith/mc'],
  );
  assert.throws(
    () => parseServerSettings('multicast: { portBase: 9001 }\n', 'server.yaml', {}),
    /server\.yaml:1:12: multicast\.portBase must be an even port ≥ 1024, found 9001/,
  );
  assert.throws(() => parseServerSettings('multicast: { ttl: 4 }\n', 'server.yaml', {}), /unknown key 'ttl'/);
});

test('builds: one at a time on an accelerator chosen at start, under DATA/builds (moved with --data); the section read and checked', async () => {
  const defaults = parseServerSettings('data: /srv/ws\n', '/etc/winsmith/server.yaml', {}).builds;
  assert.deepEqual(defaults, { dir: '/srv/ws/builds', max: 1, accelerator: 'auto' });
  const read = parseServerSettings(
    'builds: { max: 2, accelerator: tcg, dir: b }\n',
    '/etc/winsmith/server.yaml',
    {},
  ).builds;
  assert.deepEqual(read, { dir: '/etc/winsmith/b', max: 2, accelerator: 'tcg' });
  assert.equal((await loadServerSettings({ data: '/srv/other' }, {})).builds.dir, '/srv/other/builds');
  assert.throws(
    () => parseServerSettings('builds: { max: 0 }\n', 'server.yaml', {}),
    /server\.yaml:1:16: builds\.max must be at least 1, found 0/,
  );
  assert.throws(
    () => parseServerSettings('builds: { accelerator: hvf }\n', 'server.yaml', {}),
    /builds\.accelerator must be auto, kvm, tcg, found 'hvf'/,
  );
});

test('log.level and --log-level: info by default, the flag over the file, anything else refused', async () => {
  assert.equal(parseServerSettings('', '/etc/w.yaml').logLevel, 'info');
  assert.equal(parseServerSettings('log: { level: debug }', '/etc/w.yaml').logLevel, 'debug');
  assert.throws(
    () => parseServerSettings('log:\n  level: loud\n', '/etc/w.yaml'),
    (e: unknown) =>
      e instanceof AppError &&
      e.message === "/etc/w.yaml:2:10: log.level must be debug, info, warn, error, found 'loud'",
  );
  assert.equal((await loadServerSettings({ data: '/srv/ws', logLevel: 'warn' }, {})).logLevel, 'warn');
  await assert.rejects(
    loadServerSettings({ data: '/srv/ws', logLevel: 'verbose' }, {}),
    (e: unknown) => e instanceof AppError && /--log-level must be debug, info, warn, error/.test(e.message),
  );
});

test('metrics: this machine by default; allow and a token from the variable tokenEnv names', () => {
  assert.deepEqual(parseServerSettings('', '/etc/w.yaml').metrics, {
    token: null,
    allow: ['127.0.0.0/8', '::1'],
  });
  const s = parseServerSettings(
    'metrics: { allow: [10.0.0.0/8, "fd00::/8", 192.0.2.7], tokenEnv: SCRAPE }',
    '/etc/w.yaml',
    { SCRAPE: 'tok-123' },
  );
  assert.deepEqual(s.metrics, { token: 'tok-123', allow: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'] });
  assert.doesNotMatch(JSON.stringify(redactSettings(s)), /tok-123/);
  assert.throws(
    () => parseServerSettings('metrics: { tokenEnv: SCRAPE }', '/etc/w.yaml', {}),
    /metrics.tokenEnv names SCRAPE, which is not set/,
  );
  assert.throws(
    () => parseServerSettings('metrics: { allow: [everyone] }', '/etc/w.yaml'),
    /metrics.allow: expected an address or a network such as 10.0.0.0\/8, found 'everyone'/,
  );
  for (const bad of ['10.0.0.0/33', 'fd00::/129', '1.2.3', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/0x8']) {
    assert.throws(
      () => parseServerSettings(`metrics: { allow: ["${bad}"] }`, '/etc/w.yaml'),
      (e: unknown) => e instanceof AppError && e.message.includes(`found '${bad}'`),
      bad,
    );
  }
});

test('the data directory: $STATE_DIRECTORY (systemd) when none is named; --data moves every default under it', async () => {
  const env = { STATE_DIRECTORY: '/var/lib/winsmith:/var/lib/other' };
  assert.equal((await loadServerSettings({}, env)).data, '/var/lib/winsmith');
  assert.equal(
    parseServerSettings('listen: 0.0.0.0:8080', '/etc/winsmith/server.yaml', env).data,
    '/var/lib/winsmith',
  );
  assert.equal(parseServerSettings('', '/etc/winsmith/server.yaml', {}).data, '/etc/winsmith/winsmith-data');
  assert.equal((await loadServerSettings({}, { ...env, WINSMITH_DATA: '/srv/w' })).data, '/srv/w');
  const moved = await loadServerSettings({ data: '/srv/moved' }, {});
  assert.equal(moved.multicast.workDir, '/srv/moved/multicast');
  assert.equal(moved.share, '/srv/moved/share');
});

test('tls and the boot listener: from the file (paths relative to it) or the flags; cert and key go together', async () => {
  const read = parseServerSettings(
    'tls: { cert: tls/server.pem, key: /etc/ssl/server.key }\nboot: { listen: 0.0.0.0:8080 }\n',
    '/etc/winsmith/server.yaml',
    {},
  );
  assert.deepEqual(read.tls, { cert: '/etc/winsmith/tls/server.pem', key: '/etc/ssl/server.key' });
  assert.deepEqual(read.bootListen, { host: '0.0.0.0', port: 8080 });
  const defaults = await loadServerSettings({}, {});
  assert.deepEqual([defaults.tls, defaults.bootListen], [null, null]);
  const flags = await loadServerSettings(
    { tlsCert: '/c.pem', tlsKey: '/k.pem', bootListen: '10.0.0.1:80' },
    {},
  );
  assert.deepEqual(flags.tls, { cert: '/c.pem', key: '/k.pem' });
  assert.deepEqual(flags.bootListen, { host: '10.0.0.1', port: 80 });
  await assert.rejects(loadServerSettings({ tlsCert: '/c.pem' }, {}), /--tls-cert is given alone/);
  assert.throws(
    () => parseServerSettings('tls: { cert: c.pem }\n', 'server.yaml', {}),
    /server\.yaml:1:6: tls needs key/,
  );
  assert.throws(
    () => parseServerSettings('boot: { listen: 8080 }\n', 'server.yaml', {}),
    /server\.yaml:1:17: expected HOST:PORT/,
  );
});
