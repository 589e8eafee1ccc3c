import type { Middleware } from 'koa';
import { isAppError } from '../../errors';
import type { Logger } from '../../logger';
import { requestLogger } from './access-log';
import { translateDbError } from './db-errors';
import { translateOutage } from './outage-errors';

/** The error body every failure answers with; `detail` is the reference server's key, so its clients read it. */
export interface ErrorBody {
  detail: string;
  code: string;
  details?: unknown;
  request_id?: string;
}

/**
 * First in the chain: turns every thrown error into a JSON body with a stable code. 4xx messages are shown as they
 * are; anything unexpected is logged in full and answered with a generic 500 naming the request id.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status >= 400) {
        // No route matched (404), or the router's allowedMethods() set 405 with `Allow` and no body.
        const status = ctx.status;
        ctx.body = { detail: emptyErrorMessage(status, ctx.method), code: codeForStatus(status) } satisfies ErrorBody;
        ctx.status = status;
      }
    } catch (thrown) {
      const requestId = String(ctx.state.requestId ?? '');
      const err = translateOutage(thrown) ?? translateDbError(thrown) ?? thrown;
      if (isAppError(err)) {
        ctx.status = err.status;
        ctx.set(err.headers);
        if (err.reason !== undefined) {
          // For the metrics (httpMetrics): why this request was answered 503.
          ctx.state.unavailableReason = err.reason;
        }
        ctx.body = {
          detail: err.message,
          code: err.code,
          ...(err.details === undefined ? {} : { details: err.details }),
        } satisfies ErrorBody;
        if (err.status >= 500) {
          requestLogger(ctx, logger).warn('request failed', { code: err.code, error: err });
        }
        return;
      }
      const status = httpStatusOf(err);
      if (status !== undefined && status < 500) {
        // koa-body and Koa itself throw http-errors for malformed or oversized bodies.
        ctx.status = status;
        ctx.body = { detail: messageOf(err), code: codeForStatus(status) } satisfies ErrorBody;
        return;
      }
      requestLogger(ctx, logger).error('unhandled error', { method: ctx.method, path: ctx.path, error: err });
      ctx.status = 500;
      ctx.body = {
        detail: 'Internal server error.',
        code: 'internal_error',
        request_id: requestId,
      } satisfies ErrorBody;
    }
  };
}

function httpStatusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error && err.message ? err.message : 'Bad request.';
}

/** The message of an error status that no middleware wrote a body for; the reference's wording where it has one. */
function emptyErrorMessage(status: number, method: string): string {
  switch (status) {
    case 404:
      return 'Not found.';
    case 405:
      return `Method "${method}" not allowed.`;
    default:
      return 'Request failed.';
  }
}

function codeForStatus(status: number): string {
  switch (status) {
    case 401:
      return 'not_authenticated';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    default:
      return 'invalid_input';
  }
}
