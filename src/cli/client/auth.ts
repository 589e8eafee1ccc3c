import type { Command } from 'commander';
import type { User } from '../../client/client';
import { isApiError } from '../../client/errors';
import type { ExitWith } from '../command-runner';
import { removeCredentials, writeCredentials } from './config';
import { type ClientContext, clientAction, clientCommand, readAll } from './context';
import { CliError, EXIT, UsageError } from './exit-codes';
import { fields } from './output';

interface LoginOptions {
  readonly username?: string;
  readonly passwordStdin?: boolean;
}

interface RegisterOptions extends LoginOptions {
  readonly actor?: boolean;
  readonly client?: boolean;
  readonly email?: string;
  readonly messageEndpoint?: string;
  readonly save?: boolean;
}

/** `roundhouse login`, `logout` and `register`. */
export function authCommands(context: ClientContext, exitWith: ExitWith): Command[] {
  const login = clientCommand('login', 'check a username and password and store the API token in the config file')
    .option('--username <name>', 'the user (env ROUNDHOUSE_USERNAME)')
    .option(
      '--password-stdin',
      'read the password from stdin (else env ROUNDHOUSE_PASSWORD, else asked on the terminal)',
    )
    .addHelpText(
      'after',
      '\nThe password is never an argument: pipe it in with --password-stdin, set ROUNDHOUSE_PASSWORD, or type it when asked.',
    );
  clientAction<LoginOptions>(login, context, exitWith, async (session) => {
    const { username, password } = await usernameAndPassword(session.options, context);
    const server = await session.server();
    const client = (await session.anonymous()).as({ username, password });
    let me: User;
    try {
      // `users/myself/` leaves the token out; the caller's own `users/{id}/` shows it.
      me = await client.users.get((await client.users.me()).id);
    } catch (error) {
      if (isApiError(error, 401)) {
        throw new CliError(`login refused: wrong username or password for ${server}`, EXIT.NOT_AUTHENTICATED);
      }
      throw error;
    }
    if (me.token === undefined) {
      throw new CliError(`${server} answered no token for ${username}`, EXIT.FAILED);
    }
    await writeCredentials(session.configFile, { server, token: me.token, username: me.username });
    session.printer.result(
      { server, username: me.username, id: me.id, config: session.configFile },
      (value) => `Logged in to ${value.server} as ${value.username}; credentials in ${value.config}`,
    );
  });

  const logout = clientCommand('logout', 'remove the stored credentials');
  clientAction(logout, context, exitWith, async (session) => {
    const removed = await removeCredentials(session.configFile);
    session.printer.result({ removed, config: session.configFile }, (value) =>
      value.removed ? `Removed ${value.config}` : `Not logged in (no ${value.config})`,
    );
  });

  const register = clientCommand('register', 'register a new user (and, with --save, store its token)')
    .option('--username <name>', 'the new user (env ROUNDHOUSE_USERNAME)')
    .option(
      '--password-stdin',
      'read the password from stdin (else env ROUNDHOUSE_PASSWORD, else asked on the terminal)',
    )
    .option('--actor', 'may create trainings')
    .option('--client', 'may take part in trainings')
    .option('--email <address>', 'an e-mail address')
    .option('--message-endpoint <url>', 'where the server pushes notifications')
    .option('--save', 'store the new token in the config file, as login does');
  clientAction<RegisterOptions>(register, context, exitWith, async (session) => {
    const { username, password } = await usernameAndPassword(session.options, context);
    const { options } = session;
    const user = await (
      await session.anonymous()
    ).users.register({
      username,
      password,
      actor: options.actor === true,
      client: options.client === true,
      ...(options.email === undefined ? {} : { email: options.email }),
      ...(options.messageEndpoint === undefined ? {} : { message_endpoint: options.messageEndpoint }),
    });
    if (options.save === true && user.token !== undefined) {
      await writeCredentials(session.configFile, { server: await session.server(), token: user.token, username });
    }
    session.printer.result(user, (value) => userLines(value));
  });
  return [login, logout, register];
}

/** A user's fields for people (the token and secret left out: they are the caller's to keep). */
export function userLines(user: User): string[] {
  return fields([
    ['id', user.id],
    ['username', user.username],
    ['name', `${user.first_name} ${user.last_name}`.trim() || null],
    ['email', user.email || null],
    ['actor', user.actor ? 'yes' : 'no'],
    ['client', user.client ? 'yes' : 'no'],
    ['message endpoint', user.message_endpoint || null],
  ]);
}

async function usernameAndPassword(
  options: LoginOptions,
  context: ClientContext,
): Promise<{ username: string; password: string }> {
  const username = options.username ?? context.env.ROUNDHOUSE_USERNAME;
  if (username === undefined || username === '') {
    throw new UsageError('give --username (or ROUNDHOUSE_USERNAME)');
  }
  let password: string | undefined;
  if (options.passwordStdin === true) {
    // One trailing newline is the shell's (echo), not the password's.
    password = (await readAll(context.stdin)).replace(/\r?\n$/, '');
  } else if (context.env.ROUNDHOUSE_PASSWORD !== undefined && context.env.ROUNDHOUSE_PASSWORD !== '') {
    password = context.env.ROUNDHOUSE_PASSWORD;
  } else if (context.promptPassword !== undefined) {
    password = await context.promptPassword(`Password for ${username}: `);
  }
  if (password === undefined || password === '') {
    throw new UsageError('give the password on stdin with --password-stdin, or in ROUNDHOUSE_PASSWORD');
  }
  return { username, password };
}
