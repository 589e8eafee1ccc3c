import type { Command } from 'commander';
import type { ExitWith } from '../command-runner';
import { userLines } from './auth';
import { type ClientContext, clientAction, clientCommand, commandGroup } from './context';
import { table } from './output';

/** `roundhouse users me|list|show`. */
export function usersCommand(context: ClientContext, exitWith: ExitWith): Command {
  const group = commandGroup('users', 'who you are, and the users you can see');
  const me = clientCommand('me', 'the logged-in user');
  clientAction(me, context, exitWith, async (session) => {
    const { token: _token, notification_secret: _secret, ...user } = await (await session.authenticated()).users.me();
    session.printer.result(user, (value) => userLines(value));
  });
  const list = clientCommand('list', 'every user');
  clientAction(list, context, exitWith, async (session) => {
    const users = await (await session.authenticated()).users.list();
    session.printer.result(users, (value) =>
      table([
        ['ID', 'USERNAME', 'ACTOR', 'CLIENT'],
        ...value.map((user) => [user.id, user.username, user.actor ? 'yes' : 'no', user.client ? 'yes' : 'no']),
      ]),
    );
  });
  const show = clientCommand('show', 'one user').argument('<id>', "the user's id");
  clientAction(show, context, exitWith, async (session) => {
    const user = await (await session.authenticated()).users.get(String(session.args[0]));
    session.printer.result(user, (value) => userLines(value));
  });
  return group.addCommand(me, { isDefault: true }).addCommand(list).addCommand(show);
}
