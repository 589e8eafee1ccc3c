import { pairMetrics, refuseMetricFiles } from '../../../src/api/use-cases/metric-input';
import { TEXT_METRIC_TYPE } from '../../../src/api/use-cases/metric-media';
import { isAppError } from '../../../src/errors';

const rules = { required: true, maxValueBytes: 8 };

/** What the client is answered for refused metrics (status and detail), or 'accepted'. */
function refusal(run: () => unknown): { status: number; detail: string } | string {
  try {
    run();
  } catch (err) {
    return isAppError(err) ? { status: err.status, detail: err.message } : `not an AppError: ${String(err)}`;
  }
  return 'accepted';
}

describe('pairMetrics', () => {
  it('stores numbers as floats, other text as server-typed text and base64 as bytes of their sniffed type', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const metrics = pairMetrics(
      ['loss', 'note', 'plot'],
      [' 0.5 ', 'ok', { base64: png.toString('base64'), content_type: 'text/plain' }],
      rules,
    );
    expect(metrics).toEqual([
      { key: 'loss', value: { kind: 'float', value: 0.5 } },
      { key: 'note', value: { kind: 'binary', value: Buffer.from('ok'), contentType: TEXT_METRIC_TYPE } },
      { key: 'plot', value: { kind: 'binary', value: png, contentType: 'image/png' } },
    ]);
  });

  it.each([
    ['binary', { base64: Buffer.alloc(9).toString('base64') }],
    ['text', 'nine char'],
  ])('when a %s value is beyond the metric limit, answers 413 naming the value and the limit', (_what, value) => {
    expect(refusal(() => pairMetrics(['plot'], [value], rules))).toEqual({
      status: 413,
      detail: "Metric value 'plot' too large: the limit is 8 bytes.",
    });
  });

  it('when a value is exactly at the limit, takes it', () => {
    expect(refusal(() => pairMetrics(['plot'], [{ base64: Buffer.alloc(8).toString('base64') }], rules))).toBe(
      'accepted',
    );
  });
});

describe('refuseMetricFiles', () => {
  it('when metric_values came as a file part, answers 400 saying how to send a binary value', () => {
    const files = new Map([
      ['metric_values', [{ field: 'metric_values', path: '/tmp/x', size: 1, filename: 'a.png' }]],
    ]);
    expect(refusal(() => refuseMetricFiles(files))).toEqual({
      status: 400,
      detail: expect.stringContaining('metric_values cannot be a file part') as string,
    });
    expect(refusal(() => refuseMetricFiles(new Map()))).toBe('accepted');
  });
});
