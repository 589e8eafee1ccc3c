import { jobResultsOf } from '../../../src/api/routes/job-server/job-results';
import { jobDetailsBody, jobPictureBody } from '../../../src/api/routes/job-server/schemas';
import { sameSitePath } from '../../../src/api/routes/job-server/session-routes';

/** The form `update_job_details` posts for `job(1, 0.9, 0.8, [1], [2], [3], None, {"f1": 0.5}, None)`. */
const POSTED = {
  api: '1',
  score_test: '0.9',
  score_validation: '0.8',
  labels_training: '[1]',
  labels_test: '[2]',
  labels_validation: '[3]',
  extra_scores_test: 'null',
  extra_scores_validation: '{"f1": 0.5}',
  message: 'None',
  success: 'True',
};

describe('the seed-004 requests', () => {
  it("when the client writes None or null, reads the field as absent, and maps the rest to the job's metrics", () => {
    const body = jobDetailsBody.parse(POSTED);
    expect(body).toMatchObject({ extra_scores_test: undefined, message: undefined, success: true });
    const results = jobResultsOf(body);
    expect(results.names).toEqual([
      'test/score',
      'validation/score',
      'validation/f1',
      'labels/training',
      'labels/test',
      'labels/validation',
    ]);
    expect(results.values.slice(0, 3)).toEqual([0.9, 0.8, 0.5]);
    expect(results.values[3]).toEqual({ base64: Buffer.from('[1]').toString('base64') });
    expect(results).toMatchObject({ success: true, message: '' });
  });

  it('when success is False, keeps the message to decline with', () => {
    const results = jobResultsOf(jobDetailsBody.parse({ ...POSTED, success: 'False', message: 'no data' }));
    expect(results).toMatchObject({ success: false, message: 'no data' });
  });

  it('refuses a score that is no number, scores that are no JSON object of numbers, and labels that are no JSON', () => {
    for (const bad of [{ score_test: 'high' }, { extra_scores_test: '[1]' }, { labels_test: '[1' }, { other: 'x' }]) {
      expect(jobDetailsBody.safeParse({ ...POSTED, ...bad }).success).toBe(false);
    }
  });

  it('takes a picture whose file name fits a metric name, and refuses one that does not', () => {
    expect(jobPictureBody.safeParse({ filename: '/tmp/plots/roc.png', data: 'iVBORw0K' }).success).toBe(true);
    expect(jobPictureBody.safeParse({ filename: `/tmp/${'x'.repeat(57)}`, data: '' }).success).toBe(false);
    expect(jobPictureBody.safeParse({ filename: '/', data: '' }).success).toBe(false);
    expect(jobPictureBody.safeParse({ filename: 'a.png', data: 'not base64!' }).success).toBe(false);
  });

  it('redirects a login to a path of this site only', () => {
    expect(sameSitePath('/ok.json')).toBe('/ok.json');
    expect(sameSitePath('/actions/ping/?x=1')).toBe('/actions/ping/?x=1');
    expect(sameSitePath(`/${'x'.repeat(2047)}`)).toHaveLength(2048);
    for (const away of [
      undefined,
      '',
      'ok.json',
      '//evil.example/',
      '/\\evil.example',
      'https://evil.example/',
      '/a\nb',
      `/${'x'.repeat(2048)}`,
    ]) {
      expect(sameSitePath(away)).toBe('/ok.json');
    }
  });
});
