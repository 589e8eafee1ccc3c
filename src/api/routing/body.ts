import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bourne from '@hapi/bourne';
import type { Part } from 'formidable';
import type { Context, Middleware, Request } from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { type AppError, invalidInput, payloadTooLarge, unsupportedMediaType } from '../../errors';
import { splitJsonObject } from './json-text';

/** How a route reads its body. */
export type BodyKind =
  /** JSON, form or multipart fields (files ignored). */
  | 'data'
  /** JSON, form or multipart with file parts. */
  | 'upload'
  /** The raw body as JSON whatever the Content-Type, as the reference reads trainings and client lists. */
  | 'raw-json';

/** Request size limits, in bytes. */
export interface BodyLimits {
  /** One uploaded file. */
  readonly uploadBytes: number;
  /** A JSON or form body, and the fields of a multipart body. */
  readonly bodyBytes: number;
  /** One metric value stored as bytes (a picture); a route that takes them raises its body limit to fit a few. */
  readonly metricBytes: number;
  /** One dataset upload: its file, or its two .npy files together. */
  readonly datasetBytes: number;
}

/** The form field a CSRF token may come in (Django's name); the parser takes it out of the body. */
export const CSRF_FIELD = 'csrfmiddlewaretoken';

/** The `csrfmiddlewaretoken` field each parsed form or multipart body carried. */
const csrfFields = new WeakMap<Context, unknown>();

/** Formidable's internal codes for a limit that was exceeded. */
const FORMIDABLE_TOO_LARGE = new Set([1006, 1007, 1009, 1015, 1016]);

/** 415 in DRF's words. */
function unsupportedMediaTypeOf(type: string): AppError {
  return unsupportedMediaType(`Unsupported media type "${type}" in request.`);
}

/**
 * Parses the body as `kind` says into `ctx.request.body` (and `ctx.request.files`), mapping parser errors. File parts
 * go to a temporary folder of the request's own, removed once the request is answered (also when parsing failed).
 */
export function parseBody(kind: BodyKind, limits: BodyLimits, textFields?: ReadonlySet<string>): Middleware {
  if (kind === 'raw-json') {
    return rawJsonBody(limits.bodyBytes);
  }
  const fileLimit = kind === 'upload' ? limits.uploadBytes : limits.bodyBytes;
  const parser = (uploadDir: string): Middleware =>
    koaBody({
      multipart: true,
      jsonLimit: limits.bodyBytes,
      formLimit: limits.bodyBytes,
      text: false,
      jsonStrict: false,
      parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
      formidable: {
        uploadDir,
        allowEmptyFiles: true,
        minFileSize: 0,
        maxFileSize: fileLimit,
        maxTotalFileSize: fileLimit * 4,
        maxFieldsSize: limits.bodyBytes,
        onPart: fileByFilename,
      },
      // JSON and forms stop at the body limit; a multipart body at its file limit (its fields at the body limit).
      onError: (err, ctx) => {
        throw translateParserError(err, ctx.is('multipart') ? fileLimit : limits.bodyBytes);
      },
    });
  const plain = parser(os.tmpdir());
  return async (ctx, next) => {
    if (hasBody(ctx) && !ctx.is('json', 'urlencoded', 'multipart')) {
      throw unsupportedMediaTypeOf(ctx.get('Content-Type') || 'none');
    }
    if (ctx.is('urlencoded')) {
      ctx.request.body = formFields(await readBody(ctx, limits.bodyBytes));
      takeCsrfField(ctx);
      await next();
      return;
    }
    if (textFields && ctx.is('json') && jsonOfKnownLength(ctx, limits.bodyBytes)) {
      ctx.request.body = await jsonWithText(ctx, textFields);
      await next();
      return;
    }
    if (!ctx.is('multipart')) {
      await plain(ctx, next);
      return;
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-upload-'));
    try {
      await parser(dir)(ctx, async () => {
        takeCsrfField(ctx);
        await next();
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
}

/** A JSON body, not compressed, whose declared length is within the limit (anything else: koa-body, as ever). */
function jsonOfKnownLength(ctx: Context, limit: number): boolean {
  const encoding = ctx.get('Content-Encoding');
  const length = ctx.request.length;
  return (encoding === '' || encoding === 'identity') && length > 0 && length <= limit;
}

/**
 * A JSON body with `textFields` left as text when they are lists or strings (`splitJsonObject`); any other body is
 * parsed as koa-body would (co-body, non-strict, refusing `__proto__`), so the answer to a malformed one does not
 * change.
 */
async function jsonWithText(ctx: Context, textFields: ReadonlySet<string>): Promise<Request['body']> {
  const { bytes, owned } = await readWhole(ctx);
  if (bytes.length !== ctx.request.length) {
    throw invalidInput('request size did not match content length');
  }
  const split = splitJsonObject(bytes, textFields, owned);
  if (split) {
    return split as Request['body'];
  }
  try {
    return bourne.parse(bytes.toString('utf8'), { protoAction: 'error' }) as Request['body'];
  } catch (err) {
    throw invalidInput(`JSON parse error - ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The `csrfmiddlewaretoken` field of the request's form or multipart body, if it had one (as text or a list). */
export function csrfFieldOf(ctx: Context): unknown {
  return csrfFields.get(ctx);
}

/**
 * Moves the CSRF field out of a parsed form body: it belongs to the session check (src/api/auth/csrf-guard.ts), and a
 * route's schema would refuse it as an unknown field.
 */
function takeCsrfField(ctx: Context): void {
  const body: unknown = ctx.request.body;
  if (typeof body === 'object' && body !== null && Object.hasOwn(body, CSRF_FIELD)) {
    csrfFields.set(ctx, Reflect.get(body, CSRF_FIELD));
    Reflect.deleteProperty(body, CSRF_FIELD);
  }
}

/**
 * A part with a `filename` is a file, whatever its headers. Formidable takes a part without `Content-Type` for a text
 * field, but Python `requests` (and so the reference's client library) sends `files={"model_file": data}` exactly
 * that way: `filename="model_file"` and no `Content-Type`.
 */
function fileByFilename(part: Part, handle: (part: Part) => void): void {
  if (part.originalFilename !== null && !part.mimetype) {
    part.mimetype = 'application/octet-stream';
  }
  handle(part);
}

function hasBody(ctx: Context): boolean {
  return ctx.request.length > 0 || ctx.get('Transfer-Encoding') !== '';
}

function translateParserError(err: Error, limit: number): AppError {
  const { status, httpCode, code } = err as Error & { status?: unknown; httpCode?: unknown; code?: unknown };
  if (status === 413 || (typeof code === 'number' && FORMIDABLE_TOO_LARGE.has(code)) || httpCode === 413) {
    return payloadTooLarge(limit);
  }
  if (status === 415) {
    return unsupportedMediaTypeOf(err.message);
  }
  return invalidInput(err.name === 'SyntaxError' ? `JSON parse error - ${err.message}` : err.message);
}

/**
 * An urlencoded form's fields as Django's QueryDict reads them: names taken literally (`a[b]` is a name, not a nested
 * object), a repeated name as a list, and an empty name kept, so that the schema refuses it as an unknown field
 * (the `qs` parser drops empty names and nests bracketed ones, which hid both from validation).
 */
function formFields(text: string): Record<string, string | string[]> {
  const fields = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  // fromEntries defines own properties, so a field named __proto__ stays a field.
  return Object.fromEntries([...fields].map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

/** The request body as UTF-8 text. @throws 413 past `limit` bytes. */
async function readBody(ctx: Context, limit: number): Promise<string> {
  return (await readBytes(ctx, limit)).toString('utf8');
}

/**
 * The whole body of a request whose length is declared and within its limit (Node's parser reads no further), by
 * its events: an async iterator over the request costs more than the read itself for a small body (inference's hot
 * path: 62 -> 50 µs from headers to parsed body in a profile). Rejects as reading the stream would when the request
 * fails or the client goes away before its end. `owned`: the bytes' memory is theirs alone (joined from several
 * chunks into a buffer of its own, not a slice of Node's shared pool); a single chunk may share its memory with the
 * socket's reads.
 */
function readWhole(ctx: Context): Promise<{ bytes: Buffer; owned: boolean }> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string): void => {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    };
    const onEnd = (): void => {
      done();
      if (chunks.length === 1 && chunks[0]) {
        resolve({ bytes: chunks[0], owned: false });
        return;
      }
      const bytes = Buffer.concat(chunks);
      resolve({ bytes, owned: bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length });
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      if (!req.complete) {
        onError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      }
    };
    const done = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The request body. @throws 413 past `limit` bytes. */
async function readBytes(ctx: Context, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) {
      throw payloadTooLarge(limit);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function rawJsonBody(limit: number): Middleware {
  return async (ctx, next) => {
    const text = await readBody(ctx, limit);
    try {
      // JSON.parse yields JSON values only, which is what koa-body's declaration of the body says.
      ctx.request.body = text.trim() === '' ? {} : (JSON.parse(text) as Request['body']);
    } catch (err) {
      throw invalidInput(`JSON parse error - ${err instanceof Error ? err.message : String(err)}`);
    }
    await next();
  };
}
