import assert from 'node:assert/strict';
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
  ].join('\n');
  const env = { DB: 'postgres://u:secret@db/ws', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' };
  const s = parseServerSettings(text, '/etc/winsmith/server.yaml', env);
  assert.deepEqual(s.catalog, { kind: 'postgres', url: 'postgres://u:secret@db/ws' });
  assert.equal(s.blobs.kind, 's3');
  assert.equal(s.port, 9000);
  assert.equal(s.gcGraceSeconds, 60);
  assert.deepEqual(s.chunking, { minSize: 4096, avgSize: 16384, maxSize: 65536 });
  const shown = JSON.stringify(redactSettings(s));
  assert.doesNotMatch(shown, /:secret@|"AK"|"SK"/);
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

test('credentials are stripped from URLs in messages', () => {
  assert.equal(
    stripCredentials('cannot reach postgres://u:pw@db:5432/x now'),
    'cannot reach postgres://db:5432/x now',
  );
  assert.equal(stripCredentials('http://tok@h/'), 'http://h/');
  assert.equal(stripCredentials('no url here'), 'no url here');
});
