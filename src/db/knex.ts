import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers } from 'objection';
import { migrationSource } from './migrations';

/** What the data layer needs from the configuration. */
export interface DbSettings {
  url: string;
  poolMax: number;
}

/** Creates a knex instance mapping snake_case columns to camelCase properties, with migrations from `src/db/migrations`. */
export function createKnex(settings: DbSettings): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: settings.url, connectionTimeoutMillis: 5_000 },
    pool: { min: 0, max: settings.poolMax, acquireTimeoutMillis: 10_000 },
    acquireConnectionTimeout: 10_000,
    migrations: { migrationSource, tableName: 'knex_migrations' },
    ...knexSnakeCaseMappers(),
  });
}
