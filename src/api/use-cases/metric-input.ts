import type { NewMetric } from '../../db/queries/metrics';
import { invalidInput, payloadTooLarge } from '../../errors';
import type { UploadedFiles } from '../routing/uploaded-files';
import { binaryMetricType, TEXT_METRIC_TYPE } from './metric-media';

/**
 * A metric value as a client sends it: a number (or a numeric string), any other string, or base64 bytes with the
 * content type the client claims (which only decides a refusal: the type is sniffed from the bytes).
 */
export type MetricValueInput = number | string | { base64: string; content_type?: string };

/** How `pairMetrics` treats a request's metrics. */
export interface MetricRules {
  /** Whether at least one metric must be present (test metrics), or metrics are optional (with an update). */
  readonly required: boolean;
  /** The largest value stored as bytes (text or binary), in bytes; beyond it 413. */
  readonly maxValueBytes: number;
}

/**
 * Pairs `metric_names` with `metric_values`: numbers (and numeric strings) are floats, other strings are stored as
 * UTF-8 text, `{base64, content_type}` as bytes whose type is sniffed from them (docs/api.md#metrics).
 * @throws 400 with the reference's texts when one list is missing or their lengths differ, and for SVG or HTML.
 * @throws 413 for a value beyond `rules.maxValueBytes`.
 */
export function pairMetrics(
  names: readonly string[] | undefined,
  values: readonly MetricValueInput[] | undefined,
  rules: MetricRules,
): NewMetric[] {
  if (names === undefined && values === undefined && !rules.required) {
    return [];
  }
  if (names === undefined || values === undefined) {
    throw invalidInput('Metric names or values are missing');
  }
  if (names.length !== values.length) {
    throw invalidInput('Metric names and values must have the same length');
  }
  return names.map((key, i) => ({ key, value: toValue(key, values[i] ?? '', rules.maxValueBytes) }));
}

/**
 * Metric values come as text fields or JSON, never as multipart file parts: those are refused rather than dropped,
 * since their order among the text values (which pairs them with their names) would be lost.
 * @throws 400 when `files` has a `metric_values` part.
 */
export function refuseMetricFiles(files: UploadedFiles): void {
  if (files.has('metric_values')) {
    const message =
      'metric_values cannot be a file part: send a binary value in a JSON body as {"base64": "..."}, or text as a form field.';
    throw invalidInput(message, { metric_values: [message] });
  }
}

function toValue(key: string, value: MetricValueInput, maxBytes: number): NewMetric['value'] {
  if (typeof value === 'number') {
    return { kind: 'float', value };
  }
  if (typeof value === 'string') {
    const number = Number(value);
    if (value.trim() !== '' && Number.isFinite(number)) {
      return { kind: 'float', value: number };
    }
    return {
      kind: 'binary',
      value: withinLimit(key, Buffer.from(value, 'utf8'), maxBytes),
      contentType: TEXT_METRIC_TYPE,
    };
  }
  const bytes = withinLimit(key, Buffer.from(value.base64, 'base64'), maxBytes);
  return { kind: 'binary', value: bytes, contentType: binaryMetricType(key, bytes, value.content_type) };
}

function withinLimit(key: string, bytes: Buffer, maxBytes: number): Buffer {
  if (bytes.length > maxBytes) {
    throw payloadTooLarge(maxBytes, `Metric value '${key}'`);
  }
  return bytes;
}
