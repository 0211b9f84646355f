import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from './output.ts';
import { openRegularFile } from './regular-file.ts';

test('a regular file opens with its size; a FIFO, a device, a directory, a link and nothing are refused at once', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'file'), 'twelve bytes');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await symlink(join(dir, 'file'), join(dir, 'link'));
    const file = await openRegularFile(join(dir, 'file'));
    assert.ok(file.ok);
    assert.equal(file.size, 12);
    await file.handle.close();
    const refusals = await Promise.all(
      ['fifo', '/dev/null', '.', 'link', 'missing'].map(async (name) => {
        const opened = await openRegularFile(name.startsWith('/') ? name : join(dir, name));
        return opened.ok ? 'opened' : opened.refusal;
      }),
    );
    assert.deepEqual(refusals, ['not-regular', 'not-regular', 'not-regular', 'denied', 'not-found']);
  });
});
