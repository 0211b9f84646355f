// Lint: typescript-eslint strictTypeChecked, and the layering of DESIGN.md enforced by import rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = { group: ['node:*'], message: 'this layer is pure: no I/O, no node:* modules' };
const layer = (names) => ({
  group: names.flatMap((n) => [`../${n}/*`, `../../${n}/*`, `../../../${n}/*`]),
  message: 'dependencies point down only (see DESIGN.md, Layers)',
});
const domain = ['build', 'image', 'store', 'auth', 'boot', 'deploy', 'agent'];

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
  {
    files: ['src/core/**/*.ts', 'src/formats/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [nodeBuiltins, layer(['cli', 'server', 'engines', 'io', 'config', ...domain])] },
      ],
    },
  },
  {
    files: ['src/io/**/*.ts', 'src/engines/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer(['cli', 'server', ...domain])] }] },
  },
  {
    files: domain.map((d) => `src/${d}/**/*.ts`),
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layer(['cli', 'server'])] }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
