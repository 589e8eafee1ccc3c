import request from 'supertest';
import { buildApiUser, createTestApi, errorOf, PASSWORD, tokenAuth, type TestApi } from '../fixtures/api-app';
import { logIn, setCookiesOf } from '../fixtures/api-sessions';

/** A form body as the seed-004 client posts it: its fields, `csrfmiddlewaretoken` and `api=1`. */
function clientForm(csrfToken: string, fields: Record<string, string> = {}): string {
  return new URLSearchParams({ ...fields, csrfmiddlewaretoken: csrfToken, api: '1' }).toString();
}

describe('the seed-004 job-server protocol at the root', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('when asked without a session, env.json/ answers a CSRF token in its body and cookie, and no user', async () => {
    const res = await request(api.app.callback()).get('/env.json/');
    expect(res).toMatchObject({ status: 200, body: { user: null } });
    expect(setCookiesOf(res).csrftoken?.value).toBe((res.body as { csrftoken: string }).csrftoken);
    const again = await request(api.app.callback())
      .get('/env.json/')
      .set('Cookie', `csrftoken=${(res.body as { csrftoken: string }).csrftoken}`);
    expect(again.body).toEqual(res.body);
  });

  it('with a session, env.json/ and ok.json answer its token and user to a GET and a POST; ok.json is 401 without', async () => {
    const user = await buildApiUser(api.knex);
    const session = await logIn(api.app, user);
    const env = await request(api.app.callback()).get('/env.json/').set('Cookie', session.cookie);
    expect(env).toMatchObject({ status: 200, body: { csrftoken: session.csrfToken, user: user.username } });
    const ok = await request(api.app.callback())
      .post('/ok.json')
      .set('Cookie', session.cookie)
      .type('form')
      .send(clientForm(session.csrfToken));
    expect(ok).toMatchObject({ status: 200, body: { status: 'ok', user: user.username } });
    expect((await request(api.app.callback()).get('/ok.json')).status).toBe(401);
  });

  it('logs in with a form and redirects to next when it is a path of this site, else to /ok.json', async () => {
    const user = await buildApiUser(api.knex);
    const form = { username: user.username, password: PASSWORD, csrfmiddlewaretoken: 'x', api: '1' };
    const home = await request(api.app.callback()).post('/accounts/login/?next=%2Fok.json').type('form').send(form);
    expect(home).toMatchObject({ status: 302, headers: { location: '/ok.json' } });
    expect(setCookiesOf(home).sessionid?.value).toBeTruthy();
    const away = await request(api.app.callback())
      .post('/accounts/login/?next=%2F%2Fevil.example%2F')
      .type('form')
      .send(form);
    expect(away).toMatchObject({ status: 302, headers: { location: '/ok.json' } });
    const wrong = await request(api.app.callback())
      .post('/accounts/login/?next=%2Fok.json')
      .type('form')
      .send({ ...form, password: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong.body).detail).toBeTruthy();
  });

  it('answers a GET of an actions/ path with 405 and Allow: POST, and a POST without credentials with 401', async () => {
    const get = await request(api.app.callback()).get('/actions/ping/');
    expect(get).toMatchObject({ status: 405, headers: { allow: expect.stringContaining('POST') as unknown } });
    expect(errorOf(get.body).detail).toBeTruthy();
    expect((await request(api.app.callback()).post('/actions/ping/')).status).toBe(401);
  });

  it('answers a ping with null when the caller has no pending task, with a token too', async () => {
    const user = await buildApiUser(api.knex);
    const res = await request(api.app.callback()).post('/actions/ping/').set('Authorization', tokenAuth(user));
    expect(res).toMatchObject({ status: 200, text: 'null' });
  });

  it('refuses a malformed id, an unknown group and an unknown field with a 4xx and its detail', async () => {
    const user = await buildApiUser(api.knex);
    const auth = tokenAuth(user);
    const cases: Array<[string, Record<string, string>, number]> = [
      ['/actions/get_job_params/abc.json/', {}, 400],
      ['/actions/get_job_params/99999999999.json/', {}, 400],
      ['/actions/get_round/0.json/', {}, 400],
      ['/actions/get_round/2147483647.json/', {}, 404],
      ['/actions/join_group/no+such+group/', {}, 404],
      ['/actions/get_model/not-a-uuid/', {}, 400],
      ['/actions/ping/', { other: '1' }, 400],
      ['/actions/update_job_details/1.json/', { score_test: 'high' }, 400],
      ['/actions/update_job_details/2147483647.json/', {}, 404],
    ];
    for (const [path, fields, status] of cases) {
      const res = await request(api.app.callback()).post(path).set('Authorization', auth).type('form').send(fields);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(errorOf(res.body).detail).toBeTruthy();
    }
  });

  it('documents every route under the job-server tag at its root path', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    const paths = (res.body as { paths: Record<string, Record<string, { tags: string[] }>> }).paths;
    expect(paths['/actions/get_round/{id}.json/']?.post?.tags).toEqual(['job-server']);
    expect(Object.keys(paths['/env.json/'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(paths['/actions/ping/']?.get).toBeUndefined();
  });
});
