import type { Context, Middleware } from 'koa';
import type { Logger } from '../../logger';
import { callerIdOf } from '../auth/authenticate';

/** The logger `accessLog` was given for each request; the request's own child of it is made when first asked for. */
const bases = new WeakMap<Context, Logger>();
const loggers = new WeakMap<Context, Logger>();

/**
 * The logger of this request, whose lines carry its request id: a child of the one `accessLog` was given, or else
 * of `fallback` (an app built without `accessLog`, as some tests build one). Made on first use: most requests log
 * nothing but their access line.
 */
export function requestLogger(ctx: Context, fallback: Logger): Logger {
  let log = loggers.get(ctx);
  if (!log) {
    log = (bases.get(ctx) ?? fallback).child({ requestId: requestIdOf(ctx) });
    loggers.set(ctx, log);
  }
  return log;
}

/**
 * Right after `requestId`: gives the request its logger, and once the response is finished (or the client went away)
 * logs one line with the method, the matched route (its pattern, never the URL with its ids and query), the status,
 * the duration and the caller's user id.
 */
export function accessLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    bases.set(ctx, logger);
    // 'close' comes after the body is sent, so a streamed download counts whole.
    ctx.res.once('close', () => {
      logger.info('request completed', {
        requestId: requestIdOf(ctx),
        method: ctx.method,
        route: matchedRoute(ctx),
        status: ctx.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        caller: callerIdOf(ctx) ?? 'anonymous',
        ...(ctx.res.writableFinished ? {} : { aborted: true }),
      });
    });
    await next();
  };
}

function requestIdOf(ctx: Context): string {
  return String(ctx.state.requestId ?? '');
}

/** The route pattern @koa/router matched (`/api/models/:id`), or null when none did (404, 405). */
export function matchedRoute(ctx: Context): string | null {
  const route = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return route === undefined ? null : String(route);
}
