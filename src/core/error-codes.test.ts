import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ERROR_CODES } from './error-codes.ts';

test('docs/errors.md lists exactly the error codes, with the same status, exit code and meaning', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| ([A-Z_]+) \| (\d+) \| (\d+) \| (.+) \|$/gm)].map((m) => ({
    code: m[1],
    status: Number(m[2]),
    exit: Number(m[3]),
    summary: m[4],
  }));
  const fromCode = Object.entries(ERROR_CODES).map(([code, v]) => ({ code, ...v }));
  assert.deepEqual(
    [...rows].sort((a, b) => (a.code ?? '').localeCompare(b.code ?? '')),
    [...fromCode].sort((a, b) => a.code.localeCompare(b.code)),
  );
});

test('every failing exit code is non-zero', () => {
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) assert.notEqual(exit, 0, code);
});
