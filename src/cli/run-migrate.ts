import type { Config } from '../config';
import { migrateDownAll, migrateLatest } from '../db/migrate';
import type { Logger } from '../logger';
import { connectDatabase } from './infrastructure';

/** The options of `roundhouse migrate`. */
export interface MigrateOptions {
  /** Roll every applied migration back instead of applying the pending ones. */
  readonly down: boolean;
}

/** `roundhouse migrate [--down]`: applies every pending migration, or rolls all of them back. */
export async function runMigrate(config: Config, logger: Logger, options: MigrateOptions): Promise<void> {
  const knex = connectDatabase(config);
  try {
    const names = options.down ? await migrateDownAll(knex) : await migrateLatest(knex);
    logger.info(options.down ? 'rolled back' : 'migrated', { migrations: names });
  } finally {
    await knex.destroy();
  }
}
