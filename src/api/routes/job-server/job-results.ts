import type { MetricValueInput } from '../../use-cases/metric-input';
import type { JobResults } from '../../use-cases/jobs';
import type { JobDetailsRequest } from './schemas';

/** The label lists `update_job_details` sends, by the metric name each is stored under. */
const LABELS = {
  'labels/training': 'labels_training',
  'labels/test': 'labels_test',
  'labels/validation': 'labels_validation',
} as const;

/**
 * `update_job_details`'s fields as metrics: `score_test`/`score_validation` as `test/score`/`validation/score`, every
 * extra score as `test/<name>`/`validation/<name>`, each label list's JSON as bytes, the message as text.
 */
export function jobResultsOf(body: JobDetailsRequest): JobResults {
  const metrics: Array<[string, MetricValueInput]> = [];
  const addScores = (set: 'test' | 'validation', score?: number, extra?: Record<string, number>): void => {
    if (score !== undefined) {
      metrics.push([`${set}/score`, score]);
    }
    for (const [name, value] of Object.entries(extra ?? {})) {
      metrics.push([`${set}/${name}`, value]);
    }
  };
  addScores('test', body.score_test, body.extra_scores_test);
  addScores('validation', body.score_validation, body.extra_scores_validation);
  for (const [name, field] of Object.entries(LABELS)) {
    const labels = body[field];
    if (labels !== undefined) {
      metrics.push([name, { base64: Buffer.from(labels, 'utf8').toString('base64') }]);
    }
  }
  if (body.message !== undefined && body.message !== '') {
    metrics.push(['message', body.message]);
  }
  return {
    names: metrics.map(([name]) => name),
    values: metrics.map(([, value]) => value),
    success: body.success ?? true,
    message: body.message ?? '',
    testMetrics: true,
  };
}
