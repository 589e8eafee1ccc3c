import type { NewMetric } from '../../db/queries/metrics';
import { invalidInput } from '../../errors';

/** A metric value as a client sends it: a number (or a numeric string), any other string, or base64 bytes. */
export type MetricValueInput = number | string | { base64: string; content_type: string };

/**
 * Pairs `metric_names` with `metric_values`: numbers (and numeric strings) are floats, other strings are stored as
 * UTF-8 text, `{base64, content_type}` as bytes.
 * @param required whether at least one metric must be present (test metrics), or metrics are optional (those that come with an update).
 * @throws 400 with the reference's texts when one list is missing or their lengths differ.
 */
export function pairMetrics(
  names: readonly string[] | undefined,
  values: readonly MetricValueInput[] | undefined,
  required: boolean,
): NewMetric[] {
  if (names === undefined && values === undefined && !required) {
    return [];
  }
  if (names === undefined || values === undefined) {
    throw invalidInput('Metric names or values are missing');
  }
  if (names.length !== values.length) {
    throw invalidInput('Metric names and values must have the same length');
  }
  return names.map((key, i) => ({ key, value: toValue(values[i] ?? '') }));
}

function toValue(value: MetricValueInput): NewMetric['value'] {
  if (typeof value === 'number') {
    return { kind: 'float', value };
  }
  if (typeof value === 'string') {
    const number = Number(value);
    return value.trim() !== '' && Number.isFinite(number)
      ? { kind: 'float', value: number }
      : { kind: 'binary', value: Buffer.from(value, 'utf8'), contentType: 'text/plain; charset=utf-8' };
  }
  return { kind: 'binary', value: Buffer.from(value.base64, 'base64'), contentType: value.content_type };
}
