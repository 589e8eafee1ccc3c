import type { Context, Middleware } from 'koa';
import { csrfTokenMatches, isSameOrigin } from '../../auth/csrf';
import { csrfFailed } from '../../errors';
import { type BodyLimits, csrfFieldOf, CSRF_FIELD, parseBody } from '../routing/body';
import { CSRF_COOKIE } from './session-cookies';

/** The header a CSRF token may come in (Django's name). */
export const CSRF_HEADER = 'X-CSRFToken';

/** Methods that change something: a request made with a session cookie must prove it comes from the site. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Session requests whose token must come in the form field, with the session's token. */
const awaitingField = new WeakMap<Context, string>();

/**
 * Refuses a request whose `Origin` is present and is not the server's own (as the request sees itself, proxy headers
 * included). No `Origin` is fine: Python's urllib and other non-browser clients send none, and browsers send it on
 * every cross-site POST.
 */
export function assertOwnOrigin(ctx: Context): void {
  const origin = ctx.get('Origin');
  // Not `ctx.origin`: since Koa 3 that is the request's Origin header, not the server's own origin.
  const own = `${ctx.protocol}://${ctx.host}`;
  if (origin !== '' && !isSameOrigin(origin, own)) {
    throw csrfFailed(`Origin checking failed - ${origin} does not match ${own}.`);
  }
}

/**
 * The CSRF check of a request authenticated by a session, for an unsafe method: the origin, then the `X-CSRFToken`
 * header against the session's token. Without the header, the token is awaited in the `csrfmiddlewaretoken` field of
 * a form or multipart body, which `checkCsrfField` looks at once the body is parsed.
 */
export function guardSessionRequest(ctx: Context, csrfToken: string): void {
  if (!UNSAFE_METHODS.has(ctx.method)) {
    return;
  }
  assertOwnOrigin(ctx);
  const header = ctx.get(CSRF_HEADER);
  if (header === '') {
    awaitingField.set(ctx, csrfToken);
    return;
  }
  if (!csrfTokenMatches(header, csrfToken)) {
    throw csrfFailed(`CSRF token from the '${CSRF_HEADER}' HTTP header incorrect.`);
  }
}

/**
 * For routes that read no body: parses a form or multipart body (within the body limit) when the session's token is
 * awaited in its field; any other request passes untouched.
 */
export function csrfFormBody(limits: BodyLimits): Middleware {
  const parse = parseBody('data', limits);
  return async (ctx, next) => {
    if (awaitingField.has(ctx) && ctx.is('urlencoded', 'multipart')) {
      await parse(ctx, next);
      return;
    }
    await next();
  };
}

/** After the body parser: a session request that sent no `X-CSRFToken` must have sent the form field, and right. */
export const checkCsrfField: Middleware = async (ctx, next) => {
  const stored = awaitingField.get(ctx);
  if (stored !== undefined) {
    const field = csrfFieldOf(ctx);
    if (field === undefined) {
      throw csrfFailed(
        `CSRF token missing. Send the ${CSRF_COOKIE} cookie's value in the '${CSRF_HEADER}' header or the '${CSRF_FIELD}' form field.`,
      );
    }
    if (!csrfTokenMatches(field, stored)) {
      throw csrfFailed(`CSRF token from the '${CSRF_FIELD}' form field incorrect.`);
    }
  }
  await next();
};
