import { z } from 'zod';
import { requestLogger } from '../../middleware/access-log';
import type { BodyLimits } from '../../routing/body';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { refuseMetricFiles } from '../../use-cases/metric-input';
import { metricDisposition, SERVED_METRIC_TYPES, servedMetricType } from '../../use-cases/metric-media';
import { findVisibleMetric, listVisibleMetrics } from '../../use-cases/read-metrics';
import { recordMetrics } from '../../use-cases/record-metrics';
import { errorSchema } from '../common-schemas';
import { presentMetric } from './presenters';
import { MODEL_FORBIDDEN, MODEL_MISSING, MODELS_TAG } from './routes';
import { metricParams, modelCreatedResponse, modelParams } from './schemas';
import { metricResponse, metricsBody } from './upload-schemas';

/** How many binary values at their limit a metrics body may carry, in base64, beside the ordinary fields. */
const METRIC_VALUES_AT_LIMIT = 4;

/** The metrics route's body limit: the configured one, plus room for pictures (base64 takes 4 bytes per 3). */
function metricsBodyBytes(limits: BodyLimits): number {
  return limits.bodyBytes + METRIC_VALUES_AT_LIMIT * 4 * Math.ceil(limits.metricBytes / 3);
}

const VISIBILITY = "A participant sees its own metrics and the server's; the owner and the actor see everyone's.";

/** `GET`/`POST /api/models/{id}/metrics/` and `GET /api/models/{id}/metrics/{metric_id}/`: a model's metrics. */
export function modelMetricRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/models/:id/metrics',
      tag: MODELS_TAG,
      summary: "A model's metrics, in arrival order.",
      description: `${VISIBILITY} A binary value's \`url\` serves it byte for byte.`,
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
      method: 'get',
      path: '/models/:id/metrics/:metric_id',
      tag: MODELS_TAG,
      summary: "Downloads a metric's binary value as stored, as an attachment; a float metric answers as JSON.",
      description:
        `${VISIBILITY} The type is sniffed from the bytes (PNG, JPEG, GIF, WebP; text as the server stored it; ` +
        'anything else `application/octet-stream`), never the one the client sent.',
      params: metricParams,
      responses: [
        {
          status: 200,
          description: 'The bytes with their sniffed type; a float metric as in the listing.',
          binary: true,
          binaryTypes: SERVED_METRIC_TYPES,
          schema: metricResponse,
          headers: {
            'Content-Disposition': {
              description: 'attachment; filename="<key>-<id>.<ext>"',
              schema: { type: 'string' },
            },
            'X-Content-Type-Options': { schema: { type: 'string', const: 'nosniff' } },
          },
        },
        MODEL_FORBIDDEN,
        { status: 404, description: 'No such model or metric, or one the caller may not see.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      const metric = await findVisibleMetric(knex, user, params.id, params.metric_id);
      if (!metric.valueBinary) {
        ctx.body = presentMetric(metric);
        return;
      }
      const type = servedMetricType(metric.contentType, metric.valueBinary);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Content-Disposition', metricDisposition(metric.key, metric.id, type));
      ctx.set('Content-Type', type);
      ctx.body = metric.valueBinary;
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/models/:id/metrics',
      tag: MODELS_TAG,
      summary: 'Reports metrics on a model (form, multipart or JSON); step is the model round.',
      description:
        'Numbers are stored as floats, other strings as text, `{base64, content_type}` as bytes whose type is ' +
        'sniffed from them (`content_type` is ignored); SVG and HTML are refused.',
      params: modelParams,
      body: metricsBody,
      bodyKind: 'data',
      bodyBytes: metricsBodyBytes,
      responses: [
        { status: 201, description: 'Stored.', schema: modelCreatedResponse },
        {
          status: 400,
          description: 'Names or values missing or of different lengths, an SVG or HTML value, or a file part.',
          schema: errorSchema,
        },
        {
          status: 409,
          description: "A participant's test metrics for this round are in already, with other values.",
          schema: errorSchema,
        },
        {
          status: 413,
          description: 'A value beyond the metric limit, or a body beyond its limit.',
          schema: errorSchema,
        },
        MODEL_FORBIDDEN,
        MODEL_MISSING,
      ],
    },
    async (ctx, { user, params, body, files }) => {
      refuseMetricFiles(files);
      const deps = { ...services, logger: requestLogger(ctx, services.logger), maxMetricBytes: rc.limits.metricBytes };
      const model = await recordMetrics(deps, user, params.id, body.metric_names, body.metric_values);
      ctx.status = 201;
      ctx.body = { detail: 'Model Metrics Upload Accepted', model_id: model.id };
    },
  );
}
