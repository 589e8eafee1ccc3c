import { aggregateCommand } from './aggregate-command';
import { addClientCommands, type ClientContext, EXIT_CODES_HELP } from './client';
import { promptHidden } from './client/prompt';
import { runCommands } from './command-runner';
import { addRoleCommands, type RoleContext, type Roles } from './role-commands';
import type * as RunDev from './run-dev';
import type * as RunApi from './run-api';
import type * as RunWorker from './run-worker';
import type * as RunMigrate from './run-migrate';
import type * as RunSweep from './run-sweep';

/** A module loaded on first use (CommonJS: `import()` would load it as ECMAScript). */
function load<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as T;
}

/**
 * The server's roles, each loaded when it runs: their modules (Temporal, knex, Koa) take longer to load than a
 * client command takes to run.
 */
const ROLES: Roles = {
  dev: (config, logger) => load<typeof RunDev>('./run-dev').runDev(config, logger),
  api: (config, logger) => load<typeof RunApi>('./run-api').runApiRole(config, logger),
  worker: (config, logger) => load<typeof RunWorker>('./run-worker').runWorkerRole(config, logger),
  migrate: (config, logger, options) => load<typeof RunMigrate>('./run-migrate').runMigrate(config, logger, options),
  sweep: (config, logger) => load<typeof RunSweep>('./run-sweep').runSweep(config, logger),
};

/** What the client commands take beyond a role's context: stdin and a prompt (a password), which outputs are terminals. */
export type MainContext = RoleContext & Pick<ClientContext, 'stdin' | 'terminal' | 'promptPassword'>;

/**
 * Entry point of the `roundhouse` binary; `argv` holds the arguments after it. Returns the exit code: 0 on success
 * or after help, 2 for a usage error or an invalid configuration, 1 when the command failed. Tests pass their own
 * output, environment or roles in `context`.
 */
export async function main(argv: readonly string[], context: Partial<MainContext> = {}): Promise<number> {
  const full: RoleContext = { output: process, env: process.env, roles: ROLES, ...context };
  const client: ClientContext = {
    output: full.output,
    env: full.env,
    stdin: context.stdin ?? process.stdin,
    ...(context.promptPassword !== undefined
      ? { promptPassword: context.promptPassword }
      : full.output === process && process.stdin.isTTY
        ? { promptPassword: (question) => promptHidden(question, { input: process.stdin, output: process.stderr }) }
        : {}),
    // A test's own output is no terminal.
    terminal:
      context.terminal ??
      (full.output === process
        ? { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true }
        : { stdout: false, stderr: false }),
  };
  // `npm start` runs `roundhouse` with no command: the whole server.
  return runCommands(argv.length === 0 ? ['dev'] : argv, full.output, (program, exitWith) => {
    program
      .description(
        'Federated-learning server: durable training rounds on Temporal, a REST API, ONNX or PyTorch models.',
      )
      // Names alone in the list of commands: each command's --help shows its arguments.
      .configureHelp({ subcommandTerm: (command) => command.name() })
      .addHelpText(
        'after',
        "\nWith no command, runs dev; 'roundhouse <command> --help' shows its options.\n" +
          'The client commands (login to infer) talk to a server: docs/cli.md.\n' +
          EXIT_CODES_HELP,
      );
    addRoleCommands(program, full, exitWith);
    // Pure computation on files: no configuration, database or Temporal involved.
    program.addCommand(aggregateCommand(full.output, exitWith));
    // A server's users: the SDK (src/client) on the command line.
    addClientCommands(program, client, exitWith);
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
