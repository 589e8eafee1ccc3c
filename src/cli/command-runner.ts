import { Command } from 'commander';

/** Where commands write their messages and help (tests pass their own). */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Hands the exit code a command's action ends with to the run that parsed it. */
export type ExitWith = (code: number) => void;

/** Exit code of a usage error: an unknown command or option, a missing or bad value. */
export const USAGE_ERROR = 2;

/**
 * Parses `argv` (the arguments after `roundhouse`) with the commands `define` adds to the program, and runs the one
 * named. Resolves with the exit code: the action's, 0 after help, 2 for a usage error. Nothing calls process.exit.
 */
export async function runCommands(
  argv: readonly string[],
  output: CommandOutput,
  define: (program: Command, exitWith: ExitWith) => void,
): Promise<number> {
  let exitCode = 0;
  const program = new Command('roundhouse');
  define(program, (code) => {
    exitCode = code;
  });
  configureTree(program, output);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (!isCommanderError(error)) {
      throw error;
    }
    // Commander exits 0 after help and 1 for every mistake in the command line; ours is 2.
    return error.exitCode === 0 ? 0 : USAGE_ERROR;
  }
}

/**
 * Settings commander does not pass on to commands added with `addCommand`, so each command gets them here: errors
 * thrown instead of exiting, output to `output`, and a usage error printed as `roundhouse <command>: <problem>`
 * followed by that command's help.
 */
function configureTree(command: Command, output: CommandOutput): void {
  command
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => output.stdout.write(text),
      writeErr: (text) => output.stderr.write(text),
      outputError: (text, write) => write(`${commandPath(command)}: ${problem(text)}`),
    });
  for (const subcommand of command.commands) {
    configureTree(subcommand, output);
  }
}

function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** Commander's own messages read `error: unknown option '--x'`; after our prefix they read `Unknown option '--x'`. */
function problem(text: string): string {
  const own = /^error: (.)/.exec(text);
  return own?.[1] ? own[1].toUpperCase() + text.slice(own[0].length) : text;
}

/** Commander's errors (its own and those `command.error` raises), recognized by name: `instanceof` fails across realms. */
function isCommanderError(error: unknown): error is Error & { exitCode: number } {
  return (
    error instanceof Error &&
    error.name === 'CommanderError' &&
    'exitCode' in error &&
    typeof error.exitCode === 'number'
  );
}
