import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { ModelMetadata } from '../../client/client';
import { writeFileAtomically } from '../../onnx/model-source';
import type { ExitWith } from '../command-runner';
import {
  type ClientContext,
  clientAction,
  clientCommand,
  collect,
  commandGroup,
  positiveInteger,
  wholeNumber,
} from './context';
import { UsageError } from './exit-codes';
import { bytes, fields, table } from './output';
import { withProgress } from './progress';

interface UploadOptions {
  readonly name?: string;
  readonly description?: string;
  readonly inputShape?: string;
  readonly swag?: boolean;
  readonly preprocessing?: string;
}

interface UpdateOptions {
  readonly round?: number;
  readonly samples?: number;
  readonly metric?: readonly string[];
}

interface DownloadOptions {
  readonly round?: number;
  readonly output?: string;
}

/** `roundhouse models upload|download|show|list|delete`, and a participant's `update` and `metrics`. */
export function modelsCommand(context: ClientContext, exitWith: ExitWith): Command {
  const group = commandGroup('models', 'upload, download and look at global models');

  const upload = clientCommand('upload', 'upload a global model (ONNX or a PyTorch archive); prints its id')
    .argument('<file>', 'the model file')
    .option('--name <name>', "the model's name (default: the file's name)")
    .option('--description <text>', 'what it is')
    .option('--input-shape <dims>', 'its input shape, None for a free dimension: None,1,28,28')
    .option('--swag', 'a SWAG model')
    .option('--preprocessing <file>', 'an ONNX preprocessing graph run before the model at inference');
  clientAction<UploadOptions>(upload, context, exitWith, async (session) => {
    const file = String(session.args[0]);
    const { options } = session;
    const inputShape = options.inputShape === undefined ? undefined : parseShape(options.inputShape);
    await stat(file);
    const client = await session.authenticated();
    const id = await withProgress(session.printer, `uploading ${path.basename(file)}`, 'uploaded', (onProgress) =>
      client.models.upload({
        file: { path: file },
        name: options.name ?? path.basename(file),
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(inputShape === undefined ? {} : { inputShape }),
        ...(options.swag === true ? { type: 'SWAG' as const } : {}),
        ...(options.preprocessing === undefined ? {} : { preprocessing: { path: options.preprocessing } }),
        onProgress,
      }),
    );
    session.printer.result({ model_id: id }, (value) => value.model_id);
  });

  const download = clientCommand('download', "download a model's latest round, or --round")
    .argument('<id>', "the model's id")
    .option('--round <n>', 'the round to download (default: the latest)', wholeNumber)
    .option('-o, --output <file>', 'where to write it (default: <id>[-r<round>].onnx, or .pt for a PyTorch archive)');
  clientAction<DownloadOptions>(download, context, exitWith, async (session) => {
    const id = String(session.args[0]);
    const { options } = session;
    const client = await session.authenticated();
    const model = await withProgress(session.printer, `downloading ${id}`, 'downloaded', (onProgress) =>
      client.models.download(id, { ...(options.round === undefined ? {} : { round: options.round }), onProgress }),
    );
    // A PyTorch archive is a zip file; anything else the server stores is ONNX.
    const extension = model.subarray(0, 2).toString('latin1') === 'PK' ? 'pt' : 'onnx';
    const out = options.output ?? `${id}${options.round === undefined ? '' : `-r${options.round}`}.${extension}`;
    const sha256 = await writeFileAtomically(model, out);
    session.printer.result(
      { model_id: id, round: options.round ?? null, file: out, size: model.length, sha256 },
      (v) => `${v.file} (${bytes(v.size)}, sha256 ${v.sha256})`,
    );
  });

  const show = clientCommand('show', "a model's metadata: name, format, input shape, rounds").argument(
    '<id>',
    "the model's id",
  );
  clientAction(show, context, exitWith, async (session) => {
    const metadata = await (await session.authenticated()).models.metadata(String(session.args[0]));
    session.printer.result(metadata, (value) => metadataLines(value));
  });

  const list = clientCommand('list', 'the models you can see');
  clientAction(list, context, exitWith, async (session) => {
    const models = await (await session.authenticated()).models.list();
    session.printer.result(models, (value) =>
      table([
        ['ID', 'TYPE', 'ROUND', 'NAME'],
        ...value.map((model) => [model.id, model.type, String(model.round), model.name ?? '']),
      ]),
    );
  });

  const remove = clientCommand('delete', 'delete a model').argument('<id>', "the model's id");
  clientAction(remove, context, exitWith, async (session) => {
    const id = String(session.args[0]);
    const answer = await (await session.authenticated()).models.delete(id);
    session.printer.result(answer ?? { deleted: id }, () => `Deleted model ${id}`);
  });

  const update = clientCommand('update', "upload your update of a training's global model for the current round")
    .argument('<id>', "the global model's id")
    .argument('<file>', "the model you trained (the global model's format)")
    .option('--round <n>', 'the round it was trained in (the task says)', wholeNumber)
    .option('--samples <n>', 'how many examples it was trained on (its FedAvg weight)', positiveInteger)
    .option('--metric <name=value>', 'a metric of your training, repeatable', collect);
  clientAction<UpdateOptions>(update, context, exitWith, async (session) => {
    const [id, file] = session.args.map(String) as [string, string];
    const { options } = session;
    if (options.round === undefined || options.samples === undefined) {
      throw new UsageError('--round and --samples are required');
    }
    const metrics = parseMetrics(options.metric);
    await stat(file);
    const client = await session.authenticated();
    const { round, samples } = options;
    await withProgress(session.printer, `uploading ${path.basename(file)}`, 'uploaded', (onProgress) =>
      client.models.uploadUpdate(id, { file: { path: file }, round, sampleSize: samples, metrics, onProgress }),
    );
    session.printer.result({ model_id: id, round: options.round }, (v) => `Update for round ${v.round} accepted`);
  });

  const metrics = clientCommand('metrics', "report your test metrics of a training's global model (a test round)")
    .argument('<id>', "the global model's id")
    .option('--metric <name=value>', 'a metric, repeatable: --metric accuracy=0.91', collect);
  clientAction<{ metric?: readonly string[] }>(metrics, context, exitWith, async (session) => {
    const id = String(session.args[0]);
    const values = parseMetrics(session.options.metric);
    if (Object.keys(values).length === 0) {
      throw new UsageError('give at least one --metric name=value');
    }
    await (await session.authenticated()).models.uploadMetrics(id, values);
    session.printer.result({ model_id: id, metrics: values }, () => 'Metrics accepted');
  });

  return group
    .addCommand(upload)
    .addCommand(download)
    .addCommand(show)
    .addCommand(list)
    .addCommand(remove)
    .addCommand(update)
    .addCommand(metrics);
}

/** `name=value` pairs as metrics: numbers where the value is one, text otherwise. */
function parseMetrics(items: readonly string[] | undefined): Record<string, number | string> {
  const metrics: Record<string, number | string> = {};
  for (const item of items ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) {
      throw new UsageError(`--metric "${item}" must be name=value`);
    }
    const value = item.slice(at + 1);
    metrics[item.slice(0, at)] = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return metrics;
}

/** `None,1,28,28` (or `[null, 1, 28, 28]`) as dimensions. */
export function parseShape(text: string): Array<number | null> {
  const dims = text
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((dim) => dim.trim());
  return dims.map((dim) => {
    if (/^(none|null|-1|\?)$/i.test(dim)) {
      return null;
    }
    if (!/^\d{1,9}$/.test(dim)) {
      throw new UsageError(`--input-shape "${text}": each dimension is a whole number or None`);
    }
    return Number(dim);
  });
}

function metadataLines(metadata: ModelMetadata): string[] {
  const shape = metadata.input_shape?.map((dim) => (dim === null ? 'None' : String(dim))).join(', ');
  return fields([
    ['id', metadata.id],
    ['name', metadata.name ?? null],
    ['description', metadata.description || null],
    ['type', metadata.type],
    ['format', metadata.format ?? null],
    ['round', metadata.round],
    ['owner', metadata.owner],
    ['input shape', shape === undefined ? null : `[${shape}]`],
    ['preprocessing', metadata.has_preprocessing === true ? 'yes' : 'no'],
    ['stats', metadata.stats],
  ]);
}
