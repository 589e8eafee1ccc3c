import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** Gives every request an id (the caller's `X-Request-Id` when it is sane), echoed in the response and in logs. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const id = /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}
