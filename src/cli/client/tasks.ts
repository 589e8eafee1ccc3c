import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ExitWith } from '../command-runner';
import { type ClientContext, clientAction, clientCommand, commandGroup, positiveInteger } from './context';
import { table } from './output';

/** `roundhouse tasks [list] [--wait s]`, and `tasks ack <id>`. */
export function tasksCommand(context: ClientContext, exitWith: ExitWith): Command {
  const group = commandGroup('tasks', 'your pending tasks and messages (tasks list, the default), and tasks ack');
  const tasks = clientCommand('list', 'your pending tasks and unacknowledged messages').option(
    '--wait <seconds>',
    'when there is none, wait up to this many seconds (at most 60) for one',
    seconds,
  );
  clientAction<{ wait?: number }>(tasks, context, exitWith, async (session) => {
    const wait = session.options.wait;
    const list = await (await session.authenticated()).tasks.list(wait === undefined ? {} : { wait });
    session.printer.result(list, (value) =>
      value.length === 0
        ? 'No tasks.'
        : table([
            ['ID', 'TYPE', 'TRAINING', 'ROUND', 'STATE', 'DEADLINE'],
            ...value.map((task) => [
              String(task.id),
              task.notification_type,
              task.training_uuid,
              task.round === null ? '-' : String(task.round),
              task.state ?? 'message',
              task.deadline ?? '-',
            ]),
          ]),
    );
  });
  const ack = clientCommand('ack', 'hide a message or a done task from the list').argument(
    '<id>',
    "the task's id",
    positiveInteger,
  );
  clientAction(ack, context, exitWith, async (session) => {
    const task = await (await session.authenticated()).tasks.ack(Number(session.args[0]));
    session.printer.result(task, (value) => `Acknowledged task ${value.id}`);
  });
  return group.addCommand(tasks, { isDefault: true }).addCommand(ack);
}

function seconds(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) > 60) {
    throw new InvalidArgumentError('It must be a whole number of seconds from 0 to 60.');
  }
  return Number(value);
}
