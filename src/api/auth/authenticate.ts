import type { Context, Middleware } from 'koa';
import { parseAuthorization } from '../../auth/credentials';
import { verifyPassword } from '../../auth/passwords';
import { tokensEqual } from '../../auth/tokens';
import type { User } from '../../db/models/user';
import { notAuthenticated } from '../../errors';

/** Looks users up for authentication (the users queries, bound to a database). */
export interface Authenticator {
  findByToken(token: string): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
}

const callers = new WeakMap<Context, User>();

/** The caller `authenticate` resolved for this request. @throws AppError 401 when the route had no authentication. */
export function callerOf(ctx: Context): User {
  const user = callers.get(ctx);
  if (!user) {
    throw notAuthenticated('Authentication credentials were not provided.');
  }
  return user;
}

/** The id of the caller `authenticate` resolved for this request, if it resolved one (the access log names it). */
export function callerIdOf(ctx: Context): string | undefined {
  return callers.get(ctx)?.id;
}

/**
 * Resolves the caller from `Authorization` (`Token`/`Bearer` key, Basic with a token as user name and an empty
 * password, Basic user name and password) or answers 401 with `WWW-Authenticate: Token`.
 */
export function authenticate(authenticator: Authenticator): Middleware {
  return async (ctx, next) => {
    callers.set(ctx, await resolveCaller(authenticator, ctx.get('Authorization')));
    await next();
  };
}

async function resolveCaller(authenticator: Authenticator, header: string): Promise<User> {
  const credentials = parseAuthorization(header);
  switch (credentials.kind) {
    case 'none':
      throw notAuthenticated('Authentication credentials were not provided.');
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
    case 'password': {
      const user = await authenticator.findByUsername(credentials.username);
      const matches = await verifyPassword(user?.passwordHash, credentials.password);
      if (!user || !matches || !user.isActive) {
        throw notAuthenticated('Invalid username/password.');
      }
      return user;
    }
  }
}
