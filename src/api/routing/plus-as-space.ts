import type { Middleware } from 'koa';

/**
 * Decodes the path parts under `prefix` as Python's `quote_plus` encodes them: a `+` is a space (an encoded plus is
 * `%2B`). The router decodes parameters with `decodeURIComponent`, which keeps `+`, so each one is spelled `%20`
 * before the router matches the path.
 */
export function plusAsSpace(prefix: string): Middleware {
  return async (ctx, next) => {
    if (ctx.path.startsWith(prefix) && ctx.path.includes('+')) {
      ctx.path = ctx.path.replaceAll('+', '%20');
    }
    await next();
  };
}
