import { translateOutage } from '../../../src/api/middleware/outage-errors';

describe('translateOutage', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a connection cut under a query', new Error('Connection terminated unexpectedly')],
    // Knex's ROLLBACK of a transaction whose connection died while Postgres was killed mid-upload.
    [
      'a rollback on a dead connection',
      new Error('ROLLBACK - Client has encountered a connection error and is not queryable'),
    ],
    ['a closed client', new Error('select 1 - Client was closed and is not queryable')],
    ['a server shutting down', Object.assign(new Error('terminating connection'), { code: '57P01' })],
  ])('when the database is gone (%s), answers 503 naming it, with Retry-After', (_what, err) => {
    const answer = translateOutage(err);
    expect([answer?.status, answer?.code, answer?.message, answer?.headers]).toEqual([
      503,
      'unavailable',
      'The database is unavailable right now; retry shortly.',
      { 'Retry-After': '5' },
    ]);
  });

  it('when the error is the request’s own (a unique violation), leaves it to the other translators', () => {
    expect(translateOutage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeUndefined();
  });
});
