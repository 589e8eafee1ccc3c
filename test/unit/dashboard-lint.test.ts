import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

// A path no file occupies; eslint.config.mjs lets the type-aware parser lint it on its own.
const VIRTUAL_DASHBOARD_FILE = path.join(ROOT, 'src/ui/lint-check-virtual.ts');

/** The imports the project's ESLint config refuses in `code` linted as a dashboard file (the CLI: the config is ESM). */
function restrictedImports(code: string): string[] {
  const eslint = path.join(ROOT, 'node_modules/eslint/bin/eslint.js');
  const run = spawnSync(
    process.execPath,
    [eslint, '--format', 'json', '--stdin', '--stdin-filename', VIRTUAL_DASHBOARD_FILE],
    { cwd: ROOT, input: code, encoding: 'utf8' },
  );
  const results = JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
  return (results[0]?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => /'([^']+)' import/.exec(m.message)?.[1] ?? m.message);
}

describe('the dashboard import lint rule', () => {
  it('when dashboard code imports Node built-ins or server code as values, refuses each import', () => {
    const code = [
      "import fs from 'node:fs';",
      "import { roundResponse } from '../api/routes/trainings/round-schemas';",
      "import { TrainingState } from '../training-states';",
      'export const used = [fs, roundResponse, TrainingState];',
    ].join('\n');
    expect(restrictedImports(code)).toEqual(['node:fs', '../api/routes/trainings/round-schemas', '../training-states']);
  });

  it('when dashboard code imports the server payload types, its own modules and browser libraries, accepts it', () => {
    const code = [
      "import type { RoundView } from '../api/routes/trainings/round-schemas';",
      "import { render } from 'preact';",
      "import { App } from './app';",
      'export const used: [RoundView | undefined, unknown, unknown] = [undefined, render, App];',
    ].join('\n');
    expect(restrictedImports(code)).toEqual([]);
  });
});
