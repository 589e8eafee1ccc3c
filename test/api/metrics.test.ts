import Koa from 'koa';
import request from 'supertest';
import { errorHandler } from '../../src/api/middleware/error-handler';
import { httpMetrics } from '../../src/api/middleware/http-metrics';
import { unavailable } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { startMetricsServer } from '../../src/metrics/server';
import { buildApiUser, createTestApi, tokenAuth, type TestApi } from '../fixtures/api-app';
import { uploadModel } from '../fixtures/api-models';
import { fixture } from '../fixtures/onnx-edge-cases';
import { connectTestTemporal, type TestTemporal } from '../support/temporal';
import { trainToEnd } from '../support/training-scenario';

/** The value of one sample line (`name{labels} value`), or undefined when there is none. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('metrics', () => {
  let api: TestApi;
  let temporal: TestTemporal;

  beforeAll(async () => {
    api = await createTestApi({ metricsOnApi: true });
    temporal = await connectTestTemporal();
  });

  afterAll(async () => {
    await temporal.close();
    await api.close();
  });

  it('when requests are answered, counts them by route pattern and status, and an accepted upload with its bytes', async () => {
    const owner = await buildApiUser(api.knex);
    const modelId = await uploadModel(api, owner);
    await request(api.app.callback()).get(`/api/models/${modelId}/metadata/`).set('Authorization', tokenAuth(owner));
    await request(api.app.callback()).get('/no/such/path');
    // A refused upload counts as a request, not as an upload.
    await request(api.app.callback())
      .post('/api/models/')
      .set('Authorization', tokenAuth(owner))
      .attach('model_file', fixture('mlp-global-r0.onnx'), 'm.onnx');

    const scraped = await request(api.app.callback()).get('/metrics');
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = scraped.text;
    expect(sample(text, 'roundhouse_http_requests_total{method="POST",route="/api/models",status="201"}')).toBe(1);
    expect(sample(text, 'roundhouse_http_requests_total{method="POST",route="/api/models",status="400"}')).toBe(1);
    expect(
      sample(text, 'roundhouse_http_requests_total{method="GET",route="/api/models/:id/metadata",status="200"}'),
    ).toBe(1);
    expect(sample(text, 'roundhouse_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(sample(text, 'roundhouse_uploads_total{route="/api/models"}')).toBe(1);
    expect(sample(text, 'roundhouse_upload_bytes_total{route="/api/models"}')).toBe(
      fixture('mlp-global-r0.onnx').length,
    );
    expect(sample(text, 'roundhouse_http_request_duration_seconds_count{method="POST",route="/api/models"}')).toBe(2);
    // No label carries an id.
    expect(text).not.toContain(modelId);
  });

  it('when a request is answered 503, counts it by its reason', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(httpMetrics());
    app.use(errorHandler(createLogger('error')));
    app.use(() => {
      throw unavailable('The training cannot take this upload right now.', 5, { reason: 'run_unresponsive' });
    });
    expect((await request(app.callback()).get('/x')).status).toBe(503);
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, logger: createLogger('error') });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(sample(text, 'roundhouse_http_unavailable_total{reason="run_unresponsive"}')).toBe(1);
      expect(sample(text, 'roundhouse_http_requests_total{method="GET",route="unmatched",status="503"}')).toBe(1);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('when a training runs, counts its aggregations with their bytes and its notifications by outcome', async () => {
    const { close } = await trainToEnd(temporal, 'metrics', 2, {});
    await close();
    const text = (await request(api.app.callback()).get('/metrics')).text;
    expect(sample(text, 'roundhouse_aggregation_duration_seconds_count{method="FedAvg",outcome="ok"}')).toBe(2);
    // Three updates of the MLP fixture per round.
    expect(sample(text, 'roundhouse_aggregation_bytes_total{method="FedAvg"}')).toBe(
      2 * 3 * fixture('mlp-global-r0.onnx').length,
    );
    // Each of three clients: TRAINING_START, two round starts, two test rounds, TRAINING_FINISHED; and the actor's.
    expect(sample(text, 'roundhouse_notifications_total{type="UPDATE_ROUND_START",outcome="delivered"}')).toBe(6);
    expect(
      sample(text, 'roundhouse_notifications_total{type="TRAINING_FINISHED",outcome="delivered"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'roundhouse_long_poll_waiters')).toBe(0);
    expect(sample(text, 'roundhouse_inference_queue_depth')).toBe(0);
  }, 120_000);
});
