import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { notFound, unavailable } from '../../errors';
import { createRouter } from '../routing/router';

/** Where the dashboard lives: `/` redirects here, and every path below it that is not an asset is the page. */
export const DASHBOARD_PATH = '/ui/';

/**
 * The page's policy: scripts, styles and connections from this origin only (the build writes no inline script or
 * style), no plugins, no framing, forms post here only.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The files a build writes, by extension; anything else under `assets/` is not served. */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** A built file name: no folder part, nothing hidden. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * `GET /` (a redirect to `/ui/`) and `GET /ui/...`: the built dashboard from `assetsDir`. Assets carry a content hash
 * in their names, so browsers keep them for a year; the page itself is revalidated every time, so a new build is
 * seen at once. Every other path below `/ui/` is the page too: the dashboard routes in the browser.
 */
export function dashboardAssetRoutes(assetsDir: string): Router {
  const router = createRouter();
  router.get('/', (ctx) => {
    ctx.redirect(DASHBOARD_PATH);
  });
  router.get('/ui', async (ctx, next) => {
    // The router matches `/ui/` here too (its paths are not strict about a trailing slash).
    if (ctx.path !== '/ui') {
      await next();
      return;
    }
    ctx.redirect(DASHBOARD_PATH);
  });
  router.get('/ui/assets/:file', async (ctx) => {
    const file = ctx.params.file ?? '';
    const type = ASSET_TYPES[path.extname(file)];
    if (!ASSET_NAME.test(file) || type === undefined) {
      throw notFound('Not found.');
    }
    const full = path.join(assetsDir, 'assets', file);
    const stat = await fs.promises.stat(full).catch(() => undefined);
    if (!stat?.isFile()) {
      throw notFound('Not found.');
    }
    protect(ctx);
    ctx.type = type;
    ctx.length = stat.size;
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = fs.createReadStream(full);
  });
  router.get('/ui/{*page}', async (ctx) => {
    if (ctx.path.startsWith('/ui/assets/')) {
      throw notFound('Not found.');
    }
    const page = await fs.promises.readFile(path.join(assetsDir, 'index.html')).catch(() => undefined);
    if (page === undefined) {
      throw unavailable(`The dashboard is not built in ${assetsDir}: run npm run build.`, 60, {
        reason: 'dashboard_not_built',
      });
    }
    protect(ctx);
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = page;
  });
  return router;
}

/** Headers of every dashboard file: the policy, no type sniffing, no framing, no full URLs sent to other sites. */
function protect(ctx: Context): void {
  ctx.set('Content-Security-Policy', DASHBOARD_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
}
