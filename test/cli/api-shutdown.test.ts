import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixture } from '../fixtures/onnx-edge-cases';
import { freePort } from '../support/free-port';
import { startRole, stopRole } from '../support/role-process';
import { testEnv } from '../support/test-env';

/** 512 CNN samples a request: tens of milliseconds a run on one core, so the stop below comes while they run. */
const SAMPLES = 512;

describe('roundhouse api stopping while inference runs', () => {
  let root: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-api-shutdown-'));
  });

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('when SIGTERM comes while inferences whose clients left still run, lets them end and exits 0', async () => {
    const port = await freePort();
    const api = await startRole(
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
        // The base64 of 512 samples is 2 MB.
        ROUNDHOUSE_MAX_BODY_BYTES: String(4 << 20),
        LOG_LEVEL: 'info',
      },
      'API listening',
    );
    let output = '';
    api.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const base = `http://127.0.0.1:${port}/api`;
    let exitCode: number | null | undefined;
    try {
      const user = await fetch(`${base}/users/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: `shutdown-${port}`, password: 'shutdown-password-1' }),
      });
      const { token } = (await user.json()) as { token: string };
      const auth = { Authorization: `Token ${token}` };
      const form = new FormData();
      form.append('name', 'cnn');
      form.append('description', 'stopped while it runs');
      form.append('model_file', new Blob([fixture('cnn-global-r0.onnx')]), 'cnn.onnx');
      const upload = await fetch(`${base}/models/`, { method: 'POST', headers: auth, body: form });
      expect(upload.status).toBe(201);
      const { model_id: modelId } = (await upload.json()) as { model_id: string };
      const body = JSON.stringify({
        model_id: modelId,
        model_input: Buffer.from(new Float32Array(SAMPLES * 784).fill(0.5).buffer).toString('base64'),
        shape: [SAMPLES, 1, 28, 28],
      });
      const infer = (signal?: AbortSignal): Promise<Response> =>
        fetch(`${base}/inference/`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
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
      expect(await Promise.all(left)).toEqual(['left', 'left', 'left', 'left']);
      exitCode = await stopRole(api);
    } finally {
      exitCode ??= await stopRole(api);
    }
    // A thread terminated inside onnxruntime's run aborted the process (no exit code, "terminate called").
    expect({ exitCode, signal: api.signalCode }).toEqual({ exitCode: 0, signal: null });
    expect(output).not.toContain('terminate called');
    // The stop waited for the handlers: none met an inference pool already closing.
    expect(output).not.toContain('Inference is shutting down');
    expect(output).not.toContain('stop failed');
  }, 120_000);
});
