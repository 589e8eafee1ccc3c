/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RoundhouseClient, runFlClient, type User } from '../../src/client';
import type { TestApi } from '../fixtures/api-app';
import { npyFile, safetensorsFile } from '../fixtures/datasets';
import { FIXTURES, fixture } from '../fixtures/onnx-edge-cases';
import { freePort } from '../support/free-port';
import { connectTestTemporal, type TestTemporal, uniqueTaskQueue } from '../support/temporal';
import { createTrainingApi, createTrainingWorker } from '../support/training-scenario';
import { FIXTURE_FACTS, mnistBatch } from '../unit/aggregation/helpers/fixtures';

const MAIN = path.join(__dirname, '../../src/cli/main.ts');

/** What one `roundhouse ...` process did. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The 16 test digits as the MLP takes them: float32 [16, 1, 28, 28], normalized. */
function digits(): { x: Float32Array; labels: number[] } {
  const { mean, std } = FIXTURE_FACTS.normalization;
  const batch = mnistBatch();
  return { x: Float32Array.from(batch.pixels.flat(), (p) => (p / 255 - mean) / std), labels: batch.labels };
}

function digitsSafetensors(): Buffer {
  const { x, labels } = digits();
  return safetensorsFile({
    x: { dtype: 'F32', shape: [labels.length, 1, 28, 28], values: x },
    y: { dtype: 'I64', shape: [labels.length], values: new BigInt64Array(labels.map((label) => BigInt(label))) },
  });
}

describe('the roundhouse client commands, each run as a process against a real server', () => {
  let temporal: TestTemporal;
  let api: TestApi;
  let server: { url: string; close(): Promise<void> };
  let stopWorker: () => Promise<void>;
  let home: string;

  /** Runs `roundhouse <args>` from the sources with a clean environment: only PATH, HOME and the server's URL. */
  function cli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
    const env = { PATH: process.env.PATH ?? '', HOME: home, ROUNDHOUSE_URL: server.url, ...options.env };
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: 'pipe' });
    const run: Run = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.stdin.end(options.stdin ?? '');
    return new Promise((resolve) =>
      child.once('close', (code) => {
        run.code = code;
        resolve(run);
      }),
    );
  }

  /** The JSON a `--json` run printed, after checking that it succeeded. */
  function json<T>(run: Run): T {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
    return JSON.parse(run.stdout) as T;
  }

  const configFile = (): string => path.join(home, '.config', 'roundhouse', 'config.json');

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    const taskQueue = uniqueTaskQueue('cli-client');
    api = await createTrainingApi(taskQueue);
    const app = api.app.callback();
    const listening = http.createServer((req, res) => void app(req, res));
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    server = {
      url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          listening.close(() => resolve());
          listening.closeAllConnections();
        }),
    };
    const worker = await createTrainingWorker(temporal, api, taskQueue);
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
    };
    home = await mkdtemp(path.join(os.tmpdir(), 'roundhouse-cli-'));
  });

  afterAll(async () => {
    await stopWorker();
    await server.close();
    await api.close();
    await temporal.close();
    await rm(home, { recursive: true, force: true });
  });

  const suffix = Date.now().toString(36);
  const actorName = `cli-actor-${suffix}`;
  let clients: User[] = [];

  it('registers, refuses a wrong password with 3, logs in to a 0600 file that later commands use, refuses a readable one', async () => {
    const registered = json<User>(
      await cli(['register', '--username', actorName, '--password-stdin', '--actor', '--json'], {
        stdin: 'cli-secret-1\n',
      }),
    );
    expect(registered).toMatchObject({ username: actorName, actor: true, client: false });

    const wrong = await cli(['login', '--username', actorName, '--password-stdin'], { stdin: 'not-the-password' });
    expect(wrong).toMatchObject({ code: 3, stdout: '' });
    expect(wrong.stderr).toMatch(/^roundhouse login: login refused: wrong username or password/);
    await expect(stat(configFile())).rejects.toMatchObject({ code: 'ENOENT' });

    // No credentials at all: 3, with what to do.
    const anonymous = await cli(['users', 'me']);
    expect(anonymous).toMatchObject({ code: 3, stdout: '' });
    expect(anonymous.stderr).toContain("not logged in: run 'roundhouse login'");

    // The password from the environment this time (never an argument).
    const login = await cli(['login', '--username', actorName], { env: { ROUNDHOUSE_PASSWORD: 'cli-secret-1' } });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toBe(`Logged in to ${server.url} as ${actorName}; credentials in ${configFile()}\n`);
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(configFile()))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(configFile(), 'utf8')) as { server: string; token: string };
    expect(stored).toEqual({ server: server.url, token: registered.token, username: actorName });

    // Later commands take the server and token from the file.
    const me = await cli(['users', 'me'], { env: { ROUNDHOUSE_URL: '' } });
    expect(me).toMatchObject({ code: 0, stderr: '' });
    expect(me.stdout).toMatch(new RegExp(`^username: +${actorName}$`, 'm'));
    const meJson = json<User>(await cli(['users', 'me', '--json']));
    expect(meJson).toMatchObject({ id: registered.id, username: actorName });
    // The token is the caller's to keep, not a command's output.
    expect(meJson.token).toBeUndefined();

    await chmod(configFile(), 0o644);
    const readable = await cli(['users', 'me']);
    expect(readable).toMatchObject({ code: 1, stdout: '' });
    expect(readable.stderr).toContain(`${configFile()} holds a token and is readable by others (mode 0644)`);
    await chmod(configFile(), 0o600);

    // A registration that stores its token, in a config file of its own.
    const other = path.join(home, 'other', 'config.json');
    const saved = await cli(
      ['register', '--username', `cli-saved-${suffix}`, '--client', '--save', '--config', other],
      {
        env: { ROUNDHOUSE_PASSWORD: 'cli-secret-2' },
      },
    );
    expect(saved.code).toBe(0);
    expect(saved.stdout).toMatch(/^client: +yes$/m);
    expect((await stat(other)).mode & 0o777).toBe(0o600);
    expect((await cli(['users', 'me', '--config', other])).stdout).toMatch(
      new RegExp(`^username: +cli-saved-${suffix}$`, 'm'),
    );

    // Participants, registered through the SDK.
    const sdk = new RoundhouseClient({ baseUrl: server.url });
    clients = [];
    for (const name of ['a', 'b']) {
      clients.push(await sdk.users.register({ username: `cli-${name}-${suffix}`, password: 'x-secret', client: true }));
    }
    const list = json<User[]>(await cli(['users', 'list', '--json']));
    expect(list.map((user) => user.username)).toContain(actorName);
    expect((await cli(['users', 'list'])).stdout).toMatch(/^ID +USERNAME +ACTOR +CLIENT$/m);
    expect((await cli(['users', 'show', registered.id])).stdout).toMatch(new RegExp(`^username: +${actorName}$`, 'm'));
  });

  let modelId = '';
  let datasetId = 0;

  it('uploads, shows and downloads a model; an unknown one is 4 with the detail; an unreachable server is 5', async () => {
    const file = path.join(FIXTURES, 'mlp-global-r0.onnx');
    const upload = await cli(['models', 'upload', file, '--name', 'mlp', '--input-shape', 'None,1,28,28']);
    expect(upload.code).toBe(0);
    modelId = upload.stdout.trim();
    expect(modelId).toMatch(/^[0-9a-f-]{36}$/);
    // stderr is no terminal: no bar, one final line.
    expect(upload.stderr).toMatch(/^uploading mlp-global-r0\.onnx: uploaded \d+(\.\d)? kB\n$/);

    const uploadJson = json<{ model_id: string }>(
      await cli(['models', 'upload', file, '--name', 'again', '--description', 'the same', '--json']),
    );
    expect(uploadJson.model_id).toMatch(/^[0-9a-f-]{36}$/);

    const shown = json<{ id: string; name: string; input_shape: unknown; format: string }>(
      await cli(['models', 'show', modelId, '--json']),
    );
    expect(shown).toMatchObject({ id: modelId, name: 'mlp', input_shape: [null, 1, 28, 28], format: 'onnx' });
    expect((await cli(['models', 'show', modelId])).stdout).toMatch(/^input shape: +\[None, 1, 28, 28\]$/m);
    const models = json<Array<{ id: string }>>(await cli(['models', 'list', '--json']));
    expect(models.map((model) => model.id)).toEqual(expect.arrayContaining([modelId, uploadJson.model_id]));

    const out = path.join(home, 'downloaded.onnx');
    const download = await cli(['models', 'download', modelId, '-o', out, '--json']);
    expect(json(download)).toMatchObject({ model_id: modelId, file: out, size: fixture('mlp-global-r0.onnx').length });
    expect((await readFile(out)).equals(fixture('mlp-global-r0.onnx'))).toBe(true);
    expect(download.stderr).toMatch(/^downloading .*: downloaded/);

    const unknown = await cli(['models', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(unknown).toMatchObject({ code: 4, stdout: '' });
    expect(unknown.stderr).toMatch(/^roundhouse models show: 404 .*not found/i);

    const deleted = await cli(['models', 'delete', uploadJson.model_id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted model ${uploadJson.model_id}\n` });

    const closedPort = await freePort();
    const elsewhere = `http://127.0.0.1:${closedPort}`;
    // The stored token is for another server: not logged in there.
    expect((await cli(['users', 'me', '--server', elsewhere])).stderr).toContain(`not logged in to ${elsewhere}`);
    const unreachable = await cli(['users', 'me', '--server', elsewhere, '--token', 'any', '--retries', '2']);
    expect(unreachable).toMatchObject({ code: 5, stdout: '' });
    expect(unreachable.stderr).toContain('ECONNREFUSED, attempt 2 in');
    expect(unreachable.stderr).toMatch(
      /roundhouse users me: server unreachable: GET \/api\/users\/myself\/: ECONNREFUSED/,
    );

    const usage = await cli(['models', 'download']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^roundhouse models download: Missing required argument 'id'\n/);
  });

  it('uploads datasets as safetensors and as two .npy files, and lists them', async () => {
    const safetensors = path.join(home, 'digits.safetensors');
    await writeFile(safetensors, digitsSafetensors());
    const dataset = json<{ id: number; rows: number; name: string }>(
      await cli(['datasets', 'upload', safetensors, '--name', 'digits', '--json']),
    );
    expect(dataset).toMatchObject({ name: 'digits', rows: 16 });
    datasetId = dataset.id;

    const x = path.join(home, 'x.npy');
    const y = path.join(home, 'y.npy');
    await writeFile(
      x,
      npyFile(
        '<f4',
        [4, 3],
        Float32Array.from({ length: 12 }, (_, i) => i),
      ),
    );
    await writeFile(y, npyFile('<i8', [4], BigInt64Array.from([0n, 1n, 0n, 1n])));
    const pair = await cli(['datasets', 'upload', '--x', x, '--y', y, '--name', 'pairs']);
    expect(pair.code).toBe(0);
    expect(pair.stdout).toMatch(/^rows: +4$/m);

    const listed = json<Array<{ id: number; name: string }>>(await cli(['datasets', 'list', '--json']));
    expect(listed.map((d) => d.name)).toEqual(expect.arrayContaining(['digits', 'pairs']));
    expect((await cli(['datasets', 'list'])).stdout).toMatch(/^ID +NAME +ROWS/);

    expect((await cli(['datasets', 'upload', '--x', x])).code).toBe(2);
  });

  it('creates, starts and watches a training to completion with the server accuracy per round; tasks and infer', async () => {
    const create = await cli([
      'trainings',
      'create',
      '--model',
      modelId,
      '--clients',
      clients.map((c) => c.id).join(','),
      '--rounds',
      '2',
      '--method',
      'FedAvg',
      '--metrics',
      'accuracy',
      '--option',
      'round_timeout=120',
      '--option',
      'test_timeout=120',
      '--evaluation-dataset',
      String(datasetId),
    ]);
    expect(create).toMatchObject({ code: 0, stderr: '' });
    const trainingId = create.stdout.trim();
    const before = json<{ state: string; aggregation_method: string; options: unknown }>(
      await cli(['trainings', 'status', trainingId, '--json']),
    );
    expect(before).toMatchObject({
      state: 'I',
      aggregation_method: 'FedAvg',
      options: { round_timeout: 120, test_timeout: 120, evaluation_dataset: datasetId },
    });

    // Watching from before the start: one line per change, as a log would keep them, and as JSON.
    const watch = cli(['trainings', 'watch', trainingId]);
    const watchJson = cli(['trainings', 'watch', trainingId, '--json']);
    expect((await cli(['trainings', 'start', trainingId])).code).toBe(0);

    // A participant's pending task, read through the CLI with its token.
    const token = clients[0]?.token ?? '';
    let tasks: Array<{ id: number; notification_type: string; training_uuid: string }> = [];
    for (let i = 0; i < 20 && !tasks.some((t) => t.notification_type === 'UPDATE_ROUND_START'); i += 1) {
      tasks = json(await cli(['tasks', '--wait', '5', '--json'], { env: { ROUNDHOUSE_TOKEN: token } }));
    }
    expect(tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ notification_type: 'UPDATE_ROUND_START', training_uuid: trainingId }),
      ]),
    );
    expect((await cli(['tasks', '--token', token])).stdout).toMatch(/^ID +TYPE +TRAINING/);

    const loops = clients.map((client, i) =>
      runFlClient({
        client: new RoundhouseClient({ baseUrl: server.url, credentials: { token: client.token ?? '' } }),
        trainings: [trainingId],
        pollSeconds: 2,
        // Training takes three seconds, as a real one takes a while: each round stays open across several of the
        // watcher's one-second looks (instant training let a loaded machine finish both rounds between two looks).
        train: async () => {
          await new Promise((resolve) => setTimeout(resolve, 3000));
          return { weights: fixture(`mlp-client-${'ab'[i] ?? 'a'}.onnx`), sampleSize: 1000 };
        },
        evaluate: () => Promise.resolve({ accuracy: 0.5 }),
      }),
    );
    await Promise.all(loops);

    const watched = await watch;
    expect(watched).toMatchObject({ code: 0 });
    const lines = watched.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^round 0 DONE: 2\/2 updates, 2000 samples, server accuracy \d/),
        expect.stringMatching(/^round 1 DONE: 2\/2 updates, 2000 samples, server accuracy \d/),
        expect.stringMatching(/^COMPLETED; server accuracy [▁▂▃▄▅▆▇█]{3} [\d.]+ → [\d.]+ \(versions 0–2\)$/),
      ]),
    );
    expect(lines.at(-1)).toMatch(/^COMPLETED/);
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ONGOING round [01] [A-Z]+: \d\/2 uploaded/)]),
    );

    const events = (await watchJson).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; round?: number; server_accuracy?: number[] });
    expect(events.filter((e) => e.event === 'round').map((e) => e.round)).toEqual([0, 1]);
    expect(events.at(-1)).toMatchObject({ event: 'end', state: 'COMPLETED', error: null });
    expect(events.at(-1)?.server_accuracy).toHaveLength(3);

    // The participants are visible to the training's actor now.
    const shown = json<User>(await cli(['users', 'show', clients[0]?.id ?? '', '--json']));
    expect(shown.username).toBe(`cli-a-${suffix}`);
    const done = await cli(['trainings', 'status', trainingId]);
    expect(done.stdout).toMatch(/^state: +COMPLETED$/m);
    expect(json<Array<{ id: string }>>(await cli(['trainings', 'list', '--json'])).map((t) => t.id)).toContain(
      trainingId,
    );

    // The participant's round-0 task is done now: acknowledging it hides it.
    const doneTask = tasks.find((t) => t.notification_type === 'UPDATE_ROUND_START')!;
    const ack = await cli(['tasks', 'ack', String(doneTask.id), '--token', token]);
    expect(ack).toMatchObject({ code: 0, stdout: `Acknowledged task ${doneTask.id}\n` });
    const after = json<Array<{ id: number }>>(await cli(['tasks', 'list', '--json', '--token', token]));
    expect(after.map((t) => t.id)).not.toContain(doneTask.id);

    // The first test digit through the trained model.
    const { x } = digits();
    const input = path.join(home, 'digit.json');
    const pixels = Array.from(x.subarray(0, 784));
    await writeFile(input, JSON.stringify([[Array.from({ length: 28 }, (_, r) => pixels.slice(r * 28, r * 28 + 28))]]));
    const inferred = json<{ inference: unknown[]; outputs: number[][] }>(
      await cli(['infer', modelId, '--input', input, '--json']),
    );
    expect(inferred.inference).toHaveLength(1);
    expect(inferred.outputs[0]).toHaveLength(10);
    const badInput = await cli(['infer', modelId, '--input', safetensorsPathOf(home)]);
    expect(badInput.code).toBe(1);
  }, 120_000);

  it("runs the README's quick start: an actor and a client register, the client pulls its tasks and uploads with the CLI", async () => {
    const quick = { HOME: path.join(home, 'quick') };
    const actorEnv = { ...quick, ROUNDHOUSE_CONFIG: path.join(home, 'quick', 'alice.json') };
    const registered = await cli(['register', '--username', 'quick-alice', '--actor', '--save', '--password-stdin'], {
      env: actorEnv,
      stdin: 'alice-secret-1\n',
    });
    expect(registered.code).toBe(0);
    const bob = json<{ id: string; token: string }>(
      await cli(['register', '--username', 'quick-bob', '--client', '--password-stdin', '--json'], {
        env: quick,
        stdin: 'bob-secret-1\n',
      }),
    );
    const bobEnv = { ...quick, ROUNDHOUSE_TOKEN: bob.token };
    const model = await cli(
      [
        'models',
        'upload',
        path.join(FIXTURES, 'mlp-global-r0.onnx'),
        '--name',
        'mnist',
        '--input-shape',
        'None,1,28,28',
      ],
      { env: actorEnv },
    );
    expect(model.code).toBe(0);
    const modelId = model.stdout.trim();
    const created = await cli(['trainings', 'create', '--model', modelId, '--clients', bob.id, '--rounds', '1'], {
      env: actorEnv,
    });
    const trainingId = created.stdout.trim();
    expect((await cli(['trainings', 'start', trainingId], { env: actorEnv })).code).toBe(0);

    // Bob waits for his round-start task, uploads his update for it, then reports on the test round.
    const waitFor = async (type: string): Promise<{ round: number }> => {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const tasks = json<Array<{ notification_type: string; state: string | null; round: number }>>(
          await cli(['tasks', '--wait', '10', '--json'], { env: bobEnv }),
        );
        const task = tasks.find((t) => t.notification_type === type && t.state === 'PENDING');
        if (task !== undefined) {
          return task;
        }
      }
      throw new Error(`no ${type} task`);
    };
    const { round } = await waitFor('UPDATE_ROUND_START');
    const update = await cli(
      [
        'models',
        'update',
        modelId,
        path.join(FIXTURES, 'mlp-client-a.onnx'),
        '--round',
        String(round),
        '--samples',
        '3000',
        '--metric',
        'loss=0.25',
      ],
      { env: bobEnv },
    );
    expect(update).toMatchObject({ code: 0, stdout: 'Update for round 0 accepted\n' });
    await waitFor('MODEL_TEST_ROUND');
    const metrics = await cli(['models', 'metrics', modelId, '--metric', 'accuracy=0.91'], { env: bobEnv });
    expect(metrics).toMatchObject({ code: 0, stdout: 'Metrics accepted\n' });
    const watched = await cli(['trainings', 'watch', trainingId], { env: actorEnv });
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/round 0 DONE: 1\/1 updates, 3000 samples/);
    // The aggregate of one update is that update.
    const download = await cli(
      ['models', 'download', modelId, '--round', '1', '-o', path.join(home, 'quick', 'r1.onnx')],
      {
        env: actorEnv,
      },
    );
    expect(download.code).toBe(0);
    const refused = await cli(['models', 'metrics', modelId, '--metric', 'accuracy'], { env: bobEnv });
    expect(refused.code).toBe(2);
  }, 120_000);

  it('watch exits 6 when the training ends in error; delete removes a training; logout removes the file', async () => {
    // A participant that never uploads: the round ends below quorum after its deadline and the one extension.
    const create = await cli([
      'trainings',
      'create',
      '--model',
      modelId,
      '--clients',
      clients[1]?.id ?? '',
      '--rounds',
      '1',
      '--option',
      'round_timeout=1',
      '--option',
      'skip_model_tests=true',
      '--json',
    ]);
    const { training_id: trainingId } = json<{ training_id: string }>(create);
    expect((await cli(['trainings', 'start', trainingId])).code).toBe(0);
    const watched = await cli(['trainings', 'watch', trainingId]);
    expect(watched.code).toBe(6);
    expect(watched.stdout.trim().split('\n').at(-1)).toMatch(/^ERROR: Round \d+ ended below quorum/);
    expect(watched.stderr).toMatch(
      /^roundhouse trainings watch: training .* ended in error: Round \d+ ended below quorum/,
    );

    const deleted = await cli(['trainings', 'delete', trainingId]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted training ${trainingId}\n` });
    expect((await cli(['trainings', 'status', trainingId])).code).toBe(4);

    expect((await cli(['trainings', 'create', '--rounds', '1'])).code).toBe(2);

    const logout = await cli(['logout']);
    expect(logout).toMatchObject({ code: 0, stdout: `Removed ${configFile()}\n` });
    await expect(stat(configFile())).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cli(['users', 'me'])).code).toBe(3);
  }, 60_000);
});

/** A file that is not JSON, for `infer --input`. */
function safetensorsPathOf(home: string): string {
  return path.join(home, 'digits.safetensors');
}
