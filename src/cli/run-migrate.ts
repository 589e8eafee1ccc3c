import type { Config } from '../config';
import { migrateDownAll, migrateLatest } from '../db/migrate';
import type { Logger } from '../logger';
import { connectDatabase } from './infrastructure';

/** `roundhouse migrate [--down]`: applies every pending migration, or rolls all of them back. */
export async function runMigrate(config: Config, logger: Logger, args: string[]): Promise<void> {
  const knex = connectDatabase(config);
  try {
    const names = args.includes('--down') ? await migrateDownAll(knex) : await migrateLatest(knex);
    logger.info(args.includes('--down') ? 'rolled back' : 'migrated', { migrations: names });
  } finally {
    await knex.destroy();
  }
}
