import request from 'supertest';
import { createLogger } from '../../src/logger';
import { createTestApi, tokenAuth, type TestApi } from '../fixtures/api-app';
import { trainingInUpdateRound } from '../fixtures/api-models';
import { fixture } from '../fixtures/onnx-edge-cases';
import { captureLog, type LogLine } from '../support/log-capture';

describe('request logging', () => {
  const log = captureLog();
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ logger: createLogger('info', {}, log.destination) });
  });

  afterAll(async () => {
    await api.close();
  });

  /** The lines of one request, once its access line (written when the response closes) is there. */
  async function linesOf(requestId: string): Promise<LogLine[]> {
    await log.next((line) => line.requestId === requestId && line.message === 'request completed', 5_000);
    return log.lines().filter((line) => line.requestId === requestId);
  }

  it('when a participant uploads, logs the upload under its training and client, then one access line with the route pattern, status, duration and caller', async () => {
    const { participants, modelId, training, stop } = await trainingInUpdateRound(api);
    const client = participants[0]!;
    const res = await request(api.app.callback())
      .post(`/api/models/${modelId}/`)
      .set('Authorization', tokenAuth(client))
      .field('round', '0')
      .field('sample_size', '3000')
      .attach('model_file', fixture('mlp-client-a.onnx'), 'update.onnx');
    await stop();
    expect(res.status).toBe(201);
    const requestId = String(res.headers['x-request-id']);
    const lines = await linesOf(requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'upload submitted',
        trainingId: training.id,
        clientId: client.id,
        round: 0,
        phase: 'update',
      }),
      expect.objectContaining({
        level: 'info',
        message: 'request completed',
        method: 'POST',
        route: '/api/models/:id',
        status: 201,
        caller: client.id,
      }),
    ]);
    expect(lines[1]?.durationMs).toEqual(expect.any(Number));
    expect(log.text()).not.toContain(client.token);
  });

  it('when no route matches, logs the access line without a route and with an anonymous caller', async () => {
    const token = 'ab'.repeat(20);
    const res = await request(api.app.callback())
      .get('/api/nowhere/42/?secret=1')
      .set('Authorization', `Token ${token}`);
    expect(res.status).toBe(404);
    const lines = await linesOf(String(res.headers['x-request-id']));
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'request completed',
        method: 'GET',
        route: null,
        status: 404,
        caller: 'anonymous',
      }),
    ]);
    expect(log.text()).not.toContain(token);
    expect(log.text()).not.toContain('nowhere');
  });
});
