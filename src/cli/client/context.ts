import { Command, InvalidArgumentError } from 'commander';
import { RoundhouseClient } from '../../client/client';
import { HttpClient } from '../../client/http';
import { type CommandOutput, type ExitWith, USAGE_ERROR } from '../command-runner';
import { configPath, readCredentials, type StoredCredentials } from './config';
import { CliError, describeFailure, EXIT, UsageError } from './exit-codes';
import { Printer } from './output';

/** What the client commands run against: the process's own streams and environment, or a test's. */
export interface ClientContext {
  readonly output: CommandOutput;
  readonly env: NodeJS.ProcessEnv;
  /** Where `login --password-stdin` reads the password. */
  readonly stdin: AsyncIterable<string | Buffer>;
  /** Asks for a password without echo when stdin is a terminal (absent otherwise). */
  readonly promptPassword?: (question: string) => Promise<string>;
  /** Which of stdout and stderr are terminals: progress bars (stderr) and `trainings watch` (stdout) redraw. */
  readonly terminal: { readonly stdout: boolean; readonly stderr: boolean };
}

/** The options every client command takes. */
export interface GlobalOptions {
  readonly server?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly config?: string;
  readonly retries?: number;
}

export const DEFAULT_SERVER = 'http://localhost:8000';
const DEFAULT_ATTEMPTS = 3;

/** A client command: its own options are added to it, then `clientAction` adds the global ones. */
export function clientCommand(name: string, summary: string): Command {
  return new Command(name).description(summary);
}

/** The options every client command takes, listed under their own heading. */
function addGlobalOptions(command: Command): Command {
  return command
    .optionsGroup('Global options:')
    .option(
      '--server <url>',
      `the Roundhouse server (env ROUNDHOUSE_URL; default: the logged-in one, or ${DEFAULT_SERVER})`,
    )
    .option('--token <token>', 'an API token (env ROUNDHOUSE_TOKEN; default: the one roundhouse login stored)')
    .option('--json', "print the server's answer as JSON on stdout, and nothing else there")
    .option(
      '--config <file>',
      'the credentials file (env ROUNDHOUSE_CONFIG; default $XDG_CONFIG_HOME/roundhouse/config.json or ~/.config/roundhouse/config.json)',
    )
    .option(
      '--retries <n>',
      `attempts per request when the server is unavailable (default ${DEFAULT_ATTEMPTS})`,
      positiveInteger,
    );
}

/** A group of client commands (`models`, `trainings`, ...): its subcommands carry the options. */
export function commandGroup(name: string, summary: string): Command {
  return new Command(name).description(summary);
}

/** What an action is given: its arguments and options, where to print, and the server's client. */
export interface Session<O> {
  readonly args: readonly unknown[];
  readonly options: O & GlobalOptions;
  readonly printer: Printer;
  readonly context: ClientContext;
  readonly configFile: string;
  /** The server: `--server`, `ROUNDHOUSE_URL`, the stored one, or the default. */
  server(): Promise<string>;
  /** A client without credentials (registration). */
  anonymous(): Promise<RoundhouseClient>;
  /** A client with the caller's token; exit code 3 when there is none. */
  authenticated(): Promise<RoundhouseClient>;
}

/** Makes `run` the command's action; its failures become messages on stderr and exit codes (`describeFailure`). */
export function clientAction<O>(
  command: Command,
  context: ClientContext,
  exitWith: ExitWith,
  run: (session: Session<O>) => Promise<number | void>,
): Command {
  return addGlobalOptions(command).action(async () => {
    const options = command.opts<O & GlobalOptions>();
    const printer = new Printer(
      context.output,
      options.json === true,
      context.terminal.stderr,
      context.terminal.stdout,
    );
    const session = createSession(command.processedArgs, options, printer, context);
    try {
      exitWith((await run(session)) ?? EXIT.OK);
    } catch (error) {
      if (error instanceof UsageError) {
        command.error(error.message, { exitCode: USAGE_ERROR, code: 'roundhouse.usage' });
      }
      const failure = describeFailure(error);
      if (failure === undefined) {
        throw error;
      }
      context.output.stderr.write(`${commandPath(command)}: ${failure.message}\n`);
      exitWith(failure.exitCode);
    }
  });
}

function createSession<O>(
  args: readonly unknown[],
  options: O & GlobalOptions,
  printer: Printer,
  context: ClientContext,
): Session<O> {
  const { env } = context;
  const configFile = configPath(options.config, env);
  let stored: Promise<StoredCredentials | undefined> | undefined;
  const credentials = (): Promise<StoredCredentials | undefined> => (stored ??= readCredentials(configFile));
  const given = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : value;
  const server = async (): Promise<string> =>
    trimSlash(given(options.server) ?? given(env.ROUNDHOUSE_URL) ?? (await credentials())?.server ?? DEFAULT_SERVER);
  const http = async (): Promise<HttpClient> =>
    new HttpClient({
      baseUrl: await server(),
      retry: { attempts: options.retries ?? DEFAULT_ATTEMPTS },
      onRetry: (retry) =>
        printer.note(
          `${retry.request}: ${retry.reason}, attempt ${retry.attempt} in ${(retry.delayMs / 1000).toFixed(1)} s`,
        ),
    });
  return {
    args,
    options,
    printer,
    context,
    configFile,
    server,
    anonymous: async () => new RoundhouseClient(await http()),
    authenticated: async () => {
      const url = await server();
      let token = given(options.token) ?? given(env.ROUNDHOUSE_TOKEN);
      if (token === undefined) {
        const saved = await credentials();
        if (saved !== undefined && trimSlash(saved.server) === url) {
          token = saved.token;
        } else {
          throw new CliError(
            saved === undefined
              ? `not logged in: run 'roundhouse login', or give --token or ROUNDHOUSE_TOKEN`
              : `not logged in to ${url} (${configFile} is for ${saved.server}): run 'roundhouse login --server ${url}'`,
            EXIT.NOT_AUTHENTICATED,
          );
        }
      }
      return new RoundhouseClient((await http()).withCredentials({ token }));
    },
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** `roundhouse models show`, for messages. */
export function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** Commander's parser of a positive whole number. */
export function positiveInteger(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new InvalidArgumentError('It must be a positive whole number.');
  }
  return Number(value);
}

/** Commander's parser of a whole number from 0. */
export function wholeNumber(value: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw new InvalidArgumentError('It must be a whole number from 0.');
  }
  return Number(value);
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A stream's whole text (stdin). */
export async function readAll(stream: AsyncIterable<string | Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString();
  }
  return text;
}
