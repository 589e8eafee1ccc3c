import { AggregationError } from '../aggregation/errors';
import type { RandomAccess } from '../storage/random-access';
import { tensorInfo } from './manifest';
import type { TensorInfo } from './manifest';
import {
  describeGraphField,
  describeGraphStart,
  describeInitializer,
  describeModelField,
  digestStructure,
} from './structure';
import type { InitializerLayout, ModelSummary } from './summary';
import { walkModel, walkModelAt } from './reader';
import type { ModelEvent } from './walk';
import { GraphField } from './schema';
import { StructureMatcher } from './structure-matcher';
import { decodeTensorRecord } from './tensor-record';
import type { TensorRecord } from './tensor-record';
import { valueDigest } from './value-digest';

/** Options of `scanModel`. */
export interface ScanOptions {
  /** The global model's summary: the scan then throws at the first structural or manifest difference. */
  readonly expected?: ModelSummary;
  /** Sees each decoded initializer (checks, folding); the record's payload is only valid during the call. */
  readonly onTensor?: (record: TensorRecord, info: TensorInfo) => void | Promise<void>;
}

/** Reads a model once, one field at a time, and summarizes it. Throws `AggregationError` on the first problem. */
export async function scanOnnxModel(
  chunks: AsyncIterable<Uint8Array>,
  options: ScanOptions = {},
): Promise<ModelSummary> {
  // The scan is done with each event before it asks for the next, so the walker may reuse its buffers.
  return await scanEvents(walkModel(chunks, true), options);
}

/**
 * The same scan over a model read by position: float initializers' raw_data is skipped, not read, so `onTensor`
 * gets records whose values are elsewhere (`TensorRecord.elided`); the summary is the same as a full scan's.
 */
export async function scanOnnxModelAt(access: RandomAccess, options: ScanOptions = {}): Promise<ModelSummary> {
  return await scanEvents(walkModelAt(access), options);
}

async function scanEvents(events: AsyncIterable<ModelEvent>, options: ScanOptions): Promise<ModelSummary> {
  const scanner = new ModelScanner(options.expected);
  for await (const event of events) {
    const tensor = scanner.accept(event);
    if (tensor !== undefined) {
      await options.onTensor?.(tensor.record, tensor.info);
    }
  }
  return scanner.finish();
}

/** An initializer as the scanner saw it. */
export interface ScannedTensor {
  readonly record: TensorRecord;
  readonly info: TensorInfo;
  readonly index: number;
}

/**
 * Turns walker events into a summary, one event at a time; given the global model's summary it throws at the
 * first structural, manifest or non-float value difference. Shared by scans, checks, folds and the writer.
 */
export class ModelScanner {
  private readonly matcher: StructureMatcher;
  private readonly manifest: TensorInfo[] = [];
  private readonly layout: InitializerLayout[] = [];
  private byteLength = 0;
  private nodes = 0;

  constructor(private readonly expected?: ModelSummary) {
    this.matcher = new StructureMatcher(expected?.structure);
  }

  /** Records one event; returns the decoded tensor for an initializer. */
  accept(event: ModelEvent): ScannedTensor | undefined {
    if (event.kind === 'graph_end') {
      return undefined;
    }
    if (event.kind === 'graph_begin') {
      this.byteLength += event.tag.length + event.lengthBytes.length;
      this.matcher.push(describeGraphStart());
      return undefined;
    }
    const { record } = event;
    this.byteLength += record.header.length + record.payload.length + (record.elided?.length ?? 0);
    if (event.kind === 'model_field') {
      this.pushIfDefined(describeModelField(record));
      return undefined;
    }
    if (event.kind === 'graph_field') {
      this.pushIfDefined(describeGraphField(record, record.field === GraphField.NODE ? this.nodes++ : this.nodes));
      return undefined;
    }
    const tensor = decodeTensorRecord(record.payload, event.index, record.elided);
    const info = tensorInfo(tensor);
    this.matcher.push(describeInitializer(info));
    const layout = layoutOf(tensor, info);
    compareValues(layout, this.expected?.layout[event.index], info);
    this.manifest.push(info);
    this.layout.push(layout);
    return { record: tensor, info, index: event.index };
  }

  /** The summary, once every event was accepted; throws when an expected entry never came. */
  finish(): ModelSummary {
    this.matcher.finish();
    const structure = this.matcher.entries;
    return {
      manifest: this.manifest,
      graphDigest: digestStructure(structure),
      structure,
      layout: this.layout,
      byteLength: this.byteLength,
    };
  }

  private pushIfDefined(entry: ReturnType<typeof describeModelField>): void {
    if (entry !== undefined) {
      this.matcher.push(entry);
    }
  }
}

function layoutOf(tensor: TensorRecord, info: TensorInfo): InitializerLayout {
  const valueFieldsLength = tensor.valueFields.reduce((sum, span) => sum + span.end - span.start, 0);
  const payloadLength = tensor.payload.length + (tensor.elided?.length ?? 0);
  const base = { payloadLength, valueFieldsLength, hasRawData: tensor.rawData !== undefined };
  if (info.isFloat) {
    return base;
  }
  return { ...base, valueDigest: valueDigest(tensor) };
}

function compareValues(actual: InitializerLayout, expected: InitializerLayout | undefined, info: TensorInfo): void {
  if (expected === undefined || actual.valueDigest === expected.valueDigest) {
    return;
  }
  throw new AggregationError(
    'model_initializer_mismatch',
    `initializer "${info.name}" (${info.dtype}) differs from the global model's; initializers that are not floats are copied, so every update must keep them unchanged`,
    { tensor: info.name },
  );
}
