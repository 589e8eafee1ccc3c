import { main } from '../../../../src/cli/main';
import type { Roles } from '../../../../src/cli/role-commands';
import type { LogDestination } from '../../../../src/logger';

/** What one `roundhouse ...` run did: its exit code, its output, and the roles it started (with their options). */
export interface MainRun {
  code: number;
  stdout: string;
  stderr: string;
  ran: string[];
}

/**
 * Runs `main(argv)` in process with its output captured and roles that only record that they ran (`roles` replaces
 * some of them). `env` is the whole environment the configuration is read from: the defaults unless given.
 */
export async function runMain(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; roles?: Partial<Roles>; log?: LogDestination } = {},
): Promise<MainRun> {
  const run: MainRun = { code: -1, stdout: '', stderr: '', ran: [] };
  const record = (name: string) => (): Promise<void> => {
    run.ran.push(name);
    return Promise.resolve();
  };
  const roles: Roles = {
    dev: record('dev'),
    api: record('api'),
    worker: record('worker'),
    migrate: (_config, _logger, { down }) => record(down ? 'migrate --down' : 'migrate')(),
    sweep: record('sweep'),
    ...options.roles,
  };
  run.code = await main(argv, {
    env: options.env ?? {},
    roles,
    ...(options.log ? { log: options.log } : {}),
    output: {
      stdout: { write: (text: string) => (run.stdout += text) },
      stderr: { write: (text: string) => (run.stderr += text) },
    },
  });
  return run;
}
