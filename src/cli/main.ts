import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { isSetupError } from '../dev/setup-error';
import { runAggregateCommand } from './aggregate-command';
import { runApiRole } from './run-api';
import { runDev } from './run-dev';
import { runMigrate } from './run-migrate';
import { runSweep } from './run-sweep';
import { runWorkerRole } from './run-worker';

const USAGE = `Usage: roundhouse <command>

Commands:
  dev        the whole server on embedded defaults (what npm start runs)
  api        the HTTP API alone
  worker     one Temporal worker alone
  migrate    apply pending database migrations (--down rolls all back)
  sweep      remove blobs that no row references
  aggregate  aggregate ONNX updates offline as a training round would (roundhouse aggregate --help)
`;

const COMMANDS = {
  dev: runDev,
  api: runApiRole,
  worker: runWorkerRole,
  migrate: runMigrate,
  sweep: runSweep,
} as const;

function isCommand(name: string): name is keyof typeof COMMANDS {
  return Object.hasOwn(COMMANDS, name);
}

/** Entry point of the `roundhouse` binary; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name = 'dev', ...args] = argv;
  if (name === 'aggregate') {
    // Pure computation on files: no configuration, database or Temporal involved.
    return runAggregateCommand(args);
  }
  if (name === '--help' || name === 'help' || !isCommand(name)) {
    process.stdout.write(USAGE);
    return name === '--help' || name === 'help' ? 0 : 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.log.level, { role: name });
  try {
    await COMMANDS[name](config, logger, args);
    return 0;
  } catch (err) {
    if (isSetupError(err)) {
      process.stderr.write(`roundhouse: ${err.message}\n`);
      return 1;
    }
    logger.error(`${name} failed`, { error: err });
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
