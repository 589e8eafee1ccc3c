import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Dataset, NewDataset } from '../../client/client';
import type { ExitWith } from '../command-runner';
import { type ClientContext, clientAction, clientCommand, commandGroup } from './context';
import { UsageError } from './exit-codes';
import { fields, table } from './output';
import { withProgress } from './progress';

interface UploadOptions {
  readonly x?: string;
  readonly y?: string;
  readonly name?: string;
  readonly description?: string;
  readonly share?: boolean;
}

/** `roundhouse datasets upload|list`. */
export function datasetsCommand(context: ClientContext, exitWith: ExitWith): Command {
  const group = commandGroup('datasets', 'datasets the server evaluates trainings on');

  const upload = clientCommand(
    'upload',
    'upload a dataset: one safetensors file with x and y, or --x and --y .npy files',
  )
    .argument('[file]', 'a .safetensors file holding tensors x and y')
    .option('--x <file>', 'the inputs, a .npy file')
    .option('--y <file>', 'the labels, a .npy file')
    .option('--name <name>', "the dataset's name (default: the file's name)")
    .option('--description <text>', 'what it holds')
    .option('--share', "let the trainings' participants read its points");
  clientAction<UploadOptions>(upload, context, exitWith, async (session) => {
    const file = session.args[0] as string | undefined;
    const { options } = session;
    let files: NewDataset['files'];
    if (file !== undefined) {
      if (options.x !== undefined || options.y !== undefined) {
        throw new UsageError('give a safetensors file, or --x and --y, not both');
      }
      files = { safetensors: { path: file } };
    } else if (options.x !== undefined && options.y !== undefined) {
      files = { x: { path: options.x }, y: { path: options.y } };
    } else {
      throw new UsageError('give a safetensors file, or both --x and --y');
    }
    const paths = file === undefined ? [options.x ?? '', options.y ?? ''] : [file];
    await Promise.all(paths.map((p) => stat(p)));
    const client = await session.authenticated();
    const name = options.name ?? path.basename(paths[0] ?? 'dataset', path.extname(paths[0] ?? ''));
    const dataset = await withProgress(session.printer, `uploading ${name}`, 'uploaded', (onProgress) =>
      client.datasets.upload({
        name,
        files,
        ...(options.description === undefined ? {} : { description: options.description }),
        shareWithParticipants: options.share === true,
        onProgress,
      }),
    );
    session.printer.result(dataset, (value) => datasetLines(value));
  });

  const list = clientCommand('list', 'your datasets (and those shared with your trainings)');
  clientAction(list, context, exitWith, async (session) => {
    const datasets = await (await session.authenticated()).datasets.list();
    session.printer.result(datasets, (value) =>
      table([
        ['ID', 'NAME', 'ROWS', 'X', 'Y', 'SHARED'],
        ...value.map((d) => [
          String(d.id),
          d.name,
          String(d.rows),
          `${d.x_dtype}[${d.x_shape.join(',')}]`,
          `${d.y_dtype}[${d.y_shape.join(',')}]`,
          d.share_with_participants ? 'yes' : 'no',
        ]),
      ]),
    );
  });
  return group.addCommand(upload).addCommand(list);
}

function datasetLines(dataset: Dataset): string[] {
  return fields([
    ['id', dataset.id],
    ['name', dataset.name],
    ['rows', dataset.rows],
    ['x', `${dataset.x_dtype} [${dataset.x_shape.join(', ')}]`],
    ['y', `${dataset.y_dtype} [${dataset.y_shape.join(', ')}]`],
    ['shared', dataset.share_with_participants ? 'yes' : 'no'],
  ]);
}
