import { AggregationError } from '../errors';

/** A numeric strategy parameter, named and defaulted as in Flower's strategies. */
export interface ParamSpec {
  readonly name: string;
  readonly description: string;
  readonly default: number;
  /** Inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** Validated parameters of one strategy, every declared one present. */
export type StrategyParams = Readonly<Record<string, number>>;

/**
 * Validates raw parameters (numbers, or numeric strings from the CLI) against a strategy's specs and fills in
 * defaults. A parameter the method does not use is refused, as the training options are.
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
  const params: Record<string, number> = {};
  for (const spec of specs) {
    const value = raw[spec.name];
    params[spec.name] = value === undefined ? spec.default : parseValue(method, spec, value);
  }
  return params;
}

function parseValue(method: string, spec: ParamSpec, value: unknown): number {
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
