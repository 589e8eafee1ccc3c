import { access, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { aggregate } from '../aggregation/aggregate';
import type { AggregateRequest } from '../aggregation/aggregate';
import { isAggregationError } from '../aggregation/errors';
import { fileSource, writeFileAtomically } from '../onnx/model-source';
import { parseParams } from '../aggregation/strategies/params';
import { decodeStrategyState, encodeStrategyState } from '../aggregation/strategy-state';
import { aggregationMethods, findStrategy } from '../aggregation/strategies/registry';
import type { ClientUpdate } from '../aggregation/strategies/strategy';

/** Where the command writes its messages (tests pass their own). */
export interface CommandOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The parsed command: an aggregation request plus where to write its result. */
type CommandRequest = AggregateRequest & { readonly out: string; readonly stateOut?: string | undefined };

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

const USAGE = `Usage: roundhouse aggregate --method <method> [--param name=value ...] [--state-in <file>] [--state-out <file>] --out <result.onnx> <global.onnx> <update.onnx:samples> ...

Aggregates client updates into a new global model exactly as a training round does, to reproduce or check one.
  --method   the aggregation method: ${aggregationMethods().join(', ')} (any case)
  --param    a parameter of the method, repeatable (${PARAMS})
  --out      the file to write; written whole or not at all
  --state-in   for FedAvgM and the FedOpt family: the state --state-out wrote last round (absent: the first round)
  --state-out  where to write the state the next round needs (float64 safetensors)
Each update is a path and its sample size. Updates are folded in the order of their paths as given (the engine
orders clients by id), so name update files by client id to reproduce a server's aggregate bit for bit.
`;

/** A mistake in the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * `roundhouse aggregate ...`: `argv` holds the arguments after `aggregate`. Returns the exit code: 0 on success,
 * 1 when a model is refused or aggregation fails, 2 for a usage error.
 */
export async function runAggregateCommand(argv: string[], output: CommandOutput = process): Promise<number> {
  let request: CommandRequest;
  try {
    const parsed = await parseCommand(argv);
    if (parsed === 'help') {
      output.stdout.write(USAGE);
      return 0;
    }
    request = parsed;
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      output.stderr.write(`roundhouse aggregate: ${error.message}\n\n${USAGE}`);
      return 2;
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

async function parseCommand(argv: string[]): Promise<'help' | CommandRequest> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      method: { type: 'string' },
      param: { type: 'string', multiple: true },
      out: { type: 'string' },
      'state-in': { type: 'string' },
      'state-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    return 'help';
  }
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
  const stateIn = values['state-in'];
  const stateOut = values['state-out'];
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

/** parseArgs' errors, recognized by code: `instanceof TypeError` fails across realms (jest, sandboxes). */
function isParseArgsError(error: unknown): error is Error {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    String(error.code).startsWith('ERR_PARSE_ARGS') &&
    'message' in error
  );
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
