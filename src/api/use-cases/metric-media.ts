import { type AppError, invalidInput } from '../../errors';
import { type ActiveMarkup, sniffImage, sniffMarkup, type SniffedImage } from '../../media-sniff';

/*
 * The media types of metric values (docs/api.md#metrics). A binary value's type comes from its bytes, never from the
 * client, and a browser never gets one it would render as a page: SVG and HTML are refused, and every value is served
 * as an attachment with `X-Content-Type-Options: nosniff`.
 */

/** The type of a metric sent as text (a string that is not a number); the server sets it. */
export const TEXT_METRIC_TYPE = 'text/plain; charset=utf-8';

const OCTET_STREAM = 'application/octet-stream';

/**
 * The content type of a binary metric value, from its bytes alone: PNG, JPEG, GIF or WebP by signature, anything else
 * `application/octet-stream`. `declared` (the client's type) only decides a refusal.
 * @throws 400 for SVG or HTML, found in the bytes or declared by the client: a browser would run their scripts.
 */
export function binaryMetricType(key: string, bytes: Uint8Array, declared?: string): string {
  const image = sniffImage(bytes);
  const markup = image ? undefined : sniffMarkup(bytes);
  if (markup) {
    throw activeContent(`Metric value '${key}' is ${MARKUP_NAMES[markup]}`);
  }
  const essence = declared?.split(';')[0]?.trim().toLowerCase();
  if (essence && ACTIVE_TYPES.has(essence)) {
    throw activeContent(`Metric value '${key}' is declared as ${essence}`);
  }
  return imageTypeOr(image);
}

/**
 * The type a stored metric value is served with: text stays text; other bytes are sniffed again, so that rows stored
 * before sniffing, with the client's type, are served as what their bytes are.
 */
export function servedMetricType(stored: string | null, bytes: Uint8Array): string {
  return stored === TEXT_METRIC_TYPE ? TEXT_METRIC_TYPE : imageTypeOr(sniffImage(bytes));
}

/**
 * The RFC 6266 `Content-Disposition` of a metric value's download: an attachment named `<key>-<id>.<extension>` with
 * the extension of its served `type` (.png, .jpg, .gif, .webp, .txt or .bin), in ASCII as `filename` and in UTF-8 as
 * `filename*`. Path separators, control and reserved characters of the key become `_`.
 */
export function metricDisposition(key: string, id: string, type: string): string {
  const name = `${key.replace(UNSAFE_IN_NAME, '_').replace(/^\./, '_')}-${id}.${EXTENSIONS.get(type) ?? 'bin'}`;
  const ascii = name.replace(/[^\w.-]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(name)}`;
}

const IMAGES: Readonly<Record<SniffedImage, { readonly type: string; readonly extension: string }>> = {
  png: { type: 'image/png', extension: 'png' },
  jpeg: { type: 'image/jpeg', extension: 'jpg' },
  gif: { type: 'image/gif', extension: 'gif' },
  webp: { type: 'image/webp', extension: 'webp' },
};

const EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ...Object.values(IMAGES).map(({ type, extension }): [string, string] => [type, extension]),
  [TEXT_METRIC_TYPE, 'txt'],
]);

/** Every type a metric value is served with. */
export const SERVED_METRIC_TYPES: readonly string[] = [...EXTENSIONS.keys(), OCTET_STREAM];

const MARKUP_NAMES: Readonly<Record<ActiveMarkup, string>> = { svg: 'an SVG image', html: 'an HTML page' };

/** Declared types a browser renders as a page, with scripts: refused whatever the bytes are. */
const ACTIVE_TYPES: ReadonlySet<string> = new Set(['image/svg+xml', 'text/html', 'application/xhtml+xml']);

/** Characters no file name should carry: controls, lone surrogates, line separators, path separators, reserved. */
const UNSAFE_IN_NAME = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}/\\:*?"<>|]/gu;

function imageTypeOr(image: SniffedImage | undefined): string {
  return image ? IMAGES[image].type : OCTET_STREAM;
}

function activeContent(what: string): AppError {
  const message = `${what}, which is refused: SVG and HTML can run scripts in a browser. Send pictures as PNG, JPEG, GIF or WebP.`;
  return invalidInput(message, { metric_values: [message] });
}

/** RFC 5987 percent-encoding: `encodeURIComponent` leaves `'()*` as they are, which `attr-char` does not allow. */
function rfc5987(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
