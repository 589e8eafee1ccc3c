import type Router from '@koa/router';
import { createRouter } from '../../routing/router';
import type { CheckResult, ReadinessCheck } from '../../readiness';

function runCheck(check: ReadinessCheck | undefined): Promise<CheckResult> {
  return check ? check() : Promise.resolve({ ok: false, detail: 'no such check' });
}

/**
 * `GET /api/health/`: the process is alive (no dependency is consulted, so a load balancer does not restart it
 * for a database outage). `GET /api/ready/`: Postgres and Temporal are reachable; 503 naming what is down.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck>): Router {
  const router = createRouter();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name])));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const down = names.filter((_, i) => !results[i]?.ok);
    if (down.length === 0) {
      ctx.body = { status: 'ready', checks: report };
      return;
    }
    ctx.status = 503;
    ctx.state.unavailableReason = 'not_ready';
    ctx.set('Retry-After', '5');
    ctx.body = { detail: `Not ready: ${down.join(', ')} unreachable.`, code: 'not_ready', checks: report };
  });
  return router;
}
