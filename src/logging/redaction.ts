import { ClientRequest, IncomingMessage } from 'node:http';
import { types } from 'node:util';

/** What a redacted value is written as. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values are secrets wherever they appear: passwords (and their hashes), API tokens, the Authorization
 * header, cookies, session ids, CSRF tokens, the notification secret and the HMAC signature it keys.
 * Header names are listed in both spellings: Node lowercases incoming headers, outgoing ones keep their case.
 */
const SECRET_KEYS = [
  'password',
  'passwordHash',
  'password_hash',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'sessionId',
  'session_id',
  'sessionid',
  'csrfToken',
  'csrf_token',
  'csrftoken',
  'csrfmiddlewaretoken',
  'x-csrftoken',
  'X-CSRFToken',
  'notificationSecret',
  'notification_secret',
  'signature',
  'x-roundhouse-signature',
  'X-Roundhouse-Signature',
] as const;

/** How deep below a log line's top level a secret key is still found (`a.b.c.token` is depth 3). */
const REDACTED_DEPTH = 3;

/**
 * pino's `redact.paths`: every secret key at the top level of a line and up to `REDACTED_DEPTH` levels below it, so
 * `{ headers: { authorization } }` and `{ user: { token } }` are covered as well as `{ token }`.
 */
export const REDACTED_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) =>
  Array.from({ length: REDACTED_DEPTH + 1 }, (_, depth) => pathTo(key, Array<string>(depth).fill('*').join('.'))),
);

/** fast-redact's path to `key` below `parent`: `parent.key`, or `parent["set-cookie"]` for a key that is no name. */
function pathTo(key: string, parent: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) {
    return `${parent}["${key}"]`;
  }
  return parent === '' ? key : `${parent}.${key}`;
}

/** How deep `loggable` looks into plain objects and arrays for errors and requests. */
const MAX_DEPTH = 6;

/**
 * A log field made safe to write. Errors keep only their name, message, stack, code and cause (so properties some
 * libraries hang on them, like the request and its headers, never reach the log); HTTP requests (Node's, or Koa's
 * context, request or response) become their method and URL; plain objects and arrays are looked into. Anything else
 * is left to pino, whose `redact` paths then blank the secret keys.
 */
export function loggable(value: unknown, depth = 0): unknown {
  if (isError(value)) {
    return errorFields(value, depth);
  }
  const request = requestOf(value);
  if (request) {
    return request;
  }
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown) => loggable(item, depth + 1));
  }
  if (!isPlainObject(value)) {
    return value;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, loggable(item, depth + 1)]));
}

/** Native errors of any realm (jest's, the workflow sandbox's) as well as this one's. */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function errorFields(err: Error, depth: number): Record<string, unknown> {
  const code: unknown = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(err.cause !== undefined && depth < MAX_DEPTH ? { cause: loggable(err.cause, depth + 1) } : {}),
  };
}

/** Method and URL of a request-like value (headers are never kept), or undefined for anything else. */
function requestOf(value: unknown): { method?: string; url?: string } | undefined {
  if (value instanceof IncomingMessage) {
    return { method: value.method, url: value.url };
  }
  if (value instanceof ClientRequest) {
    return { method: value.method, url: `${value.host}${value.path}` };
  }
  // Koa's context, request and response all hold Node's request as `req`.
  const req: unknown = typeof value === 'object' && value !== null ? (value as { req?: unknown }).req : undefined;
  return req instanceof IncomingMessage ? { method: req.method, url: req.url } : undefined;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
