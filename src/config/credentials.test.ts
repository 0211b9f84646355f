import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findCredential, saveCredential, serverOrigin } from './credentials.ts';

test('serverOrigin: one key however the URL is spelled (case, trailing slash, default port, path)', () => {
  for (const url of [
    'https://host:8443',
    'HTTPS://Host:8443/',
    'https://HOST:8443/api/',
    'https://u@host:8443',
  ]) {
    assert.equal(serverOrigin(url), 'https://host:8443', url);
  }
  assert.equal(serverOrigin('https://host:443/'), 'https://host');
  assert.equal(serverOrigin('http://host:80'), 'http://host');
  assert.equal(serverOrigin('http://[::1]:8080/'), 'http://[::1]:8080');
  assert.notEqual(serverOrigin('http://host:8443'), serverOrigin('https://host:8443'));
  assert.throws(() => serverOrigin('host:8443'), /not a valid http\(s\) URL/);
});

test('a token saved under one spelling is found under another, and replaces an older spelling', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-credentials-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: dir };
  const first = { user: 'admin', token: 'first', expiresAt: null };
  const second = { user: 'admin', token: 'second', expiresAt: null };
  const path = await saveCredential('HTTPS://Repo.Example:443/', first, env);
  assert.deepEqual(await findCredential('https://repo.example', env), first);
  assert.deepEqual(await findCredential('https://REPO.example:443', env), first);
  assert.equal(await findCredential('http://repo.example', env), null);
  await saveCredential('https://repo.example/', second, env);
  const file = JSON.parse(await readFile(path, 'utf8')) as { servers: Record<string, unknown> };
  assert.deepEqual(Object.keys(file.servers), ['https://repo.example']);
  assert.deepEqual(await findCredential('https://repo.example:443/', env), second);
});
