import path from 'node:path';
import { requestLogger } from '../../middleware/access-log';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { findJob, oldestJobId, recordJobResults, roundIdOfJob } from '../../use-cases/jobs';
import { downloadModel } from '../../use-cases/model-download';
import { detailSchema, errorSchema } from '../common-schemas';
import { sendModel } from '../models/routes';
import { presentJobParams } from './presenters';
import {
  emptyBody,
  integerIdParams,
  jobDetailsBody,
  jobParamsResponse,
  jobPictureBody,
  modelIdParams,
  pingResponse,
} from './schemas';
import { JOB_SERVER_TAG } from './tag';
import { jobResultsOf } from './job-results';

const JOB_MISSING = { status: 404, description: 'No job of the caller with this id.', schema: errorSchema };
const RESULTS_REFUSED = [
  { status: 400, description: 'A malformed field, or an SVG or HTML picture.', schema: errorSchema },
  JOB_MISSING,
  {
    status: 409,
    description: "The job's round is over, or its test metrics are in with other values.",
    schema: errorSchema,
  },
  { status: 413, description: 'A value beyond the metric limit, or a body beyond its limit.', schema: errorSchema },
];

/** `/actions/ping/`, `get_job_params/`, `get_model/`, `update_job_details/` and `add_job_picture/`: jobs are tasks. */
export function jobServerJobRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  const common = { method: 'post', root: true, tag: JOB_SERVER_TAG, bodyKind: 'data' } as const;
  const metricDeps = (ctx: Parameters<typeof requestLogger>[0]) => ({
    ...services,
    logger: requestLogger(ctx, services.logger),
    maxMetricBytes: rc.limits.metricBytes,
  });
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/ping/',
      summary: "The id of the caller's oldest pending task (work only, never a message), or null.",
      body: emptyBody,
      responses: [{ status: 200, description: 'A job id, or null.', schema: pingResponse }],
    },
    async (ctx, { user }) => {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(await oldestJobId(knex, user));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_job_params/:id.json/',
      summary: 'Everything a worker needs for one of its jobs: model, upload path, round, deadline, options, dataset.',
      params: integerIdParams,
      body: emptyBody,
      responses: [{ status: 200, description: 'The job.', schema: jobParamsResponse }, JOB_MISSING],
    },
    async (ctx, { user, params }) => {
      const job = await findJob(knex, user, params.id);
      ctx.body = presentJobParams(job, await roundIdOfJob(knex, job));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/get_model/:id/',
      summary: "A model's latest ONNX bytes, as `GET /api/models/{id}/` answers them, to a POST.",
      params: modelIdParams,
      body: emptyBody,
      responses: [
        { status: 200, description: 'The model bytes.', binary: true },
        { status: 403, description: 'Related to the model, but not allowed.', schema: errorSchema },
        { status: 404, description: 'No such model, or the caller has no relation to it.', schema: errorSchema },
      ],
    },
    async (ctx, { user, params }) => {
      sendModel(ctx, await downloadModel(services, user, params.id));
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/update_job_details/:id.json/',
      summary: "Records a job's results for its round; `success=False` declines the job.",
      description:
        'Scores are float metrics `test/<name>` and `validation/<name>` (`score_*` as `test/score`, ' +
        '`validation/score`), the label lists JSON binary metrics `labels/training`, `labels/test`, ' +
        '`labels/validation`, `message` a text metric. A pending test-round job takes them as its test metrics; ' +
        "otherwise they are accepted while the job's round is current, even after its upload closed the job. " +
        '`None` and `null` are absent fields.',
      params: integerIdParams,
      body: jobDetailsBody,
      responses: [{ status: 200, description: 'Recorded.', schema: detailSchema }, ...RESULTS_REFUSED],
    },
    async (ctx, { user, params, body }) => {
      await recordJobResults(metricDeps(ctx), user, params.id, jobResultsOf(body));
      ctx.body = { detail: body.success === false ? 'Job declined.' : 'Job details recorded.' };
    },
  );
  authedRoute(
    rc,
    {
      ...common,
      path: '/actions/add_job_picture/:id.json/',
      summary: "Records a picture of a job's results as a binary metric `picture/<file name>`.",
      description:
        'The type is sniffed from the bytes (SVG and HTML are refused); only the base name of `filename` is kept. ' +
        "Recorded while the job's round is current; never as a test-round job's test metrics. The body may be as " +
        'large as an upload; the picture itself is held to the metric limit.',
      params: integerIdParams,
      body: jobPictureBody,
      bodyBytes: (limits) => limits.uploadBytes,
      responses: [{ status: 200, description: 'Recorded.', schema: detailSchema }, ...RESULTS_REFUSED],
    },
    async (ctx, { user, params, body }) => {
      const results = {
        names: [`picture/${path.basename(body.filename)}`],
        values: [{ base64: body.data }],
        success: true,
        message: '',
        testMetrics: false,
      };
      await recordJobResults(metricDeps(ctx), user, params.id, results);
      ctx.body = { detail: 'Job picture recorded.' };
    },
  );
}
