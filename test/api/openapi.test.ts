import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createTestApi, type TestApi } from '../fixtures/api-app';

/** The value at a path of keys in parsed JSON (undefined when a step is missing). */
function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

describe('GET /api/schema/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('when Swagger UI is asked for without credentials, answers 200 HTML whose assets are served locally', async () => {
    const page = await request(api.app.callback()).get('/api/schema/swagger-ui/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('/api/schema/swagger-ui/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    const bundle = await request(api.app.callback()).get('/api/schema/swagger-ui/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });

  it('when ReDoc is asked for, answers 200 HTML and serves the installed redoc bundle', async () => {
    const page = await request(api.app.callback()).get('/api/schema/redoc/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<redoc spec-url="/api/schema/?format=json">');
    const bundle = await request(api.app.callback()).get('/api/schema/redoc/redoc.standalone.js');
    expect(bundle.status).toBe(200);
  });

  it.each([
    ['application/yaml', 'application/yaml'],
    ['application/vnd.oai.openapi', 'application/vnd.oai.openapi'],
  ])('when Accept is %s, answers parseable YAML with that content type', async (accept, type) => {
    const res = await request(api.app.callback()).get('/api/schema/').set('Accept', accept);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain(type);
    const doc = parseYaml(res.text) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
  });

  it.each([
    ['application/json', 'application/json'],
    ['application/vnd.oai.openapi+json', 'application/vnd.oai.openapi+json'],
  ])('when Accept is %s, answers parseable JSON with that content type', async (accept, type) => {
    const res = await request(api.app.callback()).get('/api/schema/').set('Accept', accept);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain(type);
    expect((JSON.parse(res.text) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('documents every endpoint E4 to E35 with the schemas that validate the requests', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    const doc: unknown = JSON.parse(res.text);
    expect(Object.keys(z.object({ paths: z.record(z.string(), z.unknown()) }).parse(doc).paths)).toEqual(
      expect.arrayContaining([
        '/api/users/',
        '/api/users/{id}/',
        '/api/groups/{id}/',
        '/api/models/',
        '/api/models/{id}/',
        '/api/models/{id}/metadata/',
        '/api/models/{id}/metrics/',
        '/api/models/{id}/preprocessing/',
        '/api/models/{id}/swag/',
        '/api/models/{id}/rounds/',
        '/api/trainings/',
        '/api/trainings/{id}/',
        '/api/trainings/{id}/models/latest/',
        '/api/trainings/{id}/clients/',
        '/api/trainings/{id}/start/',
      ]),
    );
    const body = ['paths', '/api/trainings/', 'post', 'requestBody', 'content', 'application/json', 'schema'];
    expect(at(doc, ...body, 'required')).toEqual(
      expect.arrayContaining(['model_id', 'target_num_updates', 'aggregation_method']),
    );
    expect(at(doc, ...body, 'properties', 'aggregation_method', 'enum')).toContain('FedAdam');
    expect(at(doc, ...body, 'additionalProperties')).toBe(false);
    const upload = ['paths', '/api/models/{id}/', 'post', 'requestBody', 'content', 'multipart/form-data', 'schema'];
    expect(at(doc, ...upload, 'properties', 'model_file')).toMatchObject({ type: 'string', format: 'binary' });
    expect(at(doc, ...upload, 'required')).toEqual(expect.arrayContaining(['round', 'sample_size', 'model_file']));
    expect(at(doc, 'paths', '/api/users/', 'post', 'security')).toEqual([]);
    expect(at(doc, 'paths', '/api/models/', 'get', 'responses', '401')).toBeDefined();
    expect(at(doc, 'paths', '/api/trainings/{id}/models/latest/', 'get', 'operationId')).toBe(
      'getTrainingsIdModelsLatest',
    );
  });
});
