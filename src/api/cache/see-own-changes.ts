import type { Context, Middleware } from 'koa';
import type { Changes } from './change-feed';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Requests whose route said they change nothing a cache holds. */
const readOnly = new WeakSet<Context>();

/** Says that this request, though not a GET, changes nothing a cache holds (an inference): it need not wait. */
export function changesNothingCached(ctx: Context): void {
  readOnly.add(ctx);
}

/**
 * A request that may have changed something (any method but GET, HEAD and OPTIONS) is answered only once this
 * process has heard every change committed before the answer: the caller's next request, to this process, never
 * meets a cache entry its own change made stale (other processes see it within the feed's bound).
 */
export function seeOwnChanges(changes: Changes): Middleware {
  return async (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method)) {
      await next();
      return;
    }
    try {
      await next();
    } finally {
      if (!readOnly.has(ctx)) {
        await changes.sync();
      }
    }
  };
}
