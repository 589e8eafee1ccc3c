import { METHODS } from 'node:http';
import Router from '@koa/router';

/**
 * A router that counts every method Node parses as known, so `allowedMethods()` answers a method a path does not
 * serve (TRACE, QUERY, ...) with 405 and `Allow`, which the error handler writes as JSON, never a bare 501.
 */
export function createRouter(prefix?: string): Router {
  return new Router({ methods: [...METHODS], ...(prefix === undefined ? {} : { prefix }) });
}
