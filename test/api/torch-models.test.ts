import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { z } from 'zod';
import { modelCreatedResponse } from '../../src/api/routes/models/schemas';
import { trainingCreatedResponse } from '../../src/api/routes/trainings/schemas';
import type { User } from '../../src/db/models/user';
import { rewriteOntoGlobal } from '../../src/models/write';
import { readTorchArchive } from '../../src/torch/archive';
import {
  blobDigests,
  buildApiUser,
  createTestApi,
  errorOf,
  parseBody,
  rowCounts,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';
import { postTraining, uploadDataset } from '../fixtures/api-datasets';
import { trainingInUpdateRound, uploadModel } from '../fixtures/api-models';
import { FIXTURES, fixture } from '../fixtures/onnx-edge-cases';
import { getBytes } from '../support/training-scenario';

/** A PyTorch fixture's bytes (`/work/shared/fixtures/torch/`). */
const torchFixture = (name: string): Buffer => fixture(`torch/${name}`);

const readme = z
  .object({ state_keys: z.record(z.enum(['mlp', 'cnn']), z.record(z.string(), z.array(z.number()))) })
  .parse(JSON.parse(readFileSync(path.join(FIXTURES, 'torch/README.json'), 'utf8')));

const metadataBody = z.object({
  id: z.string(),
  format: z.string(),
  stats: z.object({
    total_params: z.number(),
    summary_list: z.array(z.object({ name: z.string(), shape: z.array(z.number()), num_params: z.number() })),
  }),
});

const HOW_TO_SAVE = 'torch.jit.save(torch.jit.script(model))';

/** PyTorch archives through the HTTP API: stored, described and served as uploaded; refused with a reason; ONNX-only uses refused. */
describe('PyTorch models through the API', () => {
  let api: TestApi;
  let owner: User;

  beforeAll(async () => {
    api = await createTestApi();
    owner = await buildApiUser(api.knex);
  });

  afterAll(async () => {
    await api.close();
  });

  async function snapshot(): Promise<[Record<string, number>, string[]]> {
    return [await rowCounts(api.knex), await blobDigests(api.blobs)];
  }

  /** POST /api/models/ of `file` as a global model of `owner` (the raw response, whatever the status). */
  function postModel(file: Buffer, preprocessing?: Buffer): request.Test {
    let req = request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', tokenAuth(owner))
      .field('name', 'torch')
      .field('description', 'a PyTorch archive')
      .field('input_shape', 'None')
      .field('input_shape', '1')
      .field('input_shape', '28')
      .field('input_shape', '28')
      .attach('model_file', file, 'model.pt');
    if (preprocessing) {
      req = req.attach('model_preprocessing_file', preprocessing, 'pre.pt');
    }
    return req;
  }

  describe('a global PyTorch model', () => {
    it.each([
      ['mlp-global-r0.jit.pt', 'mlp', 'torchscript'],
      ['cnn-global-r0.state.pt', 'cnn', 'torch_state_dict'],
    ] as const)(
      'when %s is uploaded, answers 201; its metadata shows format and the README tensors; it downloads byte for byte',
      async (name, model, format) => {
        const file = torchFixture(name);
        const res = await postModel(file);
        expect(res.status).toBe(201);
        const id = parseBody(modelCreatedResponse, res.body).model_id;

        const meta = await request(api.app.callback())
          .get(`/api/models/${id}/metadata/`)
          .set('Authorization', tokenAuth(owner));
        expect(meta.status).toBe(200);
        const body = parseBody(metadataBody, meta.body);
        expect(body).toMatchObject({ id, format });
        const expected = readme.state_keys[model] ?? {};
        const listed = body.stats.summary_list;
        expect(listed.map((entry) => entry.name).sort()).toEqual(Object.keys(expected).sort());
        expect(Object.fromEntries(listed.map((entry) => [entry.name, entry.shape]))).toEqual(expected);
        const elements = Object.values(expected).map((shape) => shape.reduce((a, b) => a * b, 1));
        expect(elements.length).toBeGreaterThan(0);
        expect(body.stats.total_params).toBe(elements.reduce((a, b) => a + b, 0));

        const download = await getBytes(api.app.callback(), tokenAuth(owner), `/api/models/${id}/`);
        expect(download.status).toBe(200);
        expect(download.headers['content-type']).toBe('application/octet-stream');
        expect(download.headers['content-disposition']).toBe(`filename="model-${id}.pt"`);
        expect(Buffer.compare(download.body as Buffer, file)).toBe(0);
      },
    );
  });

  describe('a refused PyTorch archive', () => {
    it.each([
      ['refused-code-on-load.pt', 'torch_pickle_global', 'posix.system'],
      ['refused-legacy-format.pt', 'torch_legacy_format', 'legacy'],
      ['refused-whole-module.pt', 'torch_whole_module', 'whole model'],
    ])(
      'when %s is uploaded as a global model, answers 400 %s, says how to save instead, stores nothing',
      async (name, code, why) => {
        const before = await snapshot();
        const res = await postModel(torchFixture(name));
        expect(res.status).toBe(400);
        const error = errorOf(res.body);
        expect(error.details).toMatchObject({ reason: code });
        expect(error.detail).toMatch(/^Invalid model file: /);
        expect(error.detail).toContain(why);
        expect(error.detail).toContain(HOW_TO_SAVE);
        expect(await snapshot()).toEqual(before);
      },
    );

    it('when one byte inside a storage of a state dict is flipped, answers 400 torch_zip_crc_mismatch and stores nothing', async () => {
      const original = torchFixture('mlp-global-r0.state.pt');
      const storage = [...readTorchArchive(original).storages.values()][0];
      expect(storage).toBeDefined();
      const entry = storage!.entry;
      expect(entry.size).toBeGreaterThan(8);
      const corrupted = Buffer.from(original);
      // The low byte of a float32 in the middle of the storage: the value stays finite, only the CRC-32 tells.
      const at = entry.dataOffset + Math.floor(entry.size / 8) * 4;
      corrupted[at] = (corrupted[at] ?? 0) ^ 0x01;
      expect(Buffer.compare(corrupted, original)).not.toBe(0);
      const before = await snapshot();
      const res = await postModel(corrupted);
      expect(res.status).toBe(400);
      const error = errorOf(res.body);
      expect(error.details).toMatchObject({ reason: 'torch_zip_crc_mismatch' });
      expect(error.detail).toMatch(/^Invalid model file: /);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('what needs ONNX', () => {
    function expectOnnxRequired(res: request.Response): void {
      expect(res.status).toBe(400);
      const error = errorOf(res.body);
      expect(error.details).toMatchObject({ reason: 'onnx_required' });
      expect(error.detail).toContain('torch.onnx.export');
    }

    it('when inference is asked of a PyTorch model, answers 400 onnx_required', async () => {
      const modelId = await uploadModel(api, owner, { file: torchFixture('mlp-global-r0.jit.pt') });
      const res = await request(api.app.callback())
        .post('/api/inference/')
        .set('Authorization', tokenAuth(owner))
        .send({ model_id: modelId, model_input: [Array.from({ length: 28 }, () => new Array<number>(28).fill(0))] });
      expectOnnxRequired(res);
    });

    it('when an ONNX model comes with a PyTorch preprocessing file, answers 400 onnx_required and stores nothing', async () => {
      const before = await snapshot();
      const res = await postModel(fixture('mlp-global-r0.onnx'), torchFixture('mlp-global-r0.jit.pt'));
      expectOnnxRequired(res);
      expect(await snapshot()).toEqual(before);
    });

    it('when a training of a PyTorch model names an evaluation dataset, answers 400 onnx_required; without one, 201', async () => {
      const actor = await buildApiUser(api.knex);
      const participant = await buildApiUser(api.knex, { client: true });
      const modelId = await uploadModel(api, actor, { file: torchFixture('mlp-global-r0.state.pt') });
      const dataset = await uploadDataset(api, actor);
      const before = await snapshot();
      const refused = await postTraining(api, actor, modelId, { evaluation_dataset: dataset.id }, [participant]);
      expectOnnxRequired(refused);
      expect(await snapshot()).toEqual(before);
      const created = await postTraining(api, actor, modelId, {}, [participant]);
      expect(created.status).toBe(201);
      const trainingId = parseBody(trainingCreatedResponse, created.body).training_id;
      expect(await api.knex('trainings').where({ id: trainingId }).first()).toMatchObject({ modelId });
    });
  });

  describe('updates of a PyTorch state dict in its update round', () => {
    it('refuses a wrong shape and the other archive kind, stores nothing; stores a good update rewritten onto the global archive', async () => {
      const globalBytes = torchFixture('mlp-global-r0.state.pt');
      const running = await trainingInUpdateRound(api, { file: globalBytes });
      try {
        const participant = running.participants[0]!;
        const postUpdate = (file: Buffer) =>
          request(api.app.callback())
            .post(`/api/models/${running.modelId}/`)
            .set('Authorization', tokenAuth(participant))
            .field('round', '0')
            .field('sample_size', '3000')
            .attach('model_file', file, 'update.pt');

        const before = await snapshot();
        const wrongShape = await postUpdate(torchFixture('refused-update-wrong-shape.state.pt'));
        expect(wrongShape.status).toBe(400);
        const shapeError = errorOf(wrongShape.body);
        expect(shapeError.details).toMatchObject({ reason: 'model_manifest_mismatch', tensor: '4.bias' });
        expect(shapeError.detail).toMatch(/^Invalid model file: /);
        expect(shapeError.detail).toContain('"4.bias"');
        expect(await snapshot()).toEqual(before);

        const otherKind = await postUpdate(torchFixture('mlp-client-a.jit.pt'));
        expect(otherKind.status).toBe(400);
        expect(errorOf(otherKind.body).details).toMatchObject({ reason: 'model_graph_mismatch' });
        expect(await snapshot()).toEqual(before);

        const clientBytes = torchFixture('mlp-client-a.state.pt');
        const accepted = await postUpdate(clientBytes);
        expect(accepted.body).toEqual({ detail: 'Model Update Accepted' });
        expect(accepted.status).toBe(201);

        const rows = await api.knex('models').where({ base_model_id: running.modelId }).select('id', 'format');
        expect(rows).toHaveLength(1);
        const local = z.object({ id: z.string(), format: z.string() }).parse(rows[0]);
        expect(local.format).toBe('torch_state_dict');
        const download = await getBytes(api.app.callback(), tokenAuth(participant), `/api/models/${local.id}/`);
        expect(download.status).toBe(200);
        const stored = download.body as Buffer;
        expect(Buffer.compare(stored, Buffer.from(rewriteOntoGlobal(globalBytes, clientBytes)))).toBe(0);
        expect(Buffer.compare(stored, clientBytes)).not.toBe(0);
        const meta = await request(api.app.callback())
          .get(`/api/models/${local.id}/metadata/`)
          .set('Authorization', tokenAuth(participant));
        expect(meta.status).toBe(200);
        expect(meta.body).toMatchObject({ format: 'torch_state_dict' });
      } finally {
        await running.stop();
      }
    });
  });
});
