import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm run db:make -- <name>`: a new migration, `src/db/migrations/<YYYYMMDDHHMMSS>_<name>.ts` with `up` and `down`
 * to fill in, imported and appended to `MIGRATIONS` in `src/db/migrations/index.ts` (the static list the migrations
 * load from, in `src/` and in `dist/` alike). Its stamp is now in UTC, or one second after the newest migration's
 * when that is later, so the list stays in order. The rest is in docs/development.md#adding-a-migration.
 */

const NAME = /^[a-z][a-z0-9_]*$/;
const IMPORT = /^import \* as m(\d+) from '\.\/(\d{14})_[a-z0-9_]+';$/gm;
const LAST_ENTRY = /^ {2}\['\d{14}_[a-z0-9_]+', m\d+\],\n(?=\];)/m;

/** The stamp of a migration made at `now` after those `index` lists: now in UTC, or the newest one's next second. */
export function nextStamp(index: string, now: Date): string {
  const stamps = [...index.matchAll(IMPORT)].map((match) => match[2] ?? '');
  const newest = stamps.sort().at(-1);
  const current = stampOf(now);
  if (newest === undefined || current > newest) {
    return current;
  }
  return stampOf(
    new Date(
      Date.UTC(
        Number(newest.slice(0, 4)),
        Number(newest.slice(4, 6)) - 1,
        Number(newest.slice(6, 8)),
        Number(newest.slice(8, 10)),
        Number(newest.slice(10, 12)),
        Number(newest.slice(12, 14)) + 1,
      ),
    ),
  );
}

/** `date` in UTC as a migration's stamp, YYYYMMDDHHMMSS. */
function stampOf(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

/**
 * `index` with the migration `file` (its name without `.ts`) imported after the last import and appended to
 * `MIGRATIONS`. @throws when `index` does not have the shape this expects (then edit it by hand).
 */
export function addToIndex(index: string, file: string): string {
  const imports = [...index.matchAll(IMPORT)];
  const last = imports.at(-1);
  const entry = LAST_ENTRY.exec(index);
  if (!last || last.index === undefined || !entry) {
    throw new Error('src/db/migrations/index.ts has no import and MIGRATIONS entry to add after: add it by hand.');
  }
  const number = Math.max(...imports.map((match) => Number(match[1]))) + 1;
  const alias = `m${String(number).padStart(3, '0')}`;
  const afterImport = last.index + last[0].length;
  const withImport = `${index.slice(0, afterImport)}\nimport * as ${alias} from './${file}';${index.slice(afterImport)}`;
  return withImport.replace(LAST_ENTRY, (line) => `${line}  ['${file}', ${alias}],\n`);
}

/** The new migration's text: `up` and `down` to fill in. */
export function migrationText(name: string): string {
  return `import type { Knex } from 'knex';

/** What ${name.replace(/_/g, ' ')} changes, and why. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('');
}

/** How \`up\` is undone. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('');
}
`;
}

function main(): void {
  const name = process.argv[2] ?? '';
  if (!NAME.test(name)) {
    process.stderr.write('usage: npm run db:make -- <name> (lowercase letters, digits and underscores)\n');
    process.exit(2);
  }
  const dir = path.join(__dirname, '..', '..', 'src', 'db', 'migrations');
  const indexFile = path.join(dir, 'index.ts');
  const index = fs.readFileSync(indexFile, 'utf8');
  const file = `${nextStamp(index, new Date())}_${name}`;
  const updated = addToIndex(index, file);
  fs.writeFileSync(path.join(dir, `${file}.ts`), migrationText(name), { flag: 'wx' });
  fs.writeFileSync(indexFile, updated);
  process.stdout.write(
    `created src/db/migrations/${file}.ts and listed it in index.ts; next: fill in up and down, then the steps in ` +
      'docs/development.md#adding-a-migration (models, queries, the migration count and schema tests).\n',
  );
}

if (require.main === module) {
  main();
}
