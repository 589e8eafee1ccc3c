import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

// A path no file occupies; eslint.config.mjs lets the type-aware parser lint it on its own.
const VIRTUAL_WORKFLOW_FILE = path.join(ROOT, 'src/workflows/lint-check-virtual.ts');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** Lints `code` as a workflow file with the project's own ESLint config (the CLI: the config is ESM, jest is not). */
function restrictedImports(code: string): string[] {
  // Package exports hide bin/, so the path is taken from the package folder.
  const eslint = path.join(ROOT, 'node_modules/eslint/bin/eslint.js');
  const run = spawnSync(
    process.execPath,
    [eslint, '--format', 'json', '--stdin', '--stdin-filename', VIRTUAL_WORKFLOW_FILE],
    { cwd: ROOT, input: code, encoding: 'utf8' },
  );
  const results = JSON.parse(run.stdout) as Array<{ messages: LintMessage[] }>;
  return (results[0]?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => /'([^']+)' import/.exec(m.message)?.[1] ?? m.message);
}

describe('the workflow import lint rule', () => {
  it('when workflow code imports Node built-ins, database, network or client code, refuses each import', () => {
    const code = [
      "import fs from 'node:fs';",
      "import http from 'http';",
      "import knex from 'knex';",
      "import { Model } from 'objection';",
      "import pg from 'pg';",
      "import * as ort from 'onnxruntime-node';",
      "import { Client } from '@temporalio/client';",
      "import { createKnex } from '../db/knex';",
      "import { createApp } from '../api/app';",
      "import { createActivities } from '../activities';",
      'export const used = [fs, http, knex, Model, pg, ort, Client, createKnex, createApp, createActivities];',
    ].join('\n');
    expect(restrictedImports(code)).toEqual([
      'node:fs',
      'http',
      'knex',
      'objection',
      'pg',
      'onnxruntime-node',
      '@temporalio/client',
      '../db/knex',
      '../api/app',
      '../activities',
    ]);
  });

  it('when workflow code imports the workflow SDK and activity types only, accepts it', () => {
    const code = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { Activities } from '../activities';",
      'export const acts = proxyActivities<Activities>({ startToCloseTimeout: 1000 });',
    ].join('\n');
    expect(restrictedImports(code)).toEqual([]);
  });
});
