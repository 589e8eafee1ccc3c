import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** A file part's content: bytes in memory, or a file streamed from disk. */
export type FileContent = Uint8Array | { readonly path: string };

/** One multipart body: text fields (a repeated field once per value) and file parts. */
export interface MultipartInput {
  readonly fields?: ReadonlyArray<readonly [string, string | number | boolean]>;
  readonly files?: ReadonlyArray<{ readonly field: string; readonly content: FileContent; readonly filename?: string }>;
}

/** A multipart body ready to send: its media type, its exact length, and a fresh stream of its bytes per attempt. */
export interface MultipartBody {
  readonly contentType: string;
  readonly length: number;
  open(onBytes?: (sent: number) => void): AsyncIterable<Uint8Array>;
}

const CHUNK = 1 << 20;

/**
 * Encodes fields and files as `multipart/form-data`, streaming files from disk (never held whole), with a known
 * length so the request carries `Content-Length`. `open` may be called again for a retry.
 */
export async function multipartBody(input: MultipartInput): Promise<MultipartBody> {
  const boundary = `roundhouse-${randomBytes(12).toString('hex')}`;
  const pieces: Array<Uint8Array | { path: string; size: number }> = [];
  for (const [name, value] of input.fields ?? []) {
    pieces.push(
      text(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${String(value)}\r\n`),
    );
  }
  for (const file of input.files ?? []) {
    const filename = file.filename ?? file.field;
    pieces.push(
      text(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(filename)}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
    );
    const content = file.content;
    pieces.push(
      content instanceof Uint8Array ? content : { path: content.path, size: (await stat(content.path)).size },
    );
    pieces.push(text('\r\n'));
  }
  pieces.push(text(`--${boundary}--\r\n`));
  const length = pieces.reduce((sum, piece) => sum + (piece instanceof Uint8Array ? piece.length : piece.size), 0);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    open: (onBytes) => stream(pieces, onBytes),
  };
}

async function* stream(
  pieces: ReadonlyArray<Uint8Array | { path: string; size: number }>,
  onBytes?: (sent: number) => void,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for (const piece of pieces) {
    const chunks: AsyncIterable<Uint8Array> | Uint8Array[] =
      piece instanceof Uint8Array ? split(piece) : createReadStream(piece.path, { highWaterMark: CHUNK });
    for await (const chunk of chunks) {
      sent += chunk.length;
      onBytes?.(sent);
      yield chunk;
    }
  }
}

/** Large in-memory files go out in 1 MiB pieces, so progress moves while they are sent. */
function split(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) {
    parts.push(bytes.subarray(at, at + CHUNK));
  }
  return parts;
}

function text(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

/** A name inside a quoted header parameter: quotes and line breaks escaped as browsers do. */
function quote(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
