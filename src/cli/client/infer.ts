import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ExitWith } from '../command-runner';
import { type ClientContext, clientAction, clientCommand, collect, readAll } from './context';
import { CliError, EXIT, UsageError } from './exit-codes';

interface InferOptions {
  readonly input?: string;
  readonly option?: string[];
}

/** `roundhouse infer <model> --input file.json`. */
export function inferCommand(context: ClientContext, exitWith: ExitWith): Command {
  const infer = clientCommand('infer', 'run a model (ONNX) on an input; prints the answer as JSON')
    .argument('<model>', "the model's id")
    .option('--input <file>', 'a JSON file of nested lists of numbers (- for stdin)')
    .option(
      '--option <key=value>',
      'an inference option, repeatable (docs/inference.md); JSON values are read as JSON',
      collect,
    );
  clientAction<InferOptions>(infer, context, exitWith, async (session) => {
    const { options } = session;
    if (options.input === undefined) {
      throw new UsageError('--input is required');
    }
    const text = options.input === '-' ? await readAll(context.stdin) : await readFile(options.input, 'utf8');
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch {
      throw new CliError(`${options.input === '-' ? 'stdin' : options.input} is not JSON`, EXIT.FAILED);
    }
    const inferenceOptions: Record<string, unknown> = {};
    for (const item of options.option ?? []) {
      const equals = item.indexOf('=');
      if (equals <= 0) {
        throw new UsageError(`--option "${item}" must be key=value`);
      }
      const value = item.slice(equals + 1);
      try {
        inferenceOptions[item.slice(0, equals)] = JSON.parse(value) as unknown;
      } catch {
        inferenceOptions[item.slice(0, equals)] = value;
      }
    }
    const answer = await (
      await session.authenticated()
    ).infer({
      modelId: String(session.args[0]),
      input,
      ...(Object.keys(inferenceOptions).length === 0 ? {} : { options: inferenceOptions }),
    });
    // The answer is JSON either way; people get it indented too.
    session.printer.result(answer, (value) => JSON.stringify(value, null, 2));
  });
  return infer;
}
