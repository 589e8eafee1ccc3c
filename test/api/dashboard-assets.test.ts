import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DASHBOARD_CSP } from '../../src/api/dashboard/asset-routes';
import { testEnv } from '../support/test-env';
import { createTestApi, errorOf, type TestApi } from '../fixtures/api-app';

/** The files index.html names, as the build wrote them. */
function assetsOf(page: string): { script: string; stylesheet: string } {
  const script = /<script type="module" src="(\/ui\/assets\/main-[A-Z0-9]+\.js)"><\/script>/.exec(page)?.[1];
  const stylesheet = /<link rel="stylesheet" href="(\/ui\/assets\/main-[A-Z0-9]+\.css)">/.exec(page)?.[1];
  if (script === undefined || stylesheet === undefined) {
    throw new Error(`index.html names no script or stylesheet:\n${page}`);
  }
  return { script, stylesheet };
}

describe('the dashboard at /ui/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('when / or /ui is asked for, redirects to /ui/', async () => {
    for (const from of ['/', '/ui']) {
      const res = await request(api.app.callback()).get(from);
      expect(res).toMatchObject({ status: 302, headers: { location: '/ui/' } });
    }
  });

  it('when /ui/ is asked for, answers the built page, revalidated each time, under a CSP without inline scripts', async () => {
    const res = await request(api.app.callback()).get('/ui/');
    expect(res).toMatchObject({
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': DASHBOARD_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      },
    });
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    // Every script is a file: none has a body the policy would have to allow inline.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).toBe(await fs.readFile(path.join(testEnv('uiDir'), 'index.html'), 'utf8'));
  });

  it('when a path of the dashboard below /ui/ is asked for, answers the same page (the browser routes it)', async () => {
    const page = await request(api.app.callback()).get('/ui/');
    for (const route of ['/ui/trainings', '/ui/trainings/5b0f1f0e-1111-4b6a-9d0c-0a4e5d0c1a2b', '/ui/sign-in']) {
      const res = await request(api.app.callback()).get(route);
      expect(res).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
      expect(res.text).toBe(page.text);
    }
  });

  it('when the script and stylesheet the page names are asked for, answers them with their types, cached for good', async () => {
    const page = await request(api.app.callback()).get('/ui/');
    const { script, stylesheet } = assetsOf(page.text);
    for (const [url, type] of [
      [script, 'application/javascript; charset=utf-8'],
      [stylesheet, 'text/css; charset=utf-8'],
      [`${script}.map`, 'application/json; charset=utf-8'],
    ] as const) {
      const res = await request(api.app.callback()).get(url).buffer(true);
      const file = await fs.readFile(path.join(testEnv('uiDir'), url.replace('/ui/', '')));
      expect(res).toMatchObject({
        status: 200,
        headers: {
          'content-type': type,
          'cache-control': 'public, max-age=31536000, immutable',
          'content-length': String(file.length),
          'x-content-type-options': 'nosniff',
        },
      });
    }
  });

  it('when an asset does not exist or names another folder, answers 404 JSON and no file', async () => {
    for (const url of [
      '/ui/assets/main-NOPE.js',
      '/ui/assets/..%2Findex.html',
      '/ui/assets/..%2F..%2F..%2Fpackage.json',
      '/ui/assets/.hidden.js',
      '/ui/assets/index.html',
      '/ui/assets/deeper/main.js',
    ]) {
      const res = await request(api.app.callback()).get(url);
      expect(res).toMatchObject({ status: 404, body: { detail: 'Not found.', code: 'not_found' } });
    }
  });

  it('when the page is posted to, answers 405 naming the methods allowed', async () => {
    const res = await request(api.app.callback()).post('/ui/').send({});
    expect(res).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(res.headers.allow).toContain('GET');
  });

  it('when the dashboard is served, the paths beside it answer as before', async () => {
    const env = await request(api.app.callback()).get('/env.json/');
    expect(env).toMatchObject({ status: 200, body: { user: null } });
    const ok = await request(api.app.callback()).get('/ok.json');
    expect(ok.status).toBe(401);
    const health = await request(api.app.callback()).get('/api/health/');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const action = await request(api.app.callback()).get('/actions/ping/');
    expect(action.status).toBe(405);
  });
});

describe('the dashboard at /ui/ when it is not built', () => {
  let api: TestApi;
  let empty: string;

  beforeAll(async () => {
    empty = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-no-ui-'));
    api = await createTestApi({ dashboard: { assetsDir: empty } });
  });

  afterAll(async () => {
    await api.close();
    await fs.rm(empty, { recursive: true, force: true });
  });

  it('when the page is asked for, answers 503 saying how to build it', async () => {
    const res = await request(api.app.callback()).get('/ui/trainings');
    expect(res).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    expect(errorOf(res.body).detail).toBe(`The dashboard is not built in ${empty}: run npm run build.`);
  });
});
