import type { Context, Middleware } from 'koa';
import { parseAuthorization } from '../../auth/credentials';
import { isSessionKey } from '../../auth/session-keys';
import { tokensEqual } from '../../auth/tokens';
import type { User } from '../../db/models/user';
import { notAuthenticated } from '../../errors';
import { guardSessionRequest } from './csrf-guard';
import { clearSessionCookies, SESSION_COOKIE, type SessionCookies } from './session-cookies';

/** A live session: its user and CSRF token. */
export interface ResumedSession {
  readonly user: User;
  readonly csrfToken: string;
}

/** What authentication needs from storage: users, password checks and sessions (bound to a database). */
export interface Authenticator {
  findByToken(token: string): Promise<User | undefined>;
  /**
   * The user whose name and password these are, counted against the failed-login limits.
   * @throws AppError 401 for wrong credentials or an inactive user, 429 past a limit.
   */
  checkPassword(credentials: { username: string; password: string; address: string }): Promise<User>;
  /** The live session of a cookie's key; 'expired' for one that ended (it is deleted); undefined for none. */
  resumeSession(key: string): Promise<ResumedSession | 'expired' | undefined>;
  /** A new session of `userId`, deleting the one whose key the request still carried. */
  startSession(userId: string, replacedKey: string | undefined): Promise<SessionCookies>;
  /** Deletes a session. */
  endSession(key: string): Promise<void>;
  /** How long a session may live at most: the cookies' lifetime. */
  readonly sessionMaxAgeSeconds: number;
}

const NO_CREDENTIALS = 'Authentication credentials were not provided.';

const callers = new WeakMap<Context, User>();
const sessionKeys = new WeakMap<Context, string>();

/** The caller `authenticate` resolved for this request. @throws AppError 401 when the route had no authentication. */
export function callerOf(ctx: Context): User {
  const user = callers.get(ctx);
  if (!user) {
    throw notAuthenticated(NO_CREDENTIALS);
  }
  return user;
}

/** The id of the caller `authenticate` resolved for this request, if it resolved one (the access log names it). */
export function callerIdOf(ctx: Context): string | undefined {
  return callers.get(ctx)?.id;
}

/** The key of the session this request was authenticated with; undefined for a token or password. */
export function sessionKeyOf(ctx: Context): string | undefined {
  return sessionKeys.get(ctx);
}

/**
 * Resolves the caller from `Authorization` (`Token`/`Bearer` key, Basic with a token as user name and an empty
 * password, Basic user name and password) or, without that header, from the session cookie, whose unsafe requests
 * must pass the CSRF check; otherwise answers 401 with `WWW-Authenticate: Token`. A present `Authorization` header
 * wins: the cookies of such a request are ignored.
 */
export function authenticate(authenticator: Authenticator): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    const caller =
      header === '' ? await resolveSession(authenticator, ctx) : await resolveCaller(authenticator, header, ctx.ip);
    callers.set(ctx, caller);
    await next();
  };
}

/**
 * The live session the request's cookie names, without refusing anything: for answers that differ with and without
 * one (the seed-004 protocol's `env.json/`). Undefined for no cookie, an unknown or ended session, or an inactive user.
 */
export async function liveSessionOf(authenticator: Authenticator, ctx: Context): Promise<ResumedSession | undefined> {
  const key = ctx.cookies.get(SESSION_COOKIE);
  const session = key && isSessionKey(key) ? await authenticator.resumeSession(key) : undefined;
  return session === undefined || session === 'expired' || !session.user.isActive ? undefined : session;
}

async function resolveSession(authenticator: Authenticator, ctx: Context): Promise<User> {
  const key = ctx.cookies.get(SESSION_COOKIE);
  if (!key) {
    throw notAuthenticated(NO_CREDENTIALS);
  }
  const session = isSessionKey(key) ? await authenticator.resumeSession(key) : undefined;
  if (session === undefined || session === 'expired') {
    clearSessionCookies(ctx);
    throw notAuthenticated(session ? 'Session expired; log in again.' : 'Invalid session; log in again.');
  }
  if (!session.user.isActive) {
    throw notAuthenticated('User inactive or deleted.');
  }
  guardSessionRequest(ctx, session.csrfToken);
  sessionKeys.set(ctx, key);
  return session.user;
}

async function resolveCaller(authenticator: Authenticator, header: string, address: string): Promise<User> {
  const credentials = parseAuthorization(header);
  switch (credentials.kind) {
    case 'none':
      throw notAuthenticated(NO_CREDENTIALS);
    case 'malformed':
      throw notAuthenticated(credentials.message);
    case 'token': {
      const user = await authenticator.findByToken(credentials.token);
      // The lookup uses the unique index; the final comparison does not stop at the first differing character.
      if (!user || !tokensEqual(credentials.token, user.token)) {
        throw notAuthenticated('Invalid token.');
      }
      if (!user.isActive) {
        throw notAuthenticated('User inactive or deleted.');
      }
      return user;
    }
    case 'password':
      return await authenticator.checkPassword({
        username: credentials.username,
        password: credentials.password,
        address,
      });
  }
}
