import { aggregateCommand } from './aggregate-command';
import { runCommands } from './command-runner';
import { addRoleCommands, type RoleContext, type Roles } from './role-commands';
import { runApiRole } from './run-api';
import { runDev } from './run-dev';
import { runMigrate } from './run-migrate';
import { runSweep } from './run-sweep';
import { runWorkerRole } from './run-worker';

const ROLES: Roles = { dev: runDev, api: runApiRole, worker: runWorkerRole, migrate: runMigrate, sweep: runSweep };

/**
 * Entry point of the `roundhouse` binary; `argv` holds the arguments after it. Returns the exit code: 0 on success
 * or after help, 2 for a usage error or an invalid configuration, 1 when the command failed. Tests pass their own
 * output, environment or roles in `context`.
 */
export async function main(argv: readonly string[], context: Partial<RoleContext> = {}): Promise<number> {
  const full: RoleContext = { output: process, env: process.env, roles: ROLES, ...context };
  // `npm start` runs `roundhouse` with no command: the whole server.
  return runCommands(argv.length === 0 ? ['dev'] : argv, full.output, (program, exitWith) => {
    program
      .description('Federated-learning server: durable training rounds on Temporal, a REST API, ONNX models.')
      // Names alone in the list of commands: each command's --help shows its arguments.
      .configureHelp({ subcommandTerm: (command) => command.name() })
      .addHelpText('after', "\nWith no command, runs dev; 'roundhouse <command> --help' shows its options.");
    addRoleCommands(program, full, exitWith);
    // Pure computation on files: no configuration, database or Temporal involved.
    program.addCommand(aggregateCommand(full.output, exitWith));
  });
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
