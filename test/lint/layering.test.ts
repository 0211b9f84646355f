// The layering of DESIGN.md as eslint.config.js enforces it: a forbidden import fails the lint, an
// allowed one (down a layer, or along a listed edge) passes. Each case is linted as if it were a
// file of src/ (eslint's lintText with that path), so the real configuration decides.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

// The cases are no files of the TypeScript project, so the rules that need its types are off: the
// import rules need none.
const eslint = new ESLint({
  cwd: new URL('../../', import.meta.url).pathname,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

/** The rules that failed for `code` as the file `path` (relative to the checkout). */
async function failures(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.endsWith('no-restricted-imports') === true)
    .map((m) => m.message);
}

const forbidden: readonly (readonly [string, string])[] = [
  [
    'src/store/forbidden.ts',
    "import { AccountStore } from '../auth/account-store.ts';\nexport const x = AccountStore;\n",
  ],
  [
    'src/auth/forbidden.ts',
    "import { ImageCatalog } from '../store/image-catalog.ts';\nexport const x = ImageCatalog;\n",
  ],
  [
    'src/boot/forbidden.ts',
    "import { MachineStore } from '../machines/machine-store.ts';\nexport const x = MachineStore;\n",
  ],
  [
    'src/image/recipe/forbidden.ts',
    "import { LocalApp } from '../../app/local-app.ts';\nexport const x = LocalApp;\n",
  ],
  ['src/formats/forbidden.ts', "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n"],
  [
    'src/core/forbidden.ts',
    "import { openDatabase } from '../db/database.ts';\nexport const x = openDatabase;\n",
  ],
  [
    'src/db/forbidden.ts',
    "import { ImageCatalog } from '../store/image-catalog.ts';\nexport const x = ImageCatalog;\n",
  ],
  [
    'src/cli/forbidden.ts',
    "import { openDatabase } from '../db/database.ts';\nexport const x = openDatabase;\n",
  ],
  [
    'src/server/forbidden.ts',
    "import { ImageCatalog } from '../store/image-catalog.ts';\nexport const x = ImageCatalog;\n",
  ],
  [
    'src/server/routes/forbidden.ts',
    "import { pushFile } from '../../app/transfer.ts';\nimport { MachineStore } from '../../machines/machine-store.ts';\nexport const x = [pushFile, MachineStore];\n",
  ],
  ['src/app/forbidden.ts', "import { createApp } from '../server/app.ts';\nexport const x = createApp;\n"],
  [
    'src/agent/forbidden.ts',
    "import { MachineStore } from '../machines/machine-store.ts';\nexport const x = MachineStore;\n",
  ],
];

const allowed: readonly (readonly [string, string])[] = [
  [
    'src/machines/allowed.ts',
    "import type { BootMachineRegistry } from '../boot/http-boot.ts';\nexport type X = BootMachineRegistry;\n",
  ],
  [
    'src/store/allowed.ts',
    "import { AppError } from '../core/errors.ts';\nimport { kyselyOf } from '../db/database.ts';\nexport const x = [AppError, kyselyOf];\n",
  ],
  [
    'src/cli/commands/allowed.ts',
    "import { withSession } from '../../app/open-session.ts';\nimport { openHiveFile } from '../../image/registry.ts';\nexport const x = [withSession, openHiveFile];\n",
  ],
  [
    'src/server/allowed.ts',
    "import { authorize } from '../auth/roles.ts';\nimport type { Machine } from '../machines/machine-store.ts';\nexport const x = authorize;\nexport type M = Machine;\n",
  ],
  [
    'src/agent/allowed.ts',
    "import { planDisk } from '../image/disk/layout.ts';\nimport { AgentTask } from '../deploy/agent-protocol.ts';\nimport { validateManifest } from '../store/manifest.ts';\nexport const x = [planDisk, AgentTask, validateManifest];\n",
  ],
  [
    'src/app/allowed.ts',
    "import { ImageCatalog } from '../store/image-catalog.ts';\nimport { AccountStore } from '../auth/account-store.ts';\nexport const x = [ImageCatalog, AccountStore];\n",
  ],
];

test('a forbidden import fails the lint, whatever the layer', { timeout: 120_000 }, async () => {
  for (const [path, code] of forbidden) {
    assert.notDeepEqual(await failures(path, code), [], `${path} should fail:\n${code}`);
  }
});

test('imports down a layer and along the listed edges pass', { timeout: 120_000 }, async () => {
  for (const [path, code] of allowed) {
    assert.deepEqual(await failures(path, code), [], `${path} should pass:\n${code}`);
  }
});
