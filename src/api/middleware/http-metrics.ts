import type { Middleware } from 'koa';
import { httpDuration, httpRequests, httpUnavailable, uploadBytes, uploads } from '../../metrics/metrics';
import { metricsText } from '../../metrics/server';
import { registry } from '../../metrics/metrics';
import { matchedRoute } from './access-log';

/**
 * Counts every request once its response is finished (or the client went away): by method, route pattern and
 * status, its duration, the files of an accepted upload, and for a 503 its reason (`unavailable`'s). The route is the pattern, never the URL, so the
 * label values stay a fixed set.
 */
export function httpMetrics(): Middleware {
  return async (ctx, next) => {
    const stop = httpDuration.startTimer();
    ctx.res.once('close', () => {
      const route = matchedRoute(ctx) ?? 'unmatched';
      const method = ctx.method;
      httpRequests.inc({ method, route, status: String(ctx.status) });
      stop({ method, route });
      if (ctx.status >= 200 && ctx.status < 300) {
        for (const size of fileSizes(ctx.request.files)) {
          uploads.inc({ route });
          uploadBytes.inc({ route }, size);
        }
      }
      if (ctx.status === 503) {
        const reason: unknown = ctx.state.unavailableReason;
        httpUnavailable.inc({ reason: typeof reason === 'string' ? reason : 'unavailable' });
      }
    });
    await next();
  };
}

/** The sizes of a multipart request's file parts (koa-body keeps them on the request after the files are gone). */
function fileSizes(files: unknown): number[] {
  if (typeof files !== 'object' || files === null) {
    return [];
  }
  return Object.values(files)
    .flat()
    .map((file: unknown) => (file as { size?: unknown }).size)
    .filter((size): size is number => typeof size === 'number');
}

/** `GET /metrics` on the API itself, for deployments that scrape the public port (ROUNDHOUSE_METRICS_ON_API). */
export function metricsRoute(): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') {
      await next();
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      ctx.status = 405;
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = await metricsText();
  };
}
