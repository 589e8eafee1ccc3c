import { AggregationError } from '../errors';

/** A numeric strategy parameter, named and defaulted as in Flower's strategies. */
export interface NumberParamSpec {
  readonly name: string;
  readonly description: string;
  readonly default: number;
  /** Inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** A strategy parameter that names one of a few choices (Bulyan's `selection_rule`). */
export interface ChoiceParamSpec {
  readonly name: string;
  readonly description: string;
  readonly default: string;
  readonly choices: readonly string[];
}

/** A strategy parameter: a number or one of a few names. */
export type ParamSpec = NumberParamSpec | ChoiceParamSpec;

/** Validated parameters of one strategy, every declared one present. */
export type StrategyParams = Readonly<Record<string, number | string>>;

/**
 * Validates raw parameters (numbers, or numeric strings from the CLI; a choice's name) against a strategy's specs
 * and fills in defaults. A parameter the method does not use is refused, as the training options are.
 */
export function parseParams(
  method: string,
  specs: readonly ParamSpec[],
  raw: Readonly<Record<string, unknown>>,
): StrategyParams {
  for (const name of Object.keys(raw)) {
    if (!specs.some((spec) => spec.name === name)) {
      const known = specs.length === 0 ? 'it takes none' : `it takes ${specs.map((spec) => spec.name).join(', ')}`;
      throw new AggregationError('aggregation_unknown_parameter', `${method} has no parameter "${name}"; ${known}`);
    }
  }
  const params: Record<string, number | string> = {};
  for (const spec of specs) {
    const value = raw[spec.name];
    params[spec.name] =
      value === undefined
        ? spec.default
        : isChoice(spec)
          ? parseChoice(method, spec, value)
          : parseValue(method, spec, value);
  }
  return params;
}

/** A numeric parameter's validated value, or `fallback` when the params do not hold it. */
export function numberParam(params: StrategyParams, name: string, fallback: number): number {
  const value = params[name] ?? fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`strategy parameter ${name} is ${JSON.stringify(value)}, not a number`);
  }
  return value;
}

/** A choice parameter's validated value, or `fallback` when the params do not hold it. */
export function choiceParam(params: StrategyParams, name: string, fallback: string): string {
  const value = params[name] ?? fallback;
  if (typeof value !== 'string') {
    throw new TypeError(`strategy parameter ${name} is ${value}, not a choice`);
  }
  return value;
}

function isChoice(spec: ParamSpec): spec is ChoiceParamSpec {
  return 'choices' in spec;
}

function parseChoice(method: string, spec: ChoiceParamSpec, value: unknown): string {
  if (typeof value === 'string' && spec.choices.includes(value)) {
    return value;
  }
  const message = `${method} parameter ${spec.name} must be one of ${spec.choices.join(', ')} (got ${JSON.stringify(value)})`;
  throw new AggregationError('aggregation_invalid_parameter', message);
}

function parseValue(method: string, spec: NumberParamSpec, value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const problem =
    typeof number !== 'number' || !Number.isFinite(number)
      ? 'must be a finite number'
      : spec.integer === true && !Number.isInteger(number)
        ? 'must be an integer'
        : spec.min !== undefined && number < spec.min
          ? `must be at least ${spec.min}`
          : spec.max !== undefined && number > spec.max
            ? `must be at most ${spec.max}`
            : undefined;
  if (problem !== undefined || typeof number !== 'number') {
    const message = `${method} parameter ${spec.name} ${problem ?? 'is invalid'} (got ${JSON.stringify(value)})`;
    throw new AggregationError('aggregation_invalid_parameter', message);
  }
  return number;
}
