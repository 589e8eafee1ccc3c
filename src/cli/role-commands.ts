import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../config';
import { isSetupError } from '../dev/setup-error';
import { createLogger, type LogDestination, type Logger } from '../logger';
import { type CommandOutput, type ExitWith, USAGE_ERROR } from './command-runner';
import type { MigrateOptions } from './run-migrate';

/** A role's work once the configuration is loaded; it resolves when the role has stopped. */
export type RoleRun = (config: Config, logger: Logger) => Promise<void>;

/** What each role command runs. */
export interface Roles {
  readonly dev: RoleRun;
  readonly api: RoleRun;
  readonly worker: RoleRun;
  readonly migrate: (config: Config, logger: Logger, options: MigrateOptions) => Promise<void>;
  readonly sweep: RoleRun;
}

/** What the role commands run against: the process's own, or a test's. */
export interface RoleContext {
  readonly output: CommandOutput;
  readonly env: NodeJS.ProcessEnv;
  readonly roles: Roles;
  /** Where the roles' log lines go (stderr unless a test reads them). */
  readonly log?: LogDestination;
}

/** Adds the commands that run a part of the server (or all of it) to `program`. */
export function addRoleCommands(program: Command, context: RoleContext, exitWith: ExitWith): void {
  const { roles } = context;
  const role = (name: string, description: string, run: RoleRun): Command =>
    program
      .command(name)
      .description(description)
      .action(async () => exitWith(await runRole(name, run, context)));
  role('dev', 'the whole server on embedded defaults (what npm start runs; the default command)', roles.dev);
  role('api', 'the HTTP API alone', roles.api);
  role('worker', 'one Temporal worker alone', roles.worker);
  const migrate: Command = role('migrate', 'apply pending database migrations', (config, logger) =>
    roles.migrate(config, logger, { down: migrate.opts<{ down?: true }>().down === true }),
  ).option('--down', 'roll every applied migration back instead');
  role('sweep', 'remove blobs that no row references', roles.sweep);
}

/**
 * Loads the configuration and runs the role. Returns the exit code: 0 once it stopped, 2 for an invalid
 * configuration (every problem printed), 1 when it failed (a setup problem as one line, anything else logged).
 */
async function runRole(name: string, run: RoleRun, context: RoleContext): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(context.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      context.output.stderr.write(`${err.message}\n`);
      return USAGE_ERROR;
    }
    throw err;
  }
  const logger = createLogger(config.log.level, { role: name }, context.log);
  try {
    await run(config, logger);
    return 0;
  } catch (err) {
    if (isSetupError(err)) {
      context.output.stderr.write(`roundhouse: ${err.message}\n`);
      return 1;
    }
    logger.error(`${name} failed`, { error: err });
    return 1;
  }
}
