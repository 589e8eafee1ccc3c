import type { SetOption } from 'cookies';
import type { Context } from 'koa';
import { generateSessionKey, isSessionKey } from '../../auth/session-keys';

/** The session cookie's name (Django's): it carries only a random key. */
export const SESSION_COOKIE = 'sessionid';
/** The CSRF cookie's name (Django's): its value must come back on unsafe requests made with the session. */
export const CSRF_COOKIE = 'csrftoken';

/** A session's two values, as the cookies carry them. */
export interface SessionCookies {
  readonly key: string;
  readonly csrfToken: string;
}

/**
 * The session cookie's attributes: out of scripts' reach, sent on top-level navigations from other sites but not on
 * their subrequests or form posts (Lax), over https only when the request came over https, for the whole site.
 */
export function sessionCookieOptions(secure: boolean, maxAgeSeconds: number): SetOption {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: maxAgeSeconds * 1000, overwrite: true };
}

/** The CSRF cookie's attributes: the session cookie's, except that scripts may read it to send it back. */
export function csrfCookieOptions(secure: boolean, maxAgeSeconds: number): SetOption {
  return { ...sessionCookieOptions(secure, maxAgeSeconds), httpOnly: false };
}

/** Sets both cookies of a new session, living as long as the session may. */
export function setSessionCookies(ctx: Context, session: SessionCookies, maxAgeSeconds: number): void {
  ctx.cookies.set(SESSION_COOKIE, session.key, sessionCookieOptions(ctx.secure, maxAgeSeconds));
  ctx.cookies.set(CSRF_COOKIE, session.csrfToken, csrfCookieOptions(ctx.secure, maxAgeSeconds));
}

/** Tells the client to drop both cookies (an empty value expires at once). */
export function clearSessionCookies(ctx: Context): void {
  ctx.cookies.set(SESSION_COOKIE, '', sessionCookieOptions(ctx.secure, 0));
  ctx.cookies.set(CSRF_COOKIE, '', csrfCookieOptions(ctx.secure, 0));
}

/**
 * The CSRF token of a request without a session (the seed-004 client asks for one before it logs in): the one its
 * `csrftoken` cookie already holds, or a new one set in that cookie. It guards nothing by itself: a login refuses a
 * foreign `Origin` instead, and logging in replaces it with the session's token.
 */
export function anonymousCsrfToken(ctx: Context, maxAgeSeconds: number): string {
  const held = ctx.cookies.get(CSRF_COOKIE);
  if (isSessionKey(held)) {
    return held;
  }
  const token = generateSessionKey();
  ctx.cookies.set(CSRF_COOKIE, token, csrfCookieOptions(ctx.secure, maxAgeSeconds));
  return token;
}
