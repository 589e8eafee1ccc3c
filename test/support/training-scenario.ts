import type http from 'node:http';
import request from 'supertest';
import { aggregate } from '../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../src/aggregation/model-source';
import { fixture } from '../fixtures/onnx-edge-cases';
import { ClientReceiver, type PushedNotification } from './fl-clients';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** The three MLP fixture clients with their sample sizes. */
export const MLP_CLIENTS = [
  { name: 'a', file: 'mlp-client-a.onnx', samples: 3000 },
  { name: 'b', file: 'mlp-client-b.onnx', samples: 2000 },
  { name: 'c', file: 'mlp-client-c.onnx', samples: 1000 },
] as const;

/** A registered simulated client. */
export interface SimulatedClient {
  name: string;
  id: string;
  token: string;
  receiver: ClientReceiver;
  file: string;
  samples: number;
}

/** How the simulated clients behave. */
export interface ClientBehaviour {
  /** Awaited before reacting to any notification (a test holds the clients back with it). */
  gate?: Promise<void>;
  /** Counts the 503 answers the clients got (and retried). */
  unavailable?: { count: number };
}

/**
 * Sends a request until it is not a 503: a client of a training whose workflow cannot take an upload right now
 * retries the same request, as the API's Retry-After asks.
 */
async function untilNot503(
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

/** Reacts to a notification as the reference's MNIST client does: upload an update, or test metrics. */
async function react(
  server: Handler,
  me: SimulatedClient,
  n: PushedNotification,
  behaviour: ClientBehaviour,
): Promise<void> {
  await behaviour.gate;
  const modelId = String(n.body.global_model_uuid);
  let res: request.Response | undefined;
  if (n.notification_type === 'UPDATE_ROUND_START') {
    res = await untilNot503(
      () =>
        request(server)
          .post(`/api/models/${modelId}/`)
          .set('Authorization', `Token ${me.token}`)
          .field('round', String(n.body.round))
          .field('sample_size', String(me.samples))
          .attach('model_file', fixture(me.file), 'update.onnx'),
      behaviour,
    );
  } else if (n.notification_type === 'MODEL_TEST_ROUND') {
    res = await untilNot503(
      () =>
        request(server)
          .post(`/api/models/${modelId}/metrics/`)
          .set('Authorization', `Token ${me.token}`)
          .send({ metric_names: ['accuracy'], metric_values: [0.5] }),
      behaviour,
    );
  }
  if (res && res.status !== 201) {
    throw new Error(`${n.notification_type} upload refused: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** Registers the clients through the API, each with a real notification receiver on loopback. */
export async function registerClients(
  server: Handler,
  label: string,
  behaviour: ClientBehaviour = {},
): Promise<SimulatedClient[]> {
  const clients: SimulatedClient[] = [];
  for (const spec of MLP_CLIENTS) {
    // Filled once registered; the receiver exists first because registration names its endpoint.
    const self: { me?: SimulatedClient } = {};
    const receiver = new ClientReceiver((n) => (self.me ? react(server, self.me, n, behaviour) : Promise.resolve()));
    const endpoint = await receiver.listen();
    const registration = await request(server)
      .post('/api/users/')
      .send({
        username: `client-${spec.name}-${label}`,
        password: 'pw-123456',
        message_endpoint: endpoint,
        client: true,
      });
    if (registration.status !== 201) {
      throw new Error(`registration failed: ${registration.status}`);
    }
    const { id, token } = registration.body as { id: string; token: string };
    self.me = { name: spec.name, id, token, receiver, file: spec.file, samples: spec.samples };
    clients.push(self.me);
  }
  return clients;
}

/** An actor uploads the MLP global model and creates a FedAvg training of it with the clients. */
export async function createMlpTraining(
  server: Handler,
  label: string,
  clients: SimulatedClient[],
  targetNumUpdates: number,
): Promise<{ actorAuth: string; modelId: string; trainingId: string }> {
  const actor = await request(server)
    .post('/api/users/')
    .send({ username: `actor-${label}`, password: 'pw-123456', actor: true });
  const actorAuth = `Token ${(actor.body as { token: string }).token}`;
  const upload = await request(server)
    .post('/api/models/')
    .set('Authorization', actorAuth)
    .field('name', 'mlp')
    .field('description', 'an MNIST MLP')
    .field('input_shape', 'None')
    .field('input_shape', '1')
    .field('input_shape', '28')
    .field('input_shape', '28')
    .attach('model_file', fixture('mlp-global-r0.onnx'), 'model.onnx');
  const modelId = (upload.body as { model_id: string }).model_id;
  const created = await request(server)
    .post('/api/trainings/')
    .set('Authorization', actorAuth)
    .send({
      model_id: modelId,
      target_num_updates: targetNumUpdates,
      metric_names: ['accuracy'],
      aggregation_method: 'FedAvg',
      uncertainty_method: 'NONE',
      options: { round_timeout: 120, test_timeout: 120 },
      clients: clients.map((c) => c.id),
    });
  if (created.status !== 201) {
    throw new Error(`training creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return { actorAuth, modelId, trainingId: (created.body as { training_id: string }).training_id };
}

/** Downloads version `round` of a model through the API. */
export async function downloadVersion(server: Handler, auth: string, modelId: string, round: number): Promise<Buffer> {
  const res = await request(server)
    .get(`/api/models/${modelId}/?round=${round}`)
    .set('Authorization', auth)
    .buffer(true)
    .parse((response, callback) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => callback(null, Buffer.concat(chunks)));
    });
  if (res.status !== 200) {
    throw new Error(`download of round ${round} failed: ${res.status}`);
  }
  return res.body as Buffer;
}

/** The engine's global models of rounds 1..rounds when every client uploads its fixture each round. */
export async function expectedVersions(clients: SimulatedClient[], rounds: number): Promise<Buffer[]> {
  const versions: Buffer[] = [];
  let previous = fixture('mlp-global-r0.onnx');
  for (let round = 1; round <= rounds; round += 1) {
    const result = await aggregate({
      method: 'FedAvg',
      global: bytesSource(previous),
      updates: clients.map((c) => ({ clientId: c.id, sampleSize: c.samples, source: bytesSource(fixture(c.file)) })),
    });
    previous = Buffer.from(await collectBytes(result.model));
    versions.push(previous);
  }
  return versions;
}
