// Lint: typescript-eslint strictTypeChecked, and the layering of DESIGN.md enforced by import rules:
// dependencies point down only, and the domains do not import each other except along the edges
// listed here, each with its reason. test/lint/layering.test.ts shows that a forbidden import fails.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The domain folders of src/ (DESIGN.md, Layers). */
const DOMAINS = ['build', 'image', 'store', 'auth', 'audit', 'machines', 'boot', 'deploy', 'agent', 'lab'];

/** The only imports from one domain into another: `from → to`, with the reason. */
const DOMAIN_EDGES = {
  build: {
    image:
      "a build recipe's customize: steps are recipes' steps and its sizes winsmith disk's, read by their code",
  },
  deploy: {
    image:
      "a profile's layout, answer file and customize: steps are written in winsmith disk's, unattend's and recipes' formats, read by their code",
  },
  machines: {
    boot: 'the machine store implements the ports the boot services declare (BootMachineRegistry, LeaseStore)',
  },
  agent: {
    image:
      "the agent lays out a machine's disk with winsmith disk's pieces (layout, partition table, apply, boot files, BCD), reads the image's WIM header and XML, and applies a profile's steps with the recipes' step code",
    deploy: 'the agent speaks the agent protocol, which the deploy domain describes once for both sides',
    store: "the agent checks its image's manifest, whose canonical form and digest the store defines",
  },
};

/**
 * The modules of a domain that cli/ and server/ may import values from (types they may always
 * import: the records the application hands out). Everything else goes through src/app/.
 */
const FRONT_DOOR_EDGES = {
  cli: {
    'image/**':
      'the offline commands work on one file (a WIM, a hive, a BCD store, a disk): one domain, nothing to combine',
  },
  server: {
    'auth/roles.ts': 'every request is checked against the one table of who may do what (authorize, inScope)',
  },
};

/** Import patterns reaching `folders` (a folder, or a folder/file glob) from anywhere under src/. */
function reaching(folders) {
  return folders.flatMap((f) => {
    const glob = f.includes('/') ? f : `${f}/**`;
    return [`../${glob}`, `../../${glob}`, `../../../${glob}`];
  });
}

const down = (folders, message = 'dependencies point down only (see DESIGN.md, Layers)') => ({
  group: reaching(folders),
  message,
});

const nodeBuiltins = { group: ['node:*'], message: 'this layer is pure: no I/O, no node:* modules' };

/** `@typescript-eslint/no-restricted-imports` with these patterns, for the files given. */
const restrict = (files, patterns) => ({
  files,
  ignores: ['**/*.test.ts'],
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});

const upper = ['cli', 'server', 'app'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  restrict(
    ['src/core/**/*.ts', 'src/formats/**/*.ts'],
    [nodeBuiltins, down([...upper, 'engines', 'io', 'config', 'db', ...DOMAINS])],
  ),
  restrict(['src/db/**/*.ts'], [down([...upper, 'engines', 'io', 'config', ...DOMAINS])]),
  restrict(
    ['src/io/**/*.ts', 'src/engines/**/*.ts', 'src/config/**/*.ts'],
    [down([...upper, 'db', ...DOMAINS])],
  ),
  ...DOMAINS.map((domain) =>
    restrict(
      [`src/${domain}/**/*.ts`],
      [
        down(upper),
        down(
          DOMAINS.filter((d) => d !== domain && !(d in (DOMAIN_EDGES[domain] ?? {}))),
          'domains do not import each other but along the edges listed in eslint.config.js (DOMAIN_EDGES)',
        ),
      ],
    ),
  ),
  restrict(['src/app/**/*.ts'], [down(['cli', 'server'])]),
  ...Object.entries(FRONT_DOOR_EDGES).map(([front, edges]) =>
    restrict(
      [`src/${front}/**/*.ts`],
      [
        {
          group: [...reaching(['db', ...DOMAINS]), ...reaching(Object.keys(edges)).map((p) => `!${p}`)],
          allowTypeImports: true,
          message: `${front}/ calls the application layer (src/app/) for what combines domains; see FRONT_DOOR_EDGES in eslint.config.js`,
        },
      ],
    ),
  ),
  // The web console talks only to the HTTP API: from src/ it takes the API's types, no code; but
  // the text formatters of src/cli/format.ts, which import nothing, so that it writes sizes as the CLI.
  restrict(
    ['web/**/*.ts', 'web/**/*.tsx'],
    [
      {
        regex: String.raw`^(\.\./){1,3}src/(?!cli/format\.ts$)`,
        allowTypeImports: true,
        message: 'the console talks only to the HTTP API: it may import types from src/, never code',
      },
    ],
  ),
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
