/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { aggregate } from '../../src/aggregation/aggregate';
import { bytesSource, collectBytes } from '../../src/onnx/model-source';
import { type Float32Tensor, readSafetensors, writeSafetensors } from '../../src/aggregation/safetensors';
import { recordSwagMoments } from '../../src/db/queries/training-runs';
import type { User } from '../../src/db/models/user';
import { buildApiUser, createTestApi, errorOf, tokenAuth, type TestApi } from '../fixtures/api-app';
import { setupTraining, uploadModel } from '../fixtures/api-models';
import { FIXTURES, fixture } from '../fixtures/onnx-edge-cases';

interface Batch {
  labels: number[];
  pixels_0_255: number[][];
}
const batch = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'mnist-batch16.json'), 'utf8')) as Batch;
const logits = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'mnist-batch16-logits.json'), 'utf8')) as Record<
  string,
  number[][]
>;

/** The 16 digits as the models take them: [16, 1, 28, 28], scaled to 0..1 and normalized (fixtures README). */
function normalized(): number[][][][] {
  return batch.pixels_0_255.map((pixels) => [
    Array.from({ length: 28 }, (_, row) =>
      pixels.slice(row * 28, row * 28 + 28).map((v) => (v / 255 - 0.1307) / 0.3015),
    ),
  ]);
}

function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [Number(value)];
}

function maxDiff(a: readonly number[], b: readonly number[]): number {
  expect(a).toHaveLength(b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - (b[i] ?? NaN))), 0);
}

interface InferenceBody {
  inference: unknown;
  outputs: unknown;
  uncertainty: Record<string, unknown>;
}

describe('POST /api/inference/', () => {
  let api: TestApi;
  let owner: User;
  let auth: string;

  beforeAll(async () => {
    api = await createTestApi({ limits: { uploadBytes: 16 * 1024 * 1024, bodyBytes: 4 * 1024 * 1024 } });
    owner = await buildApiUser(api.knex);
    auth = tokenAuth(owner);
  });

  afterAll(async () => {
    await api.close();
  });

  const infer = (body: Record<string, unknown>, as = auth) =>
    request(api.app.callback()).post('/api/inference/').set('Authorization', as).send(body);

  it.each(['mlp', 'cnn'])(
    'when the %s fixture runs on the 16 digits, its outputs equal PyTorch logits to 1e-4 and inference is the argmax',
    async (name) => {
      const modelId = await uploadModel(api, owner, { file: fixture(`${name}-global-r0.onnx`) });
      const res = await infer({ model_id: modelId, model_input: normalized() });
      expect(res.status).toBe(200);
      const body = res.body as InferenceBody;
      const expected = logits[`${name}-global-r0`] ?? [];
      expect(maxDiff(flat(body.outputs), expected.flat())).toBeLessThan(1e-4);
      expect(body.inference).toEqual(expected.map((row) => row.indexOf(Math.max(...row))));
      expect(body.uncertainty).toEqual({});
    },
    60_000,
  );

  it('when the model is the FedAvg of the three clients, its outputs equal a float64 forward pass written here', async () => {
    const clients = (['a', 'b', 'c'] as const).map((c, i) => ({
      weights: readSafetensors(fixture(`mlp-client-${c}.safetensors`)).tensors,
      samples: [3000, 2000, 1000][i] ?? 0,
    }));
    const averaged = await aggregate({
      method: 'FedAvg',
      global: bytesSource(fixture('mlp-global-r0.onnx')),
      updates: clients.map((c, i) => ({
        clientId: String(i),
        sampleSize: c.samples,
        source: bytesSource(fixture(`mlp-client-${'abc'[i] ?? 'a'}.onnx`)),
      })),
    });
    const modelId = await uploadModel(api, owner, { file: Buffer.from(await collectBytes(averaged.model)) });
    const res = await infer({ model_id: modelId, model_input: normalized() });
    expect(res.status).toBe(200);

    // Weights averaged in float64 from the clients' safetensors, then Flatten → Gemm → Relu → Gemm in float64.
    const mean = (name: string): Float64Array => {
      const size = clients[0]?.weights.get(name)?.values.length ?? 0;
      const out = new Float64Array(size);
      for (const c of clients) {
        const values = c.weights.get(name)?.values ?? new Float32Array(size);
        values.forEach((v, i) => (out[i] = (out[i] ?? 0) + (v * c.samples) / 6000));
      }
      return out;
    };
    const [w1, b1, w2, b2] = ['1.weight', '1.bias', '4.weight', '4.bias'].map(mean);
    const expected = normalized().flatMap((digit) => {
      const x = digit.flat(2);
      const hidden = Array.from({ length: 128 }, (_, j) => {
        let sum = b1?.[j] ?? 0;
        x.forEach((v, k) => (sum += v * (w1?.[j * 784 + k] ?? 0)));
        return Math.max(0, sum);
      });
      return Array.from({ length: 10 }, (_, o) => {
        let sum = b2?.[o] ?? 0;
        hidden.forEach((h, j) => (sum += h * (w2?.[o * 128 + j] ?? 0)));
        return sum;
      });
    });
    expect(maxDiff(flat((res.body as InferenceBody).outputs), expected)).toBeLessThan(1e-4);
  }, 60_000);

  it('when a PNG goes through the preprocessing graph and the MLP, it answers what onnxruntime gives for the same chain', async () => {
    const preprocessing = fixture('preprocess-rgb-to-mnist.onnx');
    const modelId = await uploadModel(api, owner, { preprocessing });
    const res = await request(api.app.callback())
      .post('/api/inference/')
      .set('Authorization', auth)
      .field('model_id', modelId)
      .field('return_format', 'json')
      .attach('model_input', fixture('digit-9.png'), 'digit-9.png');
    expect(res.status).toBe(200);
    const outputs = flat((res.body as InferenceBody).outputs);
    expect(outputs).toHaveLength(10);

    // The same chain in-process: the PNG's RGB pixels (56×56) as [1, 3, H, W] 0..255 floats.
    const png = PNG.sync.read(fixture('digit-9.png'));
    const rgb = new Float32Array(3 * png.width * png.height);
    for (let i = 0; i < png.width * png.height; i++) {
      for (let c = 0; c < 3; c++) {
        rgb[c * png.width * png.height + i] = png.data[i * 4 + c] ?? 0;
      }
    }
    const pre = await ort.InferenceSession.create(preprocessing);
    const mlp = await ort.InferenceSession.create(fixture('mlp-global-r0.onnx'));
    const image = new ort.Tensor('float32', rgb, [1, 3, png.height, png.width]);
    const prepared = (await pre.run({ [pre.inputNames[0] ?? '']: image }))[pre.outputNames[0] ?? ''];
    const expected = (await mlp.run({ [mlp.inputNames[0] ?? '']: prepared as ort.Tensor }))[mlp.outputNames[0] ?? ''];
    expect(maxDiff(outputs, Array.from(expected?.data as Float32Array))).toBeLessThan(1e-5);
    await pre.release();
    await mlp.release();
  }, 60_000);

  it('when MC_DROPOUT runs N passes, the outputs vary from pass to pass; NONE on the same model is deterministic', async () => {
    const modelId = await uploadModel(api, owner, { file: fixture('mlp-mcdropout.onnx') });
    const input = normalized().slice(0, 4);
    const mc = await infer({
      model_id: modelId,
      model_input: input,
      uncertainty_method: 'MC_DROPOUT',
      options: { uncertainty: { N: 8, softmax: true } },
    });
    expect(mc.status).toBe(200);
    const mcBody = mc.body as InferenceBody;
    expect(Math.max(...flat(mcBody.uncertainty.variance))).toBeGreaterThan(0);
    // Softmaxed outputs are probabilities: the entropies come along, one per row.
    expect(Object.keys(mcBody.uncertainty).sort()).toEqual([
      'expected_entropy',
      'mutual_info',
      'predictive_entropy',
      'std',
      'variance',
    ]);
    expect(flat(mcBody.uncertainty.predictive_entropy)).toHaveLength(4);

    const first = await infer({ model_id: modelId, model_input: input });
    const second = await infer({ model_id: modelId, model_input: input });
    expect((first.body as InferenceBody).outputs).toEqual((second.body as InferenceBody).outputs);
    // With Dropout off the training-mode export is the plain MLP (same weights).
    const plainId = await uploadModel(api, owner);
    const plain = await infer({ model_id: plainId, model_input: input });
    expect(
      maxDiff(flat((first.body as InferenceBody).outputs), flat((plain.body as InferenceBody).outputs)),
    ).toBeLessThan(1e-5);
  }, 60_000);

  it('when SWAG has zero variance, every sample is the mean model: its outputs, and variance 0', async () => {
    const modelId = await uploadModel(api, owner, { file: fixture('mlp-client-a.onnx'), type: 'SWAG' });
    const weights = readSafetensors(fixture('mlp-client-a.safetensors')).tensors;
    const squared = new Map<string, Float32Tensor>(
      [...weights].map(([name, t]) => [name, { shape: t.shape, values: t.values.map((v) => v * v) }]),
    );
    const first = await api.blobs.put(writeSafetensors(weights));
    const second = await api.blobs.put(writeSafetensors(squared));
    await recordSwagMoments(api.knex, modelId, first.digest, second.digest);
    const input = normalized().slice(0, 2);

    const swag = await infer({ model_id: modelId, model_input: input, uncertainty_method: 'SWAG' });
    const none = await infer({ model_id: modelId, model_input: input });
    expect(swag.status).toBe(200);
    const body = swag.body as InferenceBody;
    expect(maxDiff(flat(body.outputs), flat((none.body as InferenceBody).outputs))).toBeLessThan(1e-6);
    expect(Math.max(...flat(body.uncertainty.variance))).toBeLessThan(1e-10);
  }, 60_000);

  it('when a model\u2019s training names its uncertainty method, a request may not name another or its own options', async () => {
    const { actor, modelId } = await setupTraining(api, {
      uncertaintyMethod: 'MC_DROPOUT',
      file: fixture('mlp-mcdropout.onnx'),
    });
    const input = normalized().slice(0, 1);
    const other = await infer({ model_id: modelId, model_input: input, uncertainty_method: 'SWAG' }, tokenAuth(actor));
    expect(other.status).toBe(400);
    expect(errorOf(other.body).detail).toContain('was trained with uncertainty method MC_DROPOUT');
    const options = await infer(
      { model_id: modelId, model_input: input, options: { uncertainty: { N: 3 } } },
      tokenAuth(actor),
    );
    expect(options.status).toBe(400);
    expect(errorOf(options.body).detail).toContain('its options.uncertainty come from the training');
    const trained = await infer({ model_id: modelId, model_input: input }, tokenAuth(actor));
    expect(trained.status).toBe(200);
    expect(Object.keys((trained.body as InferenceBody).uncertainty)).toContain('variance');
  }, 60_000);

  it('when an ENSEMBLE averages identical members, its variance and std are exactly zero', async () => {
    const members = [await uploadModel(api, owner), await uploadModel(api, owner)];
    const mean = await request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', auth)
      .send({ type: 'MEAN', name: 'twins', description: 'two identical MLPs', models: members });
    expect(mean.status).toBe(201);
    const res = await infer({
      model_id: (mean.body as { model_id: string }).model_id,
      model_input: normalized().slice(0, 4),
      uncertainty_method: 'ENSEMBLE',
    });
    expect(res.status).toBe(200);
    const body = res.body as InferenceBody;
    expect(new Set(flat(body.uncertainty.variance))).toEqual(new Set([0]));
    expect(new Set(flat(body.uncertainty.std))).toEqual(new Set([0]));
    // Logits are not probabilities: no entropies.
    expect(Object.keys(body.uncertainty).sort()).toEqual(['std', 'variance']);
  }, 60_000);

  it('when binary is asked for, answers a safetensors file with the same tensors, never a pickle', async () => {
    const modelId = await uploadModel(api, owner);
    const input = normalized().slice(0, 3);
    const json = await infer({ model_id: modelId, model_input: input });
    const binary = await request(api.app.callback())
      .post('/api/inference/')
      .set('Authorization', auth)
      .send({ model_id: modelId, model_input: input, return_format: 'binary' })
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    expect(binary.status).toBe(200);
    expect(binary.headers['content-type']).toBe('application/octet-stream');
    const file = readSafetensors(binary.body as Buffer);
    expect(file.metadata).toMatchObject({
      format: 'roundhouse.inference.v1',
      output: 'logits',
      uncertainty_method: 'NONE',
    });
    expect(file.tensors.get('outputs')?.shape).toEqual([3, 10]);
    expect(
      maxDiff(Array.from(file.tensors.get('outputs')?.values ?? []), flat((json.body as InferenceBody).outputs)),
    ).toBe(0);
    expect(Array.from(file.tensors.get('inference')?.values ?? [])).toEqual((json.body as InferenceBody).inference);
  }, 60_000);

  describe('refusals', () => {
    let modelId: string;

    beforeAll(async () => {
      modelId = await uploadModel(api, owner);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['no model_id', { model_id: undefined, model_input: [[1]] }, "No 'model_id' provided in request."],
      [
        'an unknown model',
        { model_id: '5a1b5a1b-0000-4000-8000-000000000000', model_input: [[1]] },
        'Model 5a1b5a1b-0000-4000-8000-000000000000 not found.',
      ],
      ['a malformed model id', { model_id: 'nope', model_input: [[1]] }, 'Model nope not found.'],
      [
        'a bad return format',
        { return_format: 'pickle', model_input: [[1]] },
        "Unknown return format 'pickle'. Supported are binary and json.",
      ],
      ['no model_input', {}, "No uploaded file 'model_input' found."],
      ['an empty model_input', { model_input: [] }, "No uploaded file 'model_input' found."],
      ['a wrong rank', { model_input: [[1, 2, 3]] }, 'Input shape does not match model input shape.'],
      [
        'an unknown uncertainty method',
        { model_input: [[[[1]]]], uncertainty_method: 'MAGIC' },
        'uncertainty_method must be one of',
      ],
      [
        'ENSEMBLE on a plain model',
        { model_input: [[[[1]]]], uncertainty_method: 'ENSEMBLE' },
        'ENSEMBLE needs a MEAN model',
      ],
      ['SWAG without moments', { model_input: [[[[1]]]], uncertainty_method: 'SWAG' }, 'has no SWAG moments'],
      [
        'too many samples',
        { model_input: [[[[1]]]], uncertainty_method: 'MC_DROPOUT', options: { uncertainty: { N: 1000 } } },
        'options.uncertainty.N must be an integer from 1 to 100',
      ],
      ['an unknown field', { model_input: [[1]], temperature: 2 }, 'Unknown field'],
    ])('when the request has %s, answers 400 saying so', async (_what, body, detail) => {
      const res = await infer({ model_id: modelId, ...body });
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toContain(detail);
    });

    it.each<[string, string, RegExp]>([
      // The list is left as text for the inference thread, which parses it and answers in the body parser's words.
      ['malformed inside model_input', '{"model_id": "ID", "model_input": [[1, 2x]]}', /^JSON parse error - /],
      ['ragged', '{"model_id": "ID", "model_input": [[1, 2], [3]]}', /^Model input is not rectangular: /],
      // Anything unusual is left to the usual parser, which refuses it as before.
      ['with __proto__', '{"__proto__": {"a": 1}, "model_id": "ID", "model_input": [[1]]}', /^JSON parse error - /],
      ['cut short', '{"model_id": "ID", "model_input": [[1, 2]', /^JSON parse error - /],
    ])('when a JSON body is %s, answers 400 in the same words as ever', async (_what, text, detail) => {
      const res = await request(api.app.callback())
        .post('/api/inference/')
        .set('Authorization', auth)
        .set('Content-Type', 'application/json')
        .send(text.replace('ID', modelId));
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toMatch(detail);
    });

    it('when a model without Dropout is asked for MC_DROPOUT, answers 400 saying how to export one', async () => {
      const res = await infer({
        model_id: modelId,
        model_input: normalized().slice(0, 1),
        uncertainty_method: 'MC_DROPOUT',
      });
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toContain('TrainingMode.TRAINING');
    });

    it('when the input does not fit a model without input_shape, onnxruntime\u2019s refusal is a 400', async () => {
      const upload = await request(api.app.callback())
        .post('/api/models/')
        .set('Authorization', auth)
        .field('name', 'no shape')
        .field('description', 'an MLP without input_shape')
        .attach('model_file', fixture('mlp-global-r0.onnx'), 'model.onnx');
      const shapeless = (upload.body as { model_id: string }).model_id;
      const res = await infer({
        model_id: shapeless,
        model_input: [
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ],
      });
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toContain('The model refused the input');
    });

    it('when the body is neither JSON nor multipart, answers 415 in the reference\u2019s words', async () => {
      const res = await request(api.app.callback())
        .post('/api/inference/')
        .set('Authorization', auth)
        .set('Content-Type', 'text/plain')
        .send('model_id=x');
      expect(res.status).toBe(415);
      expect(errorOf(res.body).detail).toBe(
        "Only Content-Type 'application/json' and 'multipart/form-data' is supported.",
      );
    });

    it('when an image goes to a model without preprocessing, answers 400', async () => {
      const res = await request(api.app.callback())
        .post('/api/inference/')
        .set('Authorization', auth)
        .field('model_id', modelId)
        .attach('model_input', fixture('digit-9.png'), 'digit-9.png');
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).toContain('no preprocessing graph');
    });

    it('when model_input names a server path, it is never read as one', async () => {
      const res = await infer({ model_id: modelId, model_input: '/etc/passwd' });
      expect(res.status).toBe(400);
      expect(errorOf(res.body).detail).not.toContain('root:');
    });

    it('when a stranger asks, the model is not found; another participant\u2019s update is 403', async () => {
      const stranger = await buildApiUser(api.knex);
      const hidden = await infer({ model_id: modelId, model_input: [[1]] }, tokenAuth(stranger));
      expect(hidden.status).toBe(400);
      expect(errorOf(hidden.body).detail).toBe(`Model ${modelId} not found.`);

      const { participants, training } = await setupTraining(api, { state: 'O' });
      const [alice, bob] = participants;
      const local = await api
        .knex('models')
        .insert({
          type: 'LOCAL',
          owner_id: alice?.id,
          base_model_id: training.modelId,
          round: 0,
          sample_size: 10,
        })
        .returning('id');
      const localId = (local[0] as { id: string }).id;
      const res = await infer({ model_id: localId, model_input: [[1]] }, tokenAuth(bob ?? owner));
      expect(res.status).toBe(403);
    });
  });

  it('while inference runs on the CNN, the API event loop stalls far less than one run would stall it', async () => {
    const cnn = fixture('cnn-global-r0.onnx');
    const modelId = await uploadModel(api, owner, { file: cnn });
    const batch = 512;
    const data = Float32Array.from({ length: batch * 784 }, (_, i) => Math.sin(i));
    const body = {
      model_id: modelId,
      model_input: Buffer.from(data.buffer).toString('base64'),
      shape: [batch, 1, 28, 28],
    };
    // The baseline: the same run on this thread stalls the loop for its whole duration.
    const session = await ort.InferenceSession.create(cnn, { intraOpNumThreads: 1 });
    const feeds = { [session.inputNames[0] ?? '']: new ort.Tensor('float32', data, [batch, 1, 28, 28]) };
    await session.run(feeds);
    const started = performance.now();
    await session.run(feeds);
    const runMs = performance.now() - started;
    await session.release();
    // Warm the pool (thread start, session) so the measurement covers inference, not one-time loading.
    expect((await infer(body)).status).toBe(200);

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const answers = await Promise.all(Array.from({ length: 4 }, () => infer(body)));
    delay.disable();
    answers.forEach((answer) => expect(answer.status).toBe(200));
    expect(delay.max / 1e6).toBeLessThan(Math.max(runMs / 2, 25));
  }, 120_000);
});
