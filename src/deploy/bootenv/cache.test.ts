import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { withTempDir } from '../../io/output.ts';
import { cachedBootEnv } from './cache.ts';
import type { BootEnvInputs } from './inputs.ts';

/** Inputs as far as the cache reads them: their digest names the folder. */
const inputs = (sha256: string): BootEnvInputs => ({ sha256 }) as BootEnvInputs;

test('an environment built before is found under the digest of its inputs, not built again', async () => {
  await withTempDir(async (root) => {
    const sha256 = 'ab'.repeat(32);
    const dir = join(root, sha256.slice(0, 16));
    await mkdir(dir);
    await writeFile(join(dir, 'bootenv.json'), JSON.stringify({ inputsSha256: sha256 }));
    const found = await cachedBootEnv(root, inputs(sha256));
    assert.deepEqual(
      [found.built, found.dir, found.kernel, found.initramfs, found.info.inputsSha256],
      [false, dir, join(dir, 'vmlinuz'), join(dir, 'initrd.img'), sha256],
    );
  });
});

test('a folder that holds something else under that name is an error saying to remove it', async () => {
  await withTempDir(async (root) => {
    const sha256 = 'cd'.repeat(32);
    const dir = join(root, sha256.slice(0, 16));
    await mkdir(dir);
    const cases: [content: string, found: string][] = [
      ['{"inputsSha256":"00"}', '00'],
      ['not json', '(unreadable)'],
    ];
    for (const [content, found] of cases) {
      await writeFile(join(dir, 'bootenv.json'), content);
      await assert.rejects(cachedBootEnv(root, inputs(sha256)), (e: AppError) => {
        assert.equal(e.code, 'CONFLICT');
        assert.equal(
          e.message,
          `${join(dir, 'bootenv.json')} describes the deploy environment ${found}; expected ${sha256}`,
        );
        assert.equal(e.hint, `remove ${dir}: it will be built again`);
        return true;
      });
    }
  });
});
