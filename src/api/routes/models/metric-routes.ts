import { z } from 'zod';
import type { Metric } from '../../../db/models/metric';
import { requestLogger } from '../../middleware/access-log';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { listVisibleMetrics } from '../../use-cases/read-metrics';
import { recordMetrics } from '../../use-cases/record-metrics';
import { errorSchema } from '../common-schemas';
import { MODEL_FORBIDDEN, MODEL_MISSING, MODELS_TAG } from './routes';
import { modelCreatedResponse, modelParams } from './schemas';
import { metricResponse, metricsBody, type MetricResponse } from './upload-schemas';

/** `GET`/`POST /api/models/{id}/metrics/`: a model's metrics, for those who may read the model. */
export function modelMetricRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/metrics',
      tag: MODELS_TAG,
      summary: "A model's metrics, in arrival order.",
      description: "A participant sees its own metrics and the server's; the owner and the actor see everyone's.",
      params: modelParams,
      responses: [
        { status: 200, description: 'The metrics.', schema: z.array(metricResponse) },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      ctx.body = (await listVisibleMetrics(knex, user, params.id)).map(presentMetric);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models/:id/metrics',
      tag: MODELS_TAG,
      summary: 'Reports metrics on a model (form, multipart or JSON); step is the model round.',
      description: 'Numbers are stored as floats; other strings as text, `{base64, content_type}` as bytes.',
      params: modelParams,
      body: metricsBody,
      bodyKind: 'data',
      responses: [
        { status: 201, description: 'Stored.', schema: modelCreatedResponse },
        { status: 400, description: 'Names or values missing, or of different lengths.', schema: errorSchema },
        {
          status: 409,
          description: "A participant's test metrics for this round are in already, with other values.",
          schema: errorSchema,
        },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params, body }) => {
      const deps = { ...services, logger: requestLogger(ctx, services.logger) };
      const model = await recordMetrics(deps, user, params.id, body.metric_names, body.metric_values);
      ctx.status = 201;
      ctx.body = { detail: 'Model Metrics Upload Accepted', model_id: model.id };
    },
  );
}

function presentMetric(metric: Metric): MetricResponse {
  return {
    id: Number(metric.id),
    identifier: metric.identifier,
    key: metric.key,
    value_float: metric.valueFloat,
    value_binary: metric.valueBinary ? metric.valueBinary.toString('base64') : null,
    content_type: metric.contentType,
    step: metric.step,
    model: metric.modelId,
    reporter: metric.reporterId,
  };
}
