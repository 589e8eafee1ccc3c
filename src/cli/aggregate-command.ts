import { access, readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { aggregate } from '../aggregation/aggregate';
import type { AggregateRequest } from '../aggregation/aggregate';
import { isAggregationError } from '../aggregation/errors';
import { fileSource, writeFileAtomically } from '../onnx/model-source';
import { parseParams } from '../aggregation/strategies/params';
import { decodeStrategyState, encodeStrategyState } from '../aggregation/strategy-state';
import { aggregationMethods, findStrategy } from '../aggregation/strategies/registry';
import type { ClientUpdate } from '../aggregation/strategies/strategy';
import { type CommandOutput, type ExitWith, runCommands, USAGE_ERROR } from './command-runner';

/** The parsed command: an aggregation request plus where to write its result. */
type CommandRequest = AggregateRequest & { readonly out: string; readonly stateOut?: string | undefined };

/** The options as commander collects them; each is checked in `parseCommand`. */
interface AggregateOptions {
  readonly method?: string;
  readonly param?: string[];
  readonly out?: string;
  readonly stateIn?: string;
  readonly stateOut?: string;
}

const PARAMS = aggregationMethods()
  .map(
    (method) =>
      `${method}: ${
        findStrategy(method)
          ?.params.map((spec) => spec.name)
          .join(', ') || 'none'
      }`,
  )
  .join('; ');

const NOTES = `
Each update is a path and its sample size. Updates are folded in the order of
their paths as given (the engine orders clients by id), so name update files by
client id to reproduce a server's aggregate bit for bit.

Models are ONNX files or PyTorch archives (torch.jit.save of a scripted model, or
torch.save of a state_dict), read without unpickling anything; the updates must be
of the global model's format, and the result is written in it.`;

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

/** `roundhouse aggregate`: its options, help and action, which hands its exit code to `exitWith`. */
export function aggregateCommand(output: CommandOutput, exitWith: ExitWith): Command {
  const command = new Command('aggregate')
    .summary('aggregate ONNX or PyTorch updates offline as a training round would')
    .description(
      'Aggregates client updates into a new global model exactly as a training round does, to reproduce or check one.',
    )
    .usage(
      '--method <method> [--param name=value ...] [--state-in <file>] [--state-out <file>] --out <result> <global> <update:samples> ...',
    )
    // Optional to commander: parseCommand checks them after the options, with messages of its own.
    .argument('[global]', 'the global model the updates were trained from (ONNX or a PyTorch archive)')
    .argument('[update:samples...]', 'each update and its sample size, a positive integer')
    .option('--method <method>', `the aggregation method: ${aggregationMethods().join(', ')} (any case)`)
    .option('--param <name=value>', `a parameter of the method, repeatable (${PARAMS})`, collect)
    .option('--out <result>', "the file to write, in the global model's format; written whole or not at all")
    .option(
      '--state-in <file>',
      'for FedAvgM and the FedOpt family: the state --state-out wrote last round (absent: the first round)',
    )
    .option('--state-out <file>', 'where to write the state the next round needs (float64 safetensors)')
    .addHelpText('after', NOTES);
  return command.action(async () => exitWith(await runAggregate(command, output)));
}

/**
 * `roundhouse aggregate ...`: `argv` holds the arguments after `aggregate`. Returns the exit code: 0 on success,
 * 1 when a model is refused or aggregation fails, 2 for a usage error.
 */
export function runAggregateCommand(argv: string[], output: CommandOutput = process): Promise<number> {
  return runCommands(['aggregate', ...argv], output, (program, exitWith) => {
    program.addCommand(aggregateCommand(output, exitWith));
  });
}

async function runAggregate(command: Command, output: CommandOutput): Promise<number> {
  let request: CommandRequest;
  try {
    request = await parseCommand(command.opts<AggregateOptions>(), command.args);
  } catch (error) {
    if (error instanceof UsageError) {
      command.error(error.message, { exitCode: USAGE_ERROR, code: 'roundhouse.usage' });
    }
    throw error;
  }
  try {
    const result = await aggregate(request);
    const digest = await writeFileAtomically(result.model, request.out);
    if (request.stateOut !== undefined && result.state) {
      await writeFileAtomically(encodeStrategyState(result.state), request.stateOut);
    }
    output.stdout.write(
      `${result.method} of ${result.clientOrder.length} updates (${result.totalSamples} samples) -> ${request.out} (sha256 ${digest})\n`,
    );
    return 0;
  } catch (error) {
    // Refused models and unreadable files (a directory, a permission) are the user's to fix: a message, not a trace.
    if (!isAggregationError(error) && !isSystemError(error)) {
      throw error;
    }
    output.stderr.write(`roundhouse aggregate: ${error.message} [${error.code}]\n`);
    return 1;
  }
}

async function parseCommand(values: AggregateOptions, positionals: readonly string[]): Promise<CommandRequest> {
  const { method, out } = values;
  const strategy = method === undefined ? undefined : findStrategy(method);
  if (method === undefined || strategy === undefined) {
    throw new UsageError(method === undefined ? '--method is required' : `unknown method "${method}"`);
  }
  if (out === undefined || out === '') {
    throw new UsageError('--out is required');
  }
  const [globalPath, ...updateSpecs] = positionals;
  if (globalPath === undefined || updateSpecs.length === 0) {
    throw new UsageError('give the global model and at least one update (path:samples)');
  }
  const updates = updateSpecs.map(parseUpdate);
  const params = parseParamList(values.param ?? []);
  try {
    parseParams(strategy.method, strategy.params, params);
  } catch (error) {
    throw isAggregationError(error) ? new UsageError(error.message) : error;
  }
  const { stateIn, stateOut } = values;
  if ((stateIn !== undefined || stateOut !== undefined) && strategy.stateful !== true) {
    throw new UsageError(`${strategy.method} keeps no state between rounds; leave out --state-in and --state-out`);
  }
  await Promise.all(
    [globalPath, ...updates.map((update) => update.clientId), ...(stateIn ? [stateIn] : [])].map(ensureReadable),
  );
  const state = stateIn === undefined ? undefined : decodeStrategyState(await readFile(stateIn));
  return { method, params, out, global: fileSource(globalPath), updates, ...(state ? { state } : {}), stateOut };
}

function parseUpdate(spec: string): ClientUpdate {
  const colon = spec.lastIndexOf(':');
  const path = spec.slice(0, colon);
  const size = spec.slice(colon + 1);
  if (colon <= 0 || !/^[1-9]\d*$/.test(size)) {
    throw new UsageError(`update "${spec}" must be <path>:<sample size>, the size a positive integer`);
  }
  return { clientId: path, sampleSize: Number(size), source: fileSource(path) };
}

function parseParamList(list: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of list) {
    const equals = item.indexOf('=');
    const name = item.slice(0, equals);
    if (equals <= 0 || name in params) {
      throw new UsageError(equals <= 0 ? `--param "${item}" must be name=value` : `--param ${name} is given twice`);
    }
    params[name] = item.slice(equals + 1);
  }
  return params;
}

async function ensureReadable(path: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
}

/** Commander's collector for a repeatable option. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Node's I/O errors (`ENOENT`, `EISDIR`, `EACCES`, ...), recognized by code. */
function isSystemError(error: unknown): error is Error & { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    /^E[A-Z]+$/.test(String(error.code)) &&
    'message' in error
  );
}
