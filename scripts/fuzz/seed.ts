/**
 * Seeds a running Roundhouse over real HTTP for the schemathesis run (scripts/fuzz/run.sh), so operations on `{id}`
 * reach real resources instead of only 404s. Self-contained: it builds its tiny ONNX model here and needs nothing
 * from src/ or test/.
 *
 *   npx tsx scripts/fuzz/seed.ts http://127.0.0.1:8000 seed.json
 *
 * Writes (and prints) JSON with the token of the fuzzing user and the ids of what it created. Resources an operation
 * destroys or changes for good (delete, start) get their own victims, and the central ones (the ongoing training and
 * its model) belong to a second user, so the order in which schemathesis visits the operations does not decide what
 * the others can reach.
 */
import fs from 'node:fs/promises';
import { Writer } from 'protobufjs/minimal';

/** What run.sh reads. */
interface Seed {
  base_url: string;
  username: string;
  password: string;
  token: string;
  /** A user of its own for the operations that replace the caller's credentials (its token stops working). */
  rotation_token: string;
  user_id: string;
  peer_user_id: string;
  /** Global model of `training_ongoing`, owned by the peer: downloads, metadata, metrics, uploads, inference. */
  model_id: string;
  /** The user's own global model, with a preprocessing graph; `training_initial`'s is a copy of it. */
  model_spare_id: string;
  /** Given to DELETE /api/models/{id}/ only. */
  model_victim_id: string;
  /** The peer's, started by this script (state O), the user a participant: uploads reach the workflow. */
  training_ongoing_id: string;
  /** The user's, state I: client registration and removal, start. */
  training_initial_id: string;
  /** Given to DELETE /api/trainings/{id}/ only. */
  training_victim_id: string;
  group_id: number;
  /** Given to DELETE /api/groups/{id}/ only. */
  group_victim_id: number;
  /** The user's dataset (x float32 [3, 4], y int64 [3]): metadata and points. */
  dataset_id: number;
  /** Given to DELETE /api/datasets/{id}/ only. */
  dataset_victim_id: number;
}

const FLOAT = 1;

function tensor(name: string, values: readonly number[]): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).int64(values.length);
  w.uint32((2 << 3) | 0).int32(FLOAT);
  w.uint32((8 << 3) | 2).string(name);
  w.uint32((9 << 3) | 2).bytes(new Uint8Array(Float32Array.from(values).buffer));
  return w.finish();
}

function valueInfo(name: string, shape: readonly (number | string)[]): Uint8Array {
  const dims = Writer.create();
  for (const dim of shape) {
    const d = Writer.create();
    if (typeof dim === 'number') {
      d.uint32((1 << 3) | 0).int64(dim);
    } else {
      d.uint32((2 << 3) | 2).string(dim);
    }
    dims.uint32((1 << 3) | 2).bytes(d.finish());
  }
  const tensorType = Writer.create()
    .uint32((1 << 3) | 0)
    .int32(FLOAT)
    .uint32((2 << 3) | 2)
    .bytes(dims.finish())
    .finish();
  const type = Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(tensorType)
    .finish();
  return Writer.create()
    .uint32((1 << 3) | 2)
    .string(name)
    .uint32((2 << 3) | 2)
    .bytes(type)
    .finish();
}

function node(name: string, opType: string, inputs: readonly string[], output: string): Uint8Array {
  const w = Writer.create();
  inputs.forEach((input) => w.uint32((1 << 3) | 2).string(input));
  w.uint32((2 << 3) | 2).string(output);
  w.uint32((3 << 3) | 2).string(name);
  w.uint32((4 << 3) | 2).string(opType);
  return w.finish();
}

/** y = (x + w) + b over float32 [N, 4]: valid ONNX (IR 8, opset 17) that onnxruntime runs. */
export function tinyOnnxModel(weights: readonly number[] = [1, 2, 3, 4]): Uint8Array {
  const graph = Writer.create();
  graph.uint32((1 << 3) | 2).bytes(node('add_w', 'Add', ['x', 'w'], 'h'));
  graph.uint32((1 << 3) | 2).bytes(node('add_b', 'Add', ['h', 'b'], 'y'));
  graph.uint32((2 << 3) | 2).string('fuzz_graph');
  graph.uint32((5 << 3) | 2).bytes(tensor('w', weights));
  graph.uint32((5 << 3) | 2).bytes(tensor('b', [0.5, 0.25, -1, 8]));
  graph.uint32((11 << 3) | 2).bytes(valueInfo('x', ['N', 4]));
  graph.uint32((12 << 3) | 2).bytes(valueInfo('y', ['N', 4]));
  const model = Writer.create();
  model.uint32((1 << 3) | 0).int64(8);
  model.uint32((2 << 3) | 2).string('roundhouse-fuzz-seed');
  model.uint32((3 << 3) | 2).string('1.0');
  model.uint32((7 << 3) | 2).bytes(graph.finish());
  model
    .uint32((8 << 3) | 2)
    .fork()
    .uint32((2 << 3) | 0)
    .int64(17)
    .ldelim();
  return model.finish();
}

class SeedClient {
  constructor(
    private readonly baseUrl: string,
    private token?: string,
  ) {}

  withToken(token: string): SeedClient {
    return new SeedClient(this.baseUrl, token);
  }

  async request(method: string, path: string, body?: unknown, expected = [200, 201, 202]): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token) {
      headers.Authorization = `Token ${this.token}`;
    }
    let payload: string | FormData | undefined;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.baseUrl}/api${path}`, { method, headers, body: payload });
    const text = await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(`${method} /api${path}: HTTP ${response.status}: ${text}`);
    }
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}

function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || !(name in value)) {
    throw new Error(`expected a field ${name} in ${JSON.stringify(value)}`);
  }
  return (value as Record<string, unknown>)[name];
}

function stringField(value: unknown, name: string): string {
  const found = field(value, name);
  if (typeof found !== 'string') {
    throw new Error(`expected ${name} to be a string in ${JSON.stringify(value)}`);
  }
  return found;
}

function numberField(value: unknown, name: string): number {
  const found = field(value, name);
  if (typeof found !== 'number') {
    throw new Error(`expected ${name} to be a number in ${JSON.stringify(value)}`);
  }
  return found;
}

async function register(client: SeedClient, username: string, password: string): Promise<unknown> {
  return client.request('POST', '/users/', {
    username,
    password,
    first_name: 'Fuzz',
    last_name: 'Seed',
    email: `${username}@example.com`,
    actor: true,
    client: true,
  });
}

async function uploadModel(
  client: SeedClient,
  name: string,
  weights: readonly number[],
  withPreprocessing = false,
): Promise<string> {
  const form = new FormData();
  form.append('name', name);
  form.append('description', `Seeded by scripts/fuzz/seed.ts (${name})`);
  form.append('input_shape', 'None');
  form.append('input_shape', '4');
  form.append('model_file', new Blob([tinyOnnxModel(weights)], { type: 'application/octet-stream' }), 'model.onnx');
  if (withPreprocessing) {
    // Checked like a model only, so the same graph serves: GET .../preprocessing/ then has bytes to answer.
    const graph = new Blob([tinyOnnxModel([0, 0, 0, 0])], { type: 'application/octet-stream' });
    form.append('model_preprocessing_file', graph, 'preprocessing.onnx');
  }
  return stringField(await client.request('POST', '/models/', form), 'model_id');
}

/** A safetensors dataset file: `x` float32 [3, 4] (the tiny model's input) and `y` int64 labels [3]. */
function tinyDataset(): Uint8Array {
  const x = new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => i / 4).buffer);
  const y = new Uint8Array(BigInt64Array.from([0n, 1n, 2n]).buffer);
  const header = JSON.stringify({
    x: { dtype: 'F32', shape: [3, 4], data_offsets: [0, x.length] },
    y: { dtype: 'I64', shape: [3], data_offsets: [x.length, x.length + y.length] },
  });
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
  return Buffer.concat([length, Buffer.from(header), x, y]);
}

async function uploadDataset(client: SeedClient, name: string): Promise<number> {
  const form = new FormData();
  form.append('name', name);
  form.append('description', `Seeded by scripts/fuzz/seed.ts (${name})`);
  form.append('file', new Blob([tinyDataset()], { type: 'application/octet-stream' }), 'dataset.safetensors');
  return numberField(await client.request('POST', '/datasets/', form), 'id');
}

async function createTraining(client: SeedClient, modelId: string, clients: readonly string[]): Promise<string> {
  const created = await client.request('POST', '/trainings/', {
    model_id: modelId,
    target_num_updates: 2,
    aggregation_method: 'FedAvg',
    metric_names: ['accuracy', 'loss'],
    clients,
    // Long deadlines: the fuzzed training must not move on (or fail) by itself during the run.
    options: { round_timeout: 86400, test_timeout: 86400 },
  });
  return stringField(created, 'training_id');
}

async function seed(baseUrl: string): Promise<Seed> {
  const anonymous = new SeedClient(baseUrl);
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const username = `fuzz-${suffix}`;
  const password = `fuzz-password-${suffix}`;
  const registered = await register(anonymous, username, password);
  const user = anonymous.withToken(stringField(registered, 'token'));
  const userId = stringField(registered, 'id');
  const peer = await register(anonymous, `fuzz-peer-${suffix}`, password);
  const peerId = stringField(peer, 'id');
  const rotation = await register(anonymous, `fuzz-rotation-${suffix}`, password);

  // The ongoing training and its global model belong to the peer, with the fuzzing user a participant: the user can
  // read them, upload updates and run inference, but no DELETE (or client removal) of the fuzzer can take them away,
  // whatever ids schemathesis picks up from responses. Everything the user owns may be destroyed during the run.
  const peerUser = anonymous.withToken(stringField(peer, 'token'));
  const modelId = await uploadModel(peerUser, 'fuzz-global', [1, 2, 3, 4]);
  const trainingOngoingId = await createTraining(peerUser, modelId, [userId, peerId]);
  await peerUser.request('POST', `/trainings/${trainingOngoingId}/start/`);

  const modelSpareId = await uploadModel(user, 'fuzz-spare', [4, 3, 2, 1], true);
  const modelVictimId = await uploadModel(user, 'fuzz-victim', [0, 0, 0, 0]);
  // A metric so GET .../metrics/ has something to present (metrics on the ongoing training's global model would be
  // test metrics, which its update phase refuses). Not essential.
  try {
    await user.request('POST', `/models/${modelSpareId}/metrics/`, {
      metric_names: ['accuracy'],
      metric_values: [0.5],
    });
  } catch (err) {
    process.stderr.write(`seed: no metric seeded (${err instanceof Error ? err.message : String(err)})\n`);
  }
  // A model with a training is copied for the next one, so these two trainings have global models of their own.
  const trainingInitialId = await createTraining(user, modelSpareId, [userId, peerId]);
  const trainingVictimId = await createTraining(user, modelSpareId, [userId]);

  const group = await user.request('POST', '/groups/', { name: `fuzz-group-${suffix}` });
  const groupVictim = await user.request('POST', '/groups/', { name: `fuzz-group-victim-${suffix}` });
  const datasetId = await uploadDataset(user, 'fuzz-dataset');
  const datasetVictimId = await uploadDataset(user, 'fuzz-dataset-victim');
  return {
    base_url: baseUrl,
    username,
    password,
    token: stringField(registered, 'token'),
    rotation_token: stringField(rotation, 'token'),
    user_id: userId,
    peer_user_id: peerId,
    model_id: modelId,
    model_spare_id: modelSpareId,
    model_victim_id: modelVictimId,
    training_ongoing_id: trainingOngoingId,
    training_initial_id: trainingInitialId,
    training_victim_id: trainingVictimId,
    group_id: numberField(group, 'id'),
    group_victim_id: numberField(groupVictim, 'id'),
    dataset_id: datasetId,
    dataset_victim_id: datasetVictimId,
  };
}

async function main(): Promise<void> {
  const [baseUrl, outFile] = process.argv.slice(2);
  if (!baseUrl) {
    throw new Error('usage: tsx scripts/fuzz/seed.ts <base url, e.g. http://127.0.0.1:8000> [output.json]');
  }
  const result = await seed(baseUrl.replace(/\/+$/, ''));
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (outFile) {
    await fs.writeFile(outFile, json, { mode: 0o600 });
  }
  process.stdout.write(json);
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
