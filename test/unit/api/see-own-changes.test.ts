import Koa from 'koa';
import request from 'supertest';
import type { Changes } from '../../../src/api/cache/change-feed';
import { changesNothingCached, seeOwnChanges } from '../../../src/api/cache/see-own-changes';

/** A feed that counts the syncs asked of it. */
function countingChanges(): Changes & { syncs: number } {
  const changes = {
    syncs: 0,
    epoch: 0,
    fresh: () => true,
    subscribe: () => () => undefined,
    sync: () => {
      changes.syncs += 1;
      return Promise.resolve();
    },
  };
  return changes;
}

function app(changes: Changes): Koa {
  const koa = new Koa();
  koa.silent = true;
  koa.use(seeOwnChanges(changes));
  koa.use((ctx) => {
    if (ctx.path === '/inference') {
      changesNothingCached(ctx);
    }
    if (ctx.path === '/fails') {
      ctx.throw(400, 'refused');
    }
    ctx.body = 'ok';
  });
  return koa;
}

describe('seeOwnChanges', () => {
  it('answers a request that may change something only after hearing every change made so far', async () => {
    const changes = countingChanges();
    await request(app(changes).callback()).post('/models').expect(200);
    await request(app(changes).callback()).delete('/models/1').expect(200);
    // Also when the handler failed after writing.
    await request(app(changes).callback()).put('/fails').expect(400);
    expect(changes.syncs).toBe(3);
  });

  it('does not wait for GET, HEAD, OPTIONS, nor for a route that changes nothing cached', async () => {
    const changes = countingChanges();
    await request(app(changes).callback()).get('/models').expect(200);
    await request(app(changes).callback()).head('/models').expect(200);
    await request(app(changes).callback()).options('/models').expect(200);
    await request(app(changes).callback()).post('/inference').expect(200);
    expect(changes.syncs).toBe(0);
  });
});
