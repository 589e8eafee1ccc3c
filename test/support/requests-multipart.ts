import { randomBytes } from 'node:crypto';

/**
 * A multipart body byte for byte as Python `requests` (urllib3) encodes `data=fields, files=files` when each file is
 * given as plain bytes: text parts first (a repeated field once per value), then each file part with
 * `filename="<field name>"` and no `Content-Type`. This is what the reference's client library sends.
 */
export function requestsMultipart(
  fields: ReadonlyArray<[string, string]>,
  files: ReadonlyArray<[string, Buffer]> = [],
): { contentType: string; body: Buffer } {
  const boundary = randomBytes(16).toString('hex');
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const [name, data] of files) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n\r\n`),
    );
    parts.push(data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}
