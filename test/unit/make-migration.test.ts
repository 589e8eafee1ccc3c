import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { addToIndex, migrationText, nextStamp } from '../../scripts/db/make-migration';

const INDEX = fs.readFileSync(path.join(__dirname, '../../src/db/migrations/index.ts'), 'utf8');
const stamps = [...INDEX.matchAll(/^import \* as m\d+ from '\.\/(\d{14})_/gm)].map((match) => match[1] ?? '');
const newest = stamps.sort().at(-1) ?? '';

describe('npm run db:make', () => {
  it('stamps a new migration now in UTC, or a second after the newest one when that is later', () => {
    expect(nextStamp(INDEX, new Date('2099-01-02T03:04:05.678Z'))).toBe('20990102030405');
    const before = new Date(Date.UTC(2000, 0, 1));
    const next = nextStamp(INDEX, before);
    expect(next > newest).toBe(true);
    expect(nextStamp('', before)).toBe('20000101000000');
    // Across a minute, an hour, a day and a year: the next second as a date, never a 60th second.
    const at = (stamp: string) => `import * as m001 from './${stamp}_x';\n`;
    expect(nextStamp(at('20261231235959'), before)).toBe('20270101000000');
  });

  it('imports the new migration after the last one and lists it last, under the next alias', () => {
    const file = `${nextStamp(INDEX, new Date(Date.UTC(2000, 0, 1)))}_add_things`;
    const updated = addToIndex(INDEX, file);
    const count = stamps.length;
    const alias = `m${String(count + 1).padStart(3, '0')}`;
    const previous = `m${String(count).padStart(3, '0')}`;
    expect(updated).toContain(`from './${newest}_`);
    expect(updated.indexOf(`import * as ${alias} from './${file}';`)).toBeGreaterThan(
      updated.indexOf(`import * as ${previous} from`),
    );
    expect(updated).toMatch(
      new RegExp(`\\['${newest}_[a-z0-9_]+', ${previous}\\],\\n  \\['${file}', ${alias}\\],\\n\\];`),
    );
    // Nothing else changes.
    expect(
      updated.replace(`\nimport * as ${alias} from './${file}';`, '').replace(`  ['${file}', ${alias}],\n`, ''),
    ).toBe(INDEX);
  });

  it('refuses an index without the shape it expects, rather than guess', () => {
    expect(() => addToIndex('export const MIGRATIONS = [];\n', '20990101000000_x')).toThrow(/add it by hand/);
  });

  it('writes a migration with up and down over knex to fill in, saying what it changes', () => {
    const text = migrationText('add_things');
    expect(text).toContain("import type { Knex } from 'knex';");
    expect(text).toContain('export async function up(knex: Knex): Promise<void>');
    expect(text).toContain('export async function down(knex: Knex): Promise<void>');
    expect(text).toContain('What add things changes, and why.');
  });

  it('refuses a name that is not lowercase words joined by underscores, and writes nothing', () => {
    const script = path.join(__dirname, '../../scripts/db/make-migration.ts');
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', script, 'Bad-Name'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = (err as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toContain('usage: npm run db:make -- <name>');
    expect(fs.readFileSync(path.join(__dirname, '../../src/db/migrations/index.ts'), 'utf8')).toBe(INDEX);
  });
});
