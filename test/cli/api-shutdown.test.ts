import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixture } from '../fixtures/onnx-edge-cases';
import { freePort } from '../support/free-port';
import { startRole, stopRole } from '../support/role-process';
import { testEnv } from '../support/test-env';

/** 512 CNN samples a request: 70 to 130 ms a run on one core here, so the stop below comes while some run. */
const SAMPLES = 512;

/** A `roundhouse api` process, its output so far, and a new user's token on it. */
interface RunningApi {
  process: ChildProcess;
  base: string;
  auth: Record<string, string>;
  output: () => string;
}

describe('roundhouse api stopping (SIGTERM)', () => {
  let root: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-api-shutdown-'));
  });

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  async function startApi(): Promise<RunningApi> {
    const port = await freePort();
    const child = await startRole(
      'api',
      {
        ...process.env,
        DATABASE_URL: testEnv('databaseUrl'),
        TEMPORAL_ADDRESS: testEnv('temporalAddress'),
        PORT: String(port),
        ROUNDHOUSE_HOST: '127.0.0.1',
        ROUNDHOUSE_METRICS_PORT: 'off',
        ROUNDHOUSE_BLOB_DIR: path.join(root, 'blobs'),
        ROUNDHOUSE_INFERENCE_THREADS: '2',
        ROUNDHOUSE_INFERENCE_INTRA_OP_THREADS: '1',
        // A request alone runs on one core too: no run ends much sooner than another.
        ROUNDHOUSE_INFERENCE_WIDE_THREADS: '1',
        // The base64 of 512 samples is 2 MB.
        ROUNDHOUSE_MAX_BODY_BYTES: String(4 << 20),
        LOG_LEVEL: 'info',
      },
      'API listening',
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const base = `http://127.0.0.1:${port}/api`;
    const user = await fetch(`${base}/users/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: `shutdown-${port}`, password: 'shutdown-password-1' }),
    });
    const { token } = (await user.json()) as { token: string };
    return { process: child, base, auth: { Authorization: `Token ${token}` }, output: () => output };
  }

  /** Runs `use`, then stops the API (at once if `use` failed) and answers its exit code and signal. */
  async function stopAfter(
    api: RunningApi,
    use: () => Promise<void>,
  ): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
    try {
      await use();
    } catch (err) {
      await stopRole(api.process);
      throw err;
    }
    return { exitCode: await stopRole(api.process), signal: api.process.signalCode };
  }

  it('when inferences whose clients left still run, lets them end and exits 0', async () => {
    const api = await startApi();
    const stopped = await stopAfter(api, async () => {
      const form = new FormData();
      form.append('name', 'cnn');
      form.append('description', 'stopped while it runs');
      form.append('model_file', new Blob([fixture('cnn-global-r0.onnx')]), 'cnn.onnx');
      const upload = await fetch(`${api.base}/models/`, { method: 'POST', headers: api.auth, body: form });
      expect(upload.status).toBe(201);
      const { model_id: modelId } = (await upload.json()) as { model_id: string };
      const body = JSON.stringify({
        model_id: modelId,
        model_input: Buffer.from(new Float32Array(SAMPLES * 784).fill(0.5).buffer).toString('base64'),
        shape: [SAMPLES, 1, 28, 28],
      });
      const infer = (signal?: AbortSignal): Promise<Response> =>
        fetch(`${api.base}/inference/`, {
          method: 'POST',
          headers: { ...api.auth, 'Content-Type': 'application/json' },
          body,
          ...(signal ? { signal } : {}),
        });
      // Both threads create their sessions first.
      expect((await Promise.all([infer(), infer()])).map((each) => each.status)).toEqual([200, 200]);

      // Four more, whose clients leave while the threads run them: the server then has no connection to wait for,
      // but their handlers still run; the stop must wait for them before it closes the inference threads.
      const gone = new AbortController();
      const left = [infer(gone.signal), infer(gone.signal), infer(gone.signal), infer(gone.signal)].map((each) =>
        each.then(
          () => 'answered',
          () => 'left',
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
      gone.abort();
      // On a fast day the first two may have answered by then; the other two are still running or queued.
      expect(await Promise.all(left)).toContain('left');
    });
    // A thread terminated inside onnxruntime's run aborted the process (no exit code, "terminate called").
    expect(stopped).toEqual({ exitCode: 0, signal: null });
    expect(api.output()).not.toContain('terminate called');
    // The stop waited for the handlers: none met an inference pool already closing.
    expect(api.output()).not.toContain('Inference is shutting down');
    expect(api.output()).not.toContain('stop failed');
  }, 120_000);

  it('when a client long-polls its tasks, answers the poll at once with what there is and exits 0', async () => {
    const api = await startApi();
    let answered: { status: number; connection: string | null; body: unknown; afterMs: number } | undefined;
    const stopped = await stopAfter(api, async () => {
      const started = performance.now();
      const poll = fetch(`${api.base}/users/myself/tasks/?wait=60`, { headers: api.auth }).then(async (res) => {
        answered = {
          status: res.status,
          connection: res.headers.get('connection'),
          body: await res.json(),
          afterMs: performance.now() - started,
        };
      });
      // The poll is under way (it reads the open tasks, none, and waits) before the stop begins.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(answered).toBeUndefined();
      const exited = stopRole(api.process);
      await poll;
      await exited;
    });
    expect(stopped).toEqual({ exitCode: 0, signal: null });
    // Its wait was a minute, as long as the stop's own deadline: it used to hold the stop for all of it. The answer
    // closes its connection: a client that polled again at once on it would otherwise keep the server open.
    expect(answered).toEqual({ status: 200, connection: 'close', body: [], afterMs: expect.any(Number) as number });
    expect(answered?.afterMs).toBeLessThan(30_000);
  }, 120_000);
});
