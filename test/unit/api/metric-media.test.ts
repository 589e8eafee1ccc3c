import {
  binaryMetricType,
  metricDisposition,
  servedMetricType,
  TEXT_METRIC_TYPE,
} from '../../../src/api/use-cases/metric-media';
import { isAppError } from '../../../src/errors';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

/** What the client is answered for a refused value: status and detail; or the type it is stored with. */
function outcome(run: () => string): { status: number; detail: string } | string {
  try {
    return run();
  } catch (err) {
    return isAppError(err) ? { status: err.status, detail: err.message } : `not an AppError: ${String(err)}`;
  }
}

describe('binaryMetricType', () => {
  it.each([
    ['no type', undefined],
    ['another type', 'application/x-npy'],
    ['a false image type', 'image/gif'],
  ])('when a PNG comes with %s, is image/png', (_what, declared) => {
    expect(binaryMetricType('plot', PNG, declared)).toBe('image/png');
  });

  it('when the bytes are no known image, is application/octet-stream whatever the client says', () => {
    expect(binaryMetricType('plot', Buffer.from([0, 1, 2]), 'image/png')).toBe('application/octet-stream');
  });

  it.each([
    ['SVG bytes', SVG, 'image/png', "Metric value 'plot' is an SVG image"],
    ['HTML bytes', Buffer.from('<!DOCTYPE html><html></html>'), undefined, "Metric value 'plot' is an HTML page"],
    ['a PNG declared as SVG', PNG, 'image/svg+xml', "Metric value 'plot' is declared as image/svg+xml"],
    ['bytes declared as HTML', Buffer.from([0]), 'Text/HTML; charset=utf-8', "'plot' is declared as text/html"],
  ])('when the value is %s, refuses it with 400 saying why', (_what, value, declared, start) => {
    expect(outcome(() => binaryMetricType('plot', value, declared))).toEqual({
      status: 400,
      detail: expect.stringContaining(start) as string,
    });
    expect(outcome(() => binaryMetricType('plot', value, declared))).toMatchObject({
      detail: expect.stringContaining('SVG and HTML can run scripts in a browser') as string,
    });
  });
});

describe('servedMetricType', () => {
  it('when the server stored text, serves text', () => {
    expect(servedMetricType(TEXT_METRIC_TYPE, Buffer.from('<svg>'))).toBe(TEXT_METRIC_TYPE);
  });

  it.each([
    ['an SVG stored with its client type', 'image/svg+xml', SVG, 'application/octet-stream'],
    ['a PNG stored with a wrong client type', 'application/x-npy', PNG, 'image/png'],
    ['text the client called text', 'text/plain', Buffer.from('hi'), 'application/octet-stream'],
  ])('when the row holds %s, serves what the bytes are', (_what, stored, value, served) => {
    expect(servedMetricType(stored, value)).toBe(served);
  });
});

describe('metricDisposition', () => {
  it('names an attachment after the key and id, with the extension of the type, in ASCII and UTF-8', () => {
    expect(metricDisposition('confusion matrix', '42', 'image/png')).toBe(
      `attachment; filename="confusion_matrix-42.png"; filename*=UTF-8''confusion%20matrix-42.png`,
    );
  });

  it.each([
    ['image/jpeg', 'jpg'],
    ['image/gif', 'gif'],
    ['image/webp', 'webp'],
    [TEXT_METRIC_TYPE, 'txt'],
    ['application/octet-stream', 'bin'],
  ])('when the type is %s, the extension is .%s', (type, extension) => {
    expect(metricDisposition('m', '1', type)).toContain(`filename="m-1.${extension}"`);
  });

  it('when the key has quotes, path separators, controls or non-ASCII, neither name can break out or traverse', () => {
    const header = metricDisposition('../Größe "a"\r\n/b\\c\ud800(1)', '7', 'image/png');
    expect(header).toBe(
      `attachment; filename="_._Gr__e__a____b_c__1_-7.png"; ` +
        `filename*=UTF-8''_._Gr%C3%B6%C3%9Fe%20_a____b_c_%281%29-7.png`,
    );
  });
});
