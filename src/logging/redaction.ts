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

const SECRET_KEY_SET: ReadonlySet<string> = new Set(SECRET_KEYS);

/** Whether a field of this name holds a secret (its value is written as `REDACTED`). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_SET.has(key);
}

/** How deep `loggable` looks into objects and arrays; an object deeper down is written as `TOO_DEEP`. */
const MAX_DEPTH = 6;

/** What an object nested deeper than `MAX_DEPTH` is written as (it could hide a secret no one looked for). */
export const TOO_DEEP = '[too deep]';

/**
 * A log field made safe to write, in one walk of what the line holds (no per-line cost for keys it does not have).
 * The value of a secret key (`SECRET_KEYS`) at any depth is written as `REDACTED`. Errors keep only their name,
 * message, stack, code and cause (so properties some libraries hang on them, like the request and its headers, never
 * reach the log); HTTP requests (Node's, or Koa's context, request or response) become their method and URL; other
 * objects are written as JSON would write them (through their `toJSON`, or their own fields: an Objection model's
 * token is redacted too); dates, buffers, maps and sets are left as they are.
 */
export function loggable(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  if (isError(value)) {
    return errorFields(value, depth);
  }
  const request = requestOf(value);
  if (request) {
    return request;
  }
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) {
    return value;
  }
  if (depth >= MAX_DEPTH) {
    return TOO_DEEP;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown) => loggable(item, depth + 1));
  }
  if (!isPlainObject(value)) {
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      return loggable(toJSON.call(value), depth);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY_SET.has(key) && item !== undefined ? REDACTED : loggable(item, depth + 1);
  }
  return out;
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
