import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.ts';
import { withTempDir } from '../io/output.ts';
import { bundleModule } from './esbuild.ts';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** A program of two files that uses an npm package (zod) and a define, in a folder of its own. */
async function program(dir: string): Promise<string> {
  await mkdir(join(dir, 'src'));
  await symlink(NODE_MODULES, join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'src', 'greeting.ts'),
    'export const greeting = (name: string): string => `hello ${name}`;\n',
  );
  await writeFile(
    join(dir, 'src', 'main.ts'),
    [
      "import { z } from 'zod';",
      "import { greeting } from './greeting.ts';",
      "const version = z.string().parse(process.env.WINSMITH_VERSION ?? 'none');",
      'console.log(greeting(version));',
      '',
    ].join('\n'),
  );
  return join(dir, 'src', 'main.ts');
}

test('a program and its npm packages become one ES module that runs alone, with its defines', async () => {
  await withTempDir(async (dir) => {
    const entry = await program(dir);
    const bundle = await bundleModule(entry, {
      root: dir,
      target: 'node24',
      define: { 'process.env.WINSMITH_VERSION': '"1.2.3"' },
    });
    const out = join(dir, 'alone.mjs');
    await writeFile(out, bundle);
    const run = spawnSync(process.execPath, [out], { cwd: '/', env: { PATH: '' } });
    assert.equal(run.stderr.toString(), '');
    assert.equal(run.stdout.toString(), 'hello 1.2.3\n');
    const text = new TextDecoder().decode(bundle);
    assert.doesNotMatch(text, /from ["']zod["']/, 'zod is inlined');
    assert.match(text, /\/\/ src\/greeting\.ts/, 'sources are named from the root');
    assert.ok(!text.includes(dir), 'no absolute path of the checkout is in the bundle');
  });
});

test('the same sources in two places give the same bytes', async () => {
  const bundles = await Promise.all(
    [0, 1].map((i) =>
      withTempDir(
        async (dir) => bundleModule(await program(dir), { root: dir, target: 'node24' }),
        `esbuild-${i}-`,
      ),
    ),
  );
  assert.deepEqual(bundles[0], bundles[1]);
});

test('an import that cannot be resolved is an error naming the file and the line', async () => {
  await withTempDir(async (dir) => {
    const entry = join(dir, 'main.ts');
    await writeFile(entry, "\nimport './missing.ts';\n");
    await assert.rejects(bundleModule(entry, { root: dir, target: 'node24' }), (e: AppError) => {
      assert.equal(e.code, 'PROGRAM_FAILED');
      assert.match(
        e.message,
        /^esbuild could not bundle .*main\.ts: main\.ts:2: Could not resolve "\.\/missing\.ts"$/,
      );
      return true;
    });
  });
});
