import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { withTempDir } from '../io/output.ts';
import { loadSecretBox, SecretBox } from './secret-box.ts';

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

test('a sealed secret opens with its key and purpose only, and never shows its text', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('P@ssw0rd-of-web-01', 'deployment:1:admin');
  assert.doesNotMatch(sealed, /P@ssw0rd/);
  assert.notEqual(box.seal('P@ssw0rd-of-web-01', 'deployment:1:admin'), sealed, 'a new iv each time');
  assert.equal(box.open(sealed, 'deployment:1:admin'), 'P@ssw0rd-of-web-01');
  assert.throws(() => box.open(sealed, 'deployment:2:admin'), code('FORBIDDEN'));
  assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'deployment:1:admin'), code('FORBIDDEN'));
  const parts = sealed.split('.');
  const flipped = Buffer.from(parts[3] ?? '', 'base64url');
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  assert.throws(
    () => box.open([...parts.slice(0, 3), flipped.toString('base64url')].join('.'), 'deployment:1:admin'),
    code('FORBIDDEN'),
  );
  assert.throws(() => box.open('v0.x.y.z', 'a'), code('FORMAT_INVALID'));
  assert.throws(() => new SecretBox(randomBytes(16)), code('INVALID_ARGUMENT'));
});

test('the key file is made once, 32 bytes, mode 0600; a key from the environment is base64', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'keys', 'secrets.key');
    const first = await loadSecretBox({ file });
    const sealed = first.seal('s', 'x');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(file)).size, 32);
    assert.equal((await loadSecretBox({ file })).open(sealed, 'x'), 's', 'the same key the second time');
    const key = randomBytes(32);
    const fromEnv = await loadSecretBox({ env: 'WINSMITH_SECRETS_KEY', value: key.toString('base64') });
    assert.equal(new SecretBox(key).open(fromEnv.seal('t', 'y'), 'y'), 't');
    await assert.rejects(
      loadSecretBox({ env: 'WINSMITH_SECRETS_KEY', value: undefined }),
      code('INVALID_ARGUMENT'),
    );
    await assert.rejects(
      loadSecretBox({ env: 'WINSMITH_SECRETS_KEY', value: 'c2hvcnQ=' }),
      code('INVALID_ARGUMENT'),
    );
    await writeFile(join(dir, 'bad.key'), 'short');
    await assert.rejects(loadSecretBox({ file: join(dir, 'bad.key') }), code('INVALID_ARGUMENT'));
  });
});
