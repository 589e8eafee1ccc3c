import type http from 'node:http';
import { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../src/activities';
import type { TrainingActivities } from '../../src/activities/training-activity-types';
import { aggregate } from '../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../src/onnx/model-source';
import type { StrategyState } from '../../src/aggregation/strategies/strategy';
import { createLogger } from '../../src/logger';
import type { TrainingStatus } from '../../src/workflows/training/definitions';
import { createTestApi, type TestApi } from '../fixtures/api-app';
import { fixture } from '../fixtures/onnx-edge-cases';
import { ClientReceiver, type PushedNotification } from './fl-clients';
import { requestsMultipart } from './requests-multipart';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue, workflowBundle } from './temporal';

/** The API a simulated client talks to: an app's callback (in process), or a server's base URL (another process). */
export type Handler = ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | string;

/** A simulated client to register: its name, the update it uploads every round and its sample size. */
export interface ClientSpec {
  name: string;
  model: Buffer;
  samples: number;
  /** SWAG moments (safetensors) the client uploads in a SWAG round. */
  moments?: { first: Buffer; second: Buffer };
}

/** The three MLP fixture clients with their sample sizes. */
export function mlpClients(): ClientSpec[] {
  return [
    { name: 'a', model: fixture('mlp-client-a.onnx'), samples: 3000 },
    { name: 'b', model: fixture('mlp-client-b.onnx'), samples: 2000 },
    { name: 'c', model: fixture('mlp-client-c.onnx'), samples: 1000 },
  ];
}

/** A registered simulated client. */
export interface SimulatedClient extends ClientSpec {
  id: string;
  username: string;
  token: string;
  receiver: ClientReceiver;
  /** FedDC: the assigned models (a `model_uuid` other than the global model) it downloaded, with the answer's status. */
  downloads: Array<{ round: number; modelId: string; status: number }>;
}

/** How the simulated clients behave. */
export interface ClientBehaviour {
  /** Awaited before reacting to any notification (a test holds the clients back with it). */
  gate?: Promise<void>;
  /** Counts the 503 answers the clients got (and retried). */
  unavailable?: { count: number };
  /** Names of clients that acknowledge notifications and never upload (stragglers). */
  silent?: readonly string[];
  /** Names of clients whose endpoint answers 500 to every notification. */
  failing?: readonly string[];
  /** Names of clients registered without a message endpoint: they are never pushed to. */
  pullOnly?: readonly string[];
  /** Awaited before uploading SWAG moments (a test looks at the SWAG round meanwhile). */
  swagGate?: Promise<void>;
  /** The accuracy each client reports in a test round, by name (default 0.5). */
  accuracy?: Readonly<Record<string, number>>;
  /**
   * Upload as the reference's client library does (`dlr.fl.client`): Basic authentication, and every upload a
   * multipart body as Python requests encodes it, an update with `owner`, `round`, `sample_size`, repeated
   * `metric_names`/`metric_values` and a `model_file` part without Content-Type.
   */
  referenceClient?: boolean;
}

/**
 * Sends a request until it is not a 503: a client of a training whose workflow cannot take an upload right now
 * retries the same request, as the API's Retry-After asks.
 */
export async function untilNot503(
  send: () => Promise<request.Response>,
  behaviour: ClientBehaviour,
): Promise<request.Response> {
  for (let attempt = 0; attempt < 240; attempt += 1) {
    const res = await send();
    if (res.status !== 503) {
      return res;
    }
    if (behaviour.unavailable) {
      behaviour.unavailable.count += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('still 503 after two minutes');
}

/**
 * Reacts to a notification as the reference's MNIST client does: upload an update, or test metrics. A pulled task
 * carries the same fields as a push, so a pulling client reacts to it the same way.
 */
export async function react(
  server: Handler,
  me: SimulatedClient,
  n: PushedNotification,
  behaviour: ClientBehaviour,
): Promise<void> {
  await behaviour.gate;
  if (behaviour.silent?.includes(me.name)) {
    return;
  }
  const modelId = String(n.body.global_model_uuid);
  let res: request.Response | undefined;
  const startFrom = n.body.model_uuid;
  if (n.notification_type === 'UPDATE_ROUND_START' && typeof startFrom === 'string' && startFrom !== modelId) {
    // FedDC: train from the assigned update (this client's own or another's), then upload to the global model.
    const assigned = await request(server).get(`/api/models/${startFrom}/`).set('Authorization', `Token ${me.token}`);
    me.downloads.push({ round: Number(n.body.round), modelId: startFrom, status: assigned.status });
  }
  if (behaviour.referenceClient === true) {
    res = await reactAsReferenceClient(server, me, n, behaviour);
  } else if (n.notification_type === 'UPDATE_ROUND_START') {
    res = await untilNot503(
      () =>
        request(server)
          .post(`/api/models/${modelId}/`)
          .set('Authorization', `Token ${me.token}`)
          .field('round', String(n.body.round))
          .field('sample_size', String(me.samples))
          .attach('model_file', me.model, 'update.onnx'),
      behaviour,
    );
  } else if (n.notification_type === 'MODEL_TEST_ROUND') {
    res = await untilNot503(
      () =>
        request(server)
          .post(`/api/models/${modelId}/metrics/`)
          .set('Authorization', `Token ${me.token}`)
          .send({ metric_names: ['accuracy'], metric_values: [behaviour.accuracy?.[me.name] ?? 0.5] }),
      behaviour,
    );
  }
  if (n.notification_type === 'SWAG_ROUND_START' && me.moments) {
    await behaviour.swagGate;
    const moments = me.moments;
    res = await untilNot503(
      () =>
        request(server)
          .post(`/api/models/${modelId}/swag/`)
          .set('Authorization', `Token ${me.token}`)
          .field('round', String(n.body.round))
          .field('sample_size', String(me.samples))
          .attach('first_moment_file', moments.first, 'first.safetensors')
          .attach('second_moment_file', moments.second, 'second.safetensors'),
      behaviour,
    );
  }
  if (res && res.status !== 201) {
    throw new Error(`${n.notification_type} upload refused: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** The metrics the reference client sends with each update and test: two names, two values. */
export const REFERENCE_CLIENT_METRICS: ReadonlyArray<[string, string]> = [
  ['accuracy', '0.875'],
  ['loss', '0.25'],
];

/** `upload_model` and `upload_metrics` of the reference's client library, byte for byte as requests sends them. */
async function reactAsReferenceClient(
  server: Handler,
  me: SimulatedClient,
  n: PushedNotification,
  behaviour: ClientBehaviour,
): Promise<request.Response | undefined> {
  const modelId = String(n.body.global_model_uuid);
  const basic = `Basic ${Buffer.from(`${me.username}:${CLIENT_PASSWORD}`).toString('base64')}`;
  const metrics = [
    ...REFERENCE_CLIENT_METRICS.map(([name]): [string, string] => ['metric_names', name]),
    ...REFERENCE_CLIENT_METRICS.map(([, value]): [string, string] => ['metric_values', value]),
  ];
  const post = (path: string, fields: ReadonlyArray<[string, string]>, files: ReadonlyArray<[string, Buffer]>) => {
    const body = requestsMultipart(fields, files);
    return untilNot503(
      () =>
        request(server).post(path).set('Authorization', basic).set('Content-Type', body.contentType).send(body.body),
      behaviour,
    );
  };
  if (n.notification_type === 'UPDATE_ROUND_START') {
    const fields: [string, string][] = [
      ['owner', me.id],
      ['round', String(n.body.round)],
      ['sample_size', String(me.samples)],
      ...metrics,
    ];
    return await post(`/api/models/${modelId}/`, fields, [['model_file', me.model]]);
  }
  if (n.notification_type === 'MODEL_TEST_ROUND') {
    return await post(`/api/models/${modelId}/metrics/`, metrics, []);
  }
  return undefined;
}

/**
 * Registers the clients through the API, each with a real notification receiver on loopback (default: the three MLP
 * fixture clients).
 */
export async function registerClients(
  server: Handler,
  label: string,
  behaviour: ClientBehaviour = {},
  specs: readonly ClientSpec[] = mlpClients(),
): Promise<SimulatedClient[]> {
  const clients: SimulatedClient[] = [];
  for (const spec of specs) {
    // Filled once registered; the receiver exists first because registration names its endpoint.
    const self: { me?: SimulatedClient } = {};
    const receiver = new ClientReceiver(
      (n) => (self.me ? react(server, self.me, n, behaviour) : Promise.resolve()),
      behaviour.failing?.includes(spec.name) ? 500 : 200,
    );
    const endpoint = behaviour.pullOnly?.includes(spec.name) ? undefined : await receiver.listen();
    const username = `client-${spec.name}-${label}`;
    const { id, token } = await registerUser(server, username, {
      client: true,
      message_endpoint: endpoint,
    });
    self.me = { ...spec, id, username, token, receiver, downloads: [] };
    clients.push(self.me);
  }
  return clients;
}

/** The password of every user `registerUser` registers. */
const CLIENT_PASSWORD = 'pw-123456';

/** Registers a user through the API; returns its id and token. */
export async function registerUser(
  server: Handler,
  username: string,
  fields: Record<string, unknown>,
): Promise<{ id: string; token: string }> {
  const registration = await request(server)
    .post('/api/users/')
    .send({ username, password: CLIENT_PASSWORD, ...fields });
  if (registration.status !== 201) {
    throw new Error(`registration failed: ${registration.status} ${JSON.stringify(registration.body)}`);
  }
  return registration.body as { id: string; token: string };
}

/** What a test may change about the training `createTraining` creates. */
export interface TrainingSpec {
  /** The global model (default: the MLP fixture of round 0). */
  global?: Buffer;
  /** Training options, over `round_timeout` and `test_timeout` of two minutes. */
  options?: Record<string, unknown>;
  /** The actor's message endpoint (CLIENT_REMOVED and TRAINING_FINISHED go there). */
  actorEndpoint?: string;
  /** The aggregation method (default FedAvg). */
  method?: string;
  /** The uncertainty method (default NONE). */
  uncertainty?: string;
  /** A registered user who owns the model and acts (default: a new actor); it may be one of the clients. */
  actor?: { id: string; token: string };
  /** A group of the actor whose members may join the training. */
  group?: number;
}

/** An actor uploads a global model and creates a FedAvg training of it with the clients. */
export async function createTraining(
  server: Handler,
  label: string,
  clients: ReadonlyArray<Pick<SimulatedClient, 'id'>>,
  targetNumUpdates: number,
  spec: TrainingSpec = {},
): Promise<{ actorAuth: string; actorId: string; modelId: string; trainingId: string }> {
  const actor =
    spec.actor ?? (await registerUser(server, `actor-${label}`, { actor: true, message_endpoint: spec.actorEndpoint }));
  const actorAuth = `Token ${actor.token}`;
  const upload = await request(server)
    .post('/api/models/')
    .set('Authorization', actorAuth)
    .field('name', 'mlp')
    .field('description', 'an MNIST MLP')
    .field('input_shape', 'None')
    .field('input_shape', '1')
    .field('input_shape', '28')
    .field('input_shape', '28')
    .attach('model_file', spec.global ?? fixture('mlp-global-r0.onnx'), 'model.onnx');
  const modelId = (upload.body as { model_id: string }).model_id;
  const created = await request(server)
    .post('/api/trainings/')
    .set('Authorization', actorAuth)
    .send({
      model_id: modelId,
      target_num_updates: targetNumUpdates,
      metric_names: ['accuracy'],
      aggregation_method: spec.method ?? 'FedAvg',
      uncertainty_method: spec.uncertainty ?? 'NONE',
      options: { round_timeout: 120, test_timeout: 120, ...spec.options },
      clients: clients.map((c) => c.id),
      ...(spec.group === undefined ? {} : { group: spec.group }),
    });
  if (created.status !== 201) {
    throw new Error(`training creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return {
    actorAuth,
    actorId: actor.id,
    modelId,
    trainingId: (created.body as { training_id: string }).training_id,
  };
}

/** GET `path` with its body as raw bytes (`res.body` is a Buffer), whatever the status. */
export async function getBytes(server: Handler, auth: string, path: string): Promise<request.Response> {
  return request(server)
    .get(path)
    .set('Authorization', auth)
    .buffer(true)
    .parse((response, callback) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => callback(null, Buffer.concat(chunks)));
    });
}

/** Downloads version `round` of a model through the API. */
export async function downloadVersion(server: Handler, auth: string, modelId: string, round: number): Promise<Buffer> {
  const res = await getBytes(server, auth, `/api/models/${modelId}/?round=${round}`);
  if (res.status !== 200) {
    throw new Error(`download of round ${round} failed: ${res.status}`);
  }
  return res.body as Buffer;
}

/**
 * The engine's global models of rounds 1..rounds when every one of `clients` uploads its model each round, run
 * offline as one uninterrupted sequence (a stateful method's state handed from round to round in memory).
 */
export async function expectedVersions(
  clients: ReadonlyArray<Pick<SimulatedClient, 'id' | 'samples' | 'model'>>,
  rounds: number,
  global = fixture('mlp-global-r0.onnx'),
  method = 'FedAvg',
): Promise<Buffer[]> {
  const versions: Buffer[] = [];
  let previous = global;
  let state: StrategyState | undefined;
  for (let round = 1; round <= rounds; round += 1) {
    const result = await aggregate({
      method,
      global: bytesSource(previous),
      updates: clients.map((c) => ({ clientId: c.id, sampleSize: c.samples, source: bytesSource(c.model) })),
      ...(state ? { state } : {}),
    });
    previous = Buffer.from(await collectBytes(result.model));
    state = result.state;
    versions.push(previous);
  }
  return versions;
}

/** The API of a test, with trainings run as workflows on `taskQueue` of the run's Temporal. */
export async function createTrainingApi(
  taskQueue: string,
  updateWaitMs = 10_000,
  blobStore: 'folder' | 's3' = 'folder',
): Promise<TestApi> {
  return createTestApi({ taskQueue, updateWaitMs, blobStore });
}

/**
 * A worker with the real activities on the API's database and blobs; notifications retry twice, 100 ms apart. `wrap`
 * may hold an activity back (a test's gate around the real one) to open a window the test acts in.
 */
export async function createTrainingWorker(
  temporal: TestTemporal,
  api: TestApi,
  taskQueue: string,
  wrap: (activities: TrainingActivities) => TrainingActivities = (activities) => activities,
  aggregationTaskQueue?: string,
): Promise<Worker> {
  return Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: wrap(testActivities(api, aggregationTaskQueue)),
  });
}

/** The real activities on the API's database and blobs; notifications retry twice, 100 ms apart. */
export function testActivities(api: TestApi, aggregationTaskQueue?: string): TrainingActivities {
  return createActivities({
    knex: api.knex,
    blobs: api.blobs,
    logger: createLogger('error'),
    delivery: { timeoutMs: 5_000, attempts: 2, backoffMs: 100, concurrency: 8, allowPrivateAddresses: true },
    ...(aggregationTaskQueue === undefined ? {} : { aggregationTaskQueue }),
  });
}

/** Polls `GET /api/trainings/{id}/` until `predicate` holds for its body; returns that body. */
export async function waitForTraining(
  server: Handler,
  auth: string,
  trainingId: string,
  predicate: (training: TrainingView) => boolean,
  timeoutMs = 30_000,
): Promise<TrainingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(server).get(`/api/trainings/${trainingId}/`).set('Authorization', auth);
    const body = res.body as TrainingView;
    if (res.status === 200 && predicate(body)) {
      return body;
    }
    if (Date.now() > deadline) {
      throw new Error(`training never matched; last: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The part of `GET /api/trainings/{id}/` the training tests read. */
export interface TrainingView {
  state: string;
  error: string | null;
  participants: string[];
  run: TrainingStatusView | null;
}

/** The workflow's own view, as `run` shows it (the status query's fields, `leftOut` spelled the API's way). */
export type TrainingStatusView = Omit<TrainingStatus, 'trainingId' | 'phase' | 'leftOut'> & {
  phase: string;
  left_out: Record<string, string[]>;
};

/** The actor starts the training; anything but the reference's 202 fails the test. */
export async function startTraining(server: Handler, auth: string, trainingId: string): Promise<void> {
  const res = await request(server).post(`/api/trainings/${trainingId}/start/`).set('Authorization', auth);
  if (res.status !== 202) {
    throw new Error(`start answered ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** A training `trainToEnd` ran: its API, clients and ids; `close` stops the receivers and the API. */
export interface FinishedTraining {
  api: TestApi;
  server: Handler;
  clients: SimulatedClient[];
  taskQueue: string;
  actorAuth: string;
  actorId: string;
  modelId: string;
  trainingId: string;
  close: () => Promise<void>;
}

/** What `trainToEnd` may change besides the training itself. */
export interface TrainToEndOptions {
  /** The clients to register (default: the three MLP fixture clients). */
  specs?: readonly ClientSpec[];
  behaviour?: ClientBehaviour;
  /** The name of a client that also owns the model and acts, as the reference's MNIST example's first client does. */
  actingClient?: string;
  /** Where the API and the worker keep blobs (a temporary folder by default). */
  blobStore?: 'folder' | 's3';
  /** Runs once the training has started, while the worker runs it (the test looks at the run meanwhile). */
  during?: (training: {
    server: Handler;
    clients: SimulatedClient[];
    actorAuth: string;
    modelId: string;
    trainingId: string;
  }) => Promise<void>;
}

/**
 * Registers the clients through the API, creates a training of `rounds` with `spec`, and runs it to its end (across
 * every continue-as-new) on a worker of its own; `close` stops the receivers and the API.
 */
export async function trainToEnd(
  temporal: TestTemporal,
  label: string,
  rounds: number,
  spec: TrainingSpec,
  options: TrainToEndOptions = {},
): Promise<FinishedTraining> {
  const taskQueue = uniqueTaskQueue(label);
  const api = await createTrainingApi(taskQueue, undefined, options.blobStore);
  const server = api.app.callback();
  const clients = await registerClients(server, taskQueue, options.behaviour, options.specs);
  const acting = clients.find((client) => client.name === options.actingClient);
  const created = await createTraining(server, taskQueue, clients, rounds, {
    ...spec,
    ...(acting && { actor: acting }),
  });
  const worker = await createTrainingWorker(temporal, api, taskQueue);
  await worker.runUntil(async () => {
    await startTraining(server, created.actorAuth, created.trainingId);
    await options.during?.({ server, clients, ...created });
    await temporal.client.workflow.getHandle(`training-${created.trainingId}`).result();
  });
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((client) => client.receiver.close()));
    await api.close();
  };
  return { api, server, clients, taskQueue, ...created, close };
}

/**
 * The run's Temporal, an API and a running worker on a task queue of their own, for a describe block: the tests
 * register clients with `clients.push`, and `close` stops their receivers, the worker and the API.
 */
export interface TrainingStack {
  temporal: TestTemporal;
  api: TestApi;
  server: Handler;
  clients: SimulatedClient[];
  close(): Promise<void>;
}

/** Starts a `TrainingStack`; call it in beforeAll and `close` in afterAll. */
export async function startTrainingStack(label: string): Promise<TrainingStack> {
  const temporal = await connectTestTemporal();
  const taskQueue = uniqueTaskQueue(label);
  const api = await createTrainingApi(taskQueue);
  const worker = await createTrainingWorker(temporal, api, taskQueue);
  const running = worker.run();
  const clients: SimulatedClient[] = [];
  return {
    temporal,
    api,
    server: api.app.callback(),
    clients,
    close: async () => {
      await Promise.all(clients.map((client) => client.receiver.close()));
      worker.shutdown();
      await running;
      await api.close();
      await temporal.close();
    },
  };
}
