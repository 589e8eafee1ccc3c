import type { Command } from 'commander';
import type { ExitWith } from '../command-runner';
import { authCommands } from './auth';
import type { ClientContext } from './context';
import { datasetsCommand } from './datasets';
import { inferCommand } from './infer';
import { modelsCommand } from './models';
import { tasksCommand } from './tasks';
import { trainingsCommand } from './trainings';
import { usersCommand } from './users';

export type { ClientContext } from './context';
export { EXIT, EXIT_CODES_HELP } from './exit-codes';

/** Adds the commands that talk to a Roundhouse server through the SDK (docs/cli.md). */
export function addClientCommands(program: Command, context: ClientContext, exitWith: ExitWith): void {
  for (const command of [
    ...authCommands(context, exitWith),
    usersCommand(context, exitWith),
    modelsCommand(context, exitWith),
    trainingsCommand(context, exitWith),
    tasksCommand(context, exitWith),
    datasetsCommand(context, exitWith),
    inferCommand(context, exitWith),
  ]) {
    program.addCommand(command);
  }
}
