import type { Knex } from 'knex';
import * as m001 from './20261123100000_users_and_groups';
import * as m002 from './20261123100100_models';
import * as m003 from './20261123100200_trainings';
import * as m004 from './20261123100300_uploads_metrics_notifications';
import * as m005 from './20261123110000_upload_sample_size';
import * as m006 from './20261123150000_strategy_state';
import * as m007 from './20261202100000_metrics_upload';
import * as m008 from './20261202130000_tasks_and_rounds';
import * as m009 from './20261202140000_notification_secret';
import * as m010 from './20261202140100_sessions_and_login_failures';
import * as m011 from './20261202150000_group_owners';
import * as m012 from './20261202160000_training_group';
import * as m013 from './20261202170000_datasets';
import * as m014 from './20261202180000_evaluations';
import * as m015 from './20261203090000_model_format';
import * as m016 from './20261203100000_blob_leases';
import * as m017 from './20261204100000_change_notifications';
import * as m018 from './20261205100000_quiet_local_versions';
import * as m019 from './20261206100000_training_workflow_ids';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration in order; listed statically so they load the same from `src` (jest, tsx) and from `dist`. */
const MIGRATIONS: ReadonlyArray<[string, Migration]> = [
  ['20261123100000_users_and_groups', m001],
  ['20261123100100_models', m002],
  ['20261123100200_trainings', m003],
  ['20261123100300_uploads_metrics_notifications', m004],
  ['20261123110000_upload_sample_size', m005],
  ['20261123150000_strategy_state', m006],
  ['20261202100000_metrics_upload', m007],
  ['20261202130000_tasks_and_rounds', m008],
  ['20261202140000_notification_secret', m009],
  ['20261202140100_sessions_and_login_failures', m010],
  ['20261202150000_group_owners', m011],
  ['20261202160000_training_group', m012],
  ['20261202170000_datasets', m013],
  ['20261202180000_evaluations', m014],
  ['20261203090000_model_format', m015],
  ['20261203100000_blob_leases', m016],
  ['20261204100000_change_notifications', m017],
  ['20261205100000_quiet_local_versions', m018],
  ['20261206100000_training_workflow_ids', m019],
];

/** A knex migration source over the static list above. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(MIGRATIONS.map(([name]) => name)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) {
      return Promise.reject(new Error(`Unknown migration ${name}`));
    }
    return Promise.resolve(found[1]);
  },
};
