import type { Command } from 'commander';
import type { NewTraining, TrainingStatus } from '../../client/client';
import type { ExitWith } from '../command-runner';
import { type ClientContext, clientAction, clientCommand, collect, commandGroup, positiveInteger } from './context';
import { UsageError } from './exit-codes';
import { fields, table } from './output';
import { STATE_NAMES, watchTraining } from './watch';

interface CreateOptions {
  readonly model?: string;
  readonly clients?: string;
  readonly rounds?: number;
  readonly method: string;
  readonly metrics?: string;
  readonly uncertainty?: string;
  readonly option?: string[];
  readonly evaluationDataset?: number;
  readonly group?: number;
}

/** `roundhouse trainings create|start|status|watch|delete|list`. */
export function trainingsCommand(context: ClientContext, exitWith: ExitWith): Command {
  const group = commandGroup('trainings', 'create, start, follow and delete trainings');

  const create = clientCommand('create', 'create a training of one of your models; prints its id')
    .option('--model <id>', 'the global model to train')
    .option('--clients <ids>', "the participants' user ids, comma-separated")
    .option('--rounds <n>', 'how many rounds (target_num_updates)', positiveInteger)
    .option('--method <method>', 'the aggregation method', 'FedAvg')
    .option('--metrics <names>', 'the metrics clients report in test rounds, comma-separated')
    .option('--uncertainty <method>', 'NONE, ENSEMBLE, MC_DROPOUT or SWAG (default NONE)')
    .option('--option <key=value>', 'a training option, repeatable; the value is read as JSON when it is JSON', collect)
    .option('--evaluation-dataset <id>', 'a dataset of yours the server evaluates every version on', positiveInteger)
    .option('--group <id>', 'a group of yours whose members may join', positiveInteger);
  clientAction<CreateOptions>(create, context, exitWith, async (session) => {
    const body = trainingBody(session.options);
    const id = await (await session.authenticated()).trainings.create(body);
    session.printer.result({ training_id: id }, (value) => value.training_id);
  });

  const start = clientCommand('start', 'start a training').argument('<id>', "the training's id");
  clientAction(start, context, exitWith, async (session) => {
    const id = String(session.args[0]);
    const answer = await (await session.authenticated()).trainings.start(id);
    session.printer.result(answer ?? { started: id }, () => `Started training ${id}`);
  });

  const status = clientCommand('status', "a training's state, round and who has uploaded").argument(
    '<id>',
    "the training's id",
  );
  clientAction(status, context, exitWith, async (session) => {
    const training = await (await session.authenticated()).trainings.get(String(session.args[0]));
    session.printer.result(training, (value) => statusLines(value));
  });

  const watch = clientCommand('watch', "follow a training's rounds live until it ends")
    .argument('<id>', "the training's id")
    .option('--interval <seconds>', 'seconds between looks', positiveInteger, 1)
    .option('--metric <name>', "the server's evaluation figure to chart", 'accuracy')
    .addHelpText(
      'after',
      '\nOn a terminal the view is redrawn in place; otherwise (or with --json) one line per change.\n' +
        'Exits 0 when the training completes, 6 when it ends in error.',
    );
  clientAction<{ interval: number; metric: string }>(watch, context, exitWith, async (session) =>
    watchTraining(await session.authenticated(), String(session.args[0]), session.printer, session.options),
  );

  const remove = clientCommand('delete', 'delete a training (a running one is stopped)').argument(
    '<id>',
    "the training's id",
  );
  clientAction(remove, context, exitWith, async (session) => {
    const id = String(session.args[0]);
    const answer = await (await session.authenticated()).trainings.delete(id);
    session.printer.result(answer ?? { deleted: id }, () => `Deleted training ${id}`);
  });

  const list = clientCommand('list', 'the trainings you can see');
  clientAction(list, context, exitWith, async (session) => {
    const trainings = await (await session.authenticated()).trainings.list();
    session.printer.result(trainings, (value) =>
      table([
        ['ID', 'STATE', 'METHOD', 'ROUNDS', 'MODEL'],
        ...value.map((t) => [
          t.id,
          STATE_NAMES[t.state] ?? t.state,
          t.aggregation_method,
          String(t.target_num_updates),
          t.model,
        ]),
      ]),
    );
  });

  return group
    .addCommand(create)
    .addCommand(start)
    .addCommand(status)
    .addCommand(watch)
    .addCommand(remove)
    .addCommand(list);
}

function trainingBody(options: CreateOptions): NewTraining {
  if (options.model === undefined) {
    throw new UsageError('--model is required');
  }
  if (options.rounds === undefined) {
    throw new UsageError('--rounds is required');
  }
  const trainingOptions: Record<string, unknown> = {};
  for (const item of options.option ?? []) {
    const equals = item.indexOf('=');
    if (equals <= 0) {
      throw new UsageError(`--option "${item}" must be key=value`);
    }
    trainingOptions[item.slice(0, equals)] = jsonOrText(item.slice(equals + 1));
  }
  if (options.evaluationDataset !== undefined) {
    trainingOptions.evaluation_dataset = options.evaluationDataset;
  }
  return {
    model_id: options.model,
    target_num_updates: options.rounds,
    // The server checks the names; the SDK's type names the known ones.
    aggregation_method: options.method as NewTraining['aggregation_method'],
    clients: list(options.clients),
    metric_names: list(options.metrics),
    ...(options.uncertainty === undefined
      ? {}
      : { uncertainty_method: options.uncertainty as NonNullable<NewTraining['uncertainty_method']> }),
    ...(options.group === undefined ? {} : { group: options.group }),
    options: trainingOptions,
  };
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function statusLines(training: TrainingStatus): string[] {
  const run = training.run;
  return fields([
    ['id', training.id],
    ['state', STATE_NAMES[training.state] ?? training.state],
    ['method', training.aggregation_method],
    ['rounds', training.target_num_updates],
    ['model', training.model],
    ['participants', training.participants.length],
    ...(run === null
      ? []
      : ([
          ['round', run.round],
          ['phase', run.phase],
          ['received', `${run.received.length}/${run.participants.length}`],
          ['missing', run.missing.join(', ') || null],
          ['deadline', run.deadline],
        ] as const)),
    ['error', training.error],
  ]);
}
