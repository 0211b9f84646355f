// Opening a catalog that cannot be opened: a clear IO_ERROR naming the database, never its password.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src/core/errors.ts';
import { openDatabase, redactUrl } from '../../src/db/database.ts';

test('a SQLite catalog in a missing directory is an IO_ERROR naming the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-catalog-'));
  try {
    const path = join(dir, 'missing', 'catalog.sqlite');
    await assert.rejects(
      openDatabase({ kind: 'sqlite', path }),
      (e: unknown) => e instanceof AppError && e.code === 'IO_ERROR' && e.message.includes(path),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unreachable PostgreSQL is an IO_ERROR with the URL redacted', { timeout: 30_000 }, async () => {
  // A port on loopback that nothing listens on: taken, then released.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
    });
  });
  const url = `postgresql://winsmith:s3cret-pw@127.0.0.1:${port}/catalog`;
  await assert.rejects(openDatabase({ kind: 'postgres', url }), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'IO_ERROR');
    assert.match(
      e.message,
      new RegExp(
        `cannot reach the catalog database postgresql://winsmith:\\*\\*\\*@127\\.0\\.0\\.1:${port}/catalog`,
      ),
    );
    assert.equal(`${e.message} ${e.hint ?? ''}`.includes('s3cret-pw'), false);
    return true;
  });
});

test('redactUrl hides only the password', () => {
  assert.equal(
    redactUrl('postgres://u:p@h:5432/d?sslmode=require'),
    'postgres://u:***@h:5432/d?sslmode=require',
  );
  assert.equal(redactUrl('postgres://u@h/d'), 'postgres://u@h/d');
  assert.equal(redactUrl('not a url'), '(unparsable URL)');
});
