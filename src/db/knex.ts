import knexFactory, { type Knex } from 'knex';
import { knexSnakeCaseMappers } from 'objection';
import { migrationSource } from './migrations';

/** How long an idle pool connection is kept before it is closed. */
export const IDLE_CONNECTION_MS = 10 * 60_000;

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
    // An idle connection is kept ten minutes (tarn's default is 30 s): opening one costs a request 12-16 ms
    // (measured: a backend forked and authenticated, against 1 ms for a query), which the first request after every
    // half-minute lull paid. A connection that dies while idle is discarded on its next acquire (test/db/pool.test.ts).
    pool: { min: 0, max: settings.poolMax, acquireTimeoutMillis: 10_000, idleTimeoutMillis: IDLE_CONNECTION_MS },
    acquireConnectionTimeout: 10_000,
    migrations: { migrationSource, tableName: 'knex_migrations' },
    ...knexSnakeCaseMappers(),
  });
}
