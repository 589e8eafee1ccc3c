import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  basicAuth,
  buildApiUser,
  createTestApi,
  errorOf,
  PASSWORD,
  tokenAuth,
  type TestApi,
} from '../fixtures/api-app';

const LIMITS = { failuresPerUsername: 3, failuresPerAddress: 5, failureWindowSeconds: 60 };

/** A client address of its own per test, so that tests do not count each other's failures. */
const newAddress = (): string => `10.${[...randomBytes(3)].join('.')}`;

describe('failed-login limits', () => {
  let api: TestApi;
  /** A second API process on the same database. */
  let other: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ auth: LIMITS });
    other = await createTestApi({ auth: LIMITS });
  });

  afterAll(async () => {
    await other.close();
    await api.close();
  });

  function login(app: TestApi, username: string, password: string, address: string): request.Test {
    return request(app.app.callback())
      .post('/api/auth/login/')
      .set('X-Forwarded-For', address)
      .send({ username, password });
  }

  /** Moves the failures of a user name back in time by `seconds`. */
  async function ageFailures(username: string, seconds: number): Promise<void> {
    await api
      .knex('login_failures')
      .where({ usernameHash: createHash('sha256').update(username).digest('hex') })
      .update({ failedAt: api.knex.raw('failed_at - make_interval(secs => ?)', [seconds]) });
  }

  it('when a user name had its failures (from any address), answers 429 with Retry-After even for the right password', async () => {
    const user = await buildApiUser(api.knex);
    for (let i = 0; i < LIMITS.failuresPerUsername; i += 1) {
      await expect(login(api, user.username, 'wrong', newAddress())).resolves.toMatchObject({ status: 401 });
    }
    const refused = await login(api, user.username, PASSWORD, newAddress());
    expect(refused).toMatchObject({ status: 429, body: { code: 'too_many_requests' } });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(errorOf(refused.body).detail).toBe(
      `Too many failed logins for this user name; try again in ${retryAfter} seconds.`,
    );
    // Retry-After counts down to when the oldest failure leaves the window, and then a login goes through again.
    await ageFailures(user.username, 50);
    const later = await login(api, user.username, PASSWORD, newAddress());
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(10);
    await ageFailures(user.username, 11);
    await expect(login(api, user.username, PASSWORD, newAddress())).resolves.toMatchObject({ status: 200 });
  });

  it('when an address had its failures with different user names, refuses it; other addresses and names still log in', async () => {
    const user = await buildApiUser(api.knex);
    const address = newAddress();
    for (let i = 0; i < LIMITS.failuresPerAddress; i += 1) {
      // A forged first X-Forwarded-For entry changes nothing: the proxy's (last) entry is the address.
      const res = await request(api.app.callback())
        .post('/api/auth/login/')
        .set('X-Forwarded-For', `${newAddress()}, ${address}`)
        .send({ username: `guess-${i}-${Date.now()}`, password: 'wrong' });
      expect(res.status).toBe(401);
    }
    const refused = await login(api, user.username, PASSWORD, address);
    expect(refused).toMatchObject({
      status: 429,
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) as string },
    });
    expect(errorOf(refused.body).detail).toMatch(
      /^Too many failed logins from this address; try again in \d+ seconds\.$/,
    );
    await expect(login(api, user.username, PASSWORD, newAddress())).resolves.toMatchObject({ status: 200 });
  });

  it('when the failures happened on another API process, this one counts them too', async () => {
    const user = await buildApiUser(api.knex);
    for (let i = 0; i < LIMITS.failuresPerUsername; i += 1) {
      await expect(login(other, user.username, 'wrong', newAddress())).resolves.toMatchObject({ status: 401 });
    }
    await expect(login(api, user.username, PASSWORD, newAddress())).resolves.toMatchObject({ status: 429 });
  });

  it('when wrong passwords come at once, no more than the limit of them is ever checked in the window', async () => {
    const user = await buildApiUser(api.knex);
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => login(api, user.username, 'wrong', newAddress()).then((res) => res.status)),
    );
    // Checks running at once count each other, so a burst may be refused whole; it never gets past the limit.
    expect(burst.filter((status) => status !== 429).every((status) => status === 401)).toBe(true);
    let checked = burst.filter((status) => status === 401).length;
    expect(checked).toBeLessThanOrEqual(LIMITS.failuresPerUsername);
    for (;;) {
      const status = (await login(api, user.username, 'wrong', newAddress())).status;
      if (status === 429) {
        break;
      }
      checked += 1;
    }
    expect(checked).toBe(LIMITS.failuresPerUsername);
  });

  it('when Basic passwords are guessed, they count as failed logins; a token is never limited', async () => {
    const user = await buildApiUser(api.knex);
    const address = newAddress();
    const get = (authorization: string): request.Test =>
      request(api.app.callback())
        .get('/api/users/myself/')
        .set('X-Forwarded-For', address)
        .set('Authorization', authorization);
    for (let i = 0; i < LIMITS.failuresPerUsername; i += 1) {
      await expect(get(basicAuth(user, 'wrong'))).resolves.toMatchObject({ status: 401 });
    }
    const refused = await get(basicAuth(user));
    expect(refused).toMatchObject({
      status: 429,
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) as string },
    });
    await expect(get(tokenAuth(user))).resolves.toMatchObject({ status: 200 });
  });

  it('when a login succeeds, it leaves no failure behind', async () => {
    const user = await buildApiUser(api.knex);
    for (let i = 0; i < LIMITS.failuresPerUsername + 2; i += 1) {
      await expect(login(api, user.username, PASSWORD, newAddress())).resolves.toMatchObject({ status: 200 });
    }
    const hash = createHash('sha256').update(user.username).digest('hex');
    expect(await api.knex('login_failures').where({ usernameHash: hash })).toEqual([]);
  });
});
