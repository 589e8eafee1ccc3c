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

  it('documents every endpoint from /api/groups/ to /api/trainings/{id}/start/ with the schemas that validate the requests', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    const doc: unknown = JSON.parse(res.text);
    expect(Object.keys(z.object({ paths: z.record(z.string(), z.unknown()) }).parse(doc).paths)).toEqual(
      expect.arrayContaining([
        '/api/users/',
        '/api/users/{id}/',
        '/api/groups/{id}/',
        '/api/groups/{id}/members/',
        '/api/groups/{id}/join/',
        '/api/groups/{id}/leave/',
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
        '/api/trainings/{id}/rounds/',
        '/api/trainings/{id}/rounds/{n}/',
        '/api/trainings/{id}/rounds/{n}/decline/',
        '/api/users/myself/tasks/',
        '/api/users/myself/tasks/{id}/ack/',
        '/api/models/{id}/metrics/{metric_id}/',
        '/api/auth/login/',
        '/api/auth/logout/',
        '/api/auth/token/',
        '/api/auth/notification-secret/',
        '/api/datasets/',
        '/api/datasets/{id}/',
        '/api/datasets/{id}/points/',
      ]),
    );
    const body = ['paths', '/api/trainings/', 'post', 'requestBody', 'content', 'application/json', 'schema'];
    const variants = z
      .array(
        z.object({
          required: z.array(z.string()),
          additionalProperties: z.literal(false),
          properties: z.object({
            aggregation_method: z.object({ const: z.string() }),
            options: z.object({ properties: z.record(z.string(), z.unknown()) }),
          }),
        }),
      )
      .parse(at(doc, ...body, 'oneOf'));
    // One variant per method, each offering its own strategy parameters and no other method's.
    const byMethod = new Map(variants.map((v) => [v.properties.aggregation_method.const, v]));
    expect([...byMethod.keys()]).toEqual(expect.arrayContaining(['FedAvg', 'FedAdam', 'Bulyan', 'FedDC']));
    expect(byMethod.size).toBe(12);
    for (const variant of variants) {
      expect(variant.required).toEqual(
        expect.arrayContaining(['model_id', 'target_num_updates', 'aggregation_method']),
      );
    }
    expect(Object.keys(byMethod.get('FedAdam')!.properties.options.properties)).toEqual(
      expect.arrayContaining(['eta', 'eta_l', 'beta_1', 'beta_2', 'tau', 'round_timeout']),
    );
    expect(byMethod.get('FedAvg')!.properties.options.properties).not.toHaveProperty('eta');
    expect(byMethod.get('Krum')!.properties.options.properties).not.toHaveProperty('proximal_mu');
    const upload = ['paths', '/api/models/{id}/', 'post', 'requestBody', 'content', 'multipart/form-data', 'schema'];
    expect(at(doc, ...upload, 'properties', 'model_file')).toMatchObject({ type: 'string', format: 'binary' });
    expect(at(doc, ...upload, 'required')).toEqual(expect.arrayContaining(['round', 'sample_size', 'model_file']));
    expect(at(doc, 'paths', '/api/users/', 'post', 'security')).toEqual([]);
    // Sessions: login is anonymous and may answer 429; every authenticated route takes the session cookie too.
    expect(at(doc, 'paths', '/api/auth/login/', 'post', 'security')).toEqual([]);
    expect(at(doc, 'paths', '/api/auth/login/', 'post', 'responses', '429', 'headers', 'Retry-After')).toBeDefined();
    expect(at(doc, 'components', 'securitySchemes', 'sessionAuth')).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'sessionid',
    });
    expect(at(doc, 'paths', '/api/models/', 'get', 'security')).toContainEqual({ sessionAuth: [] });
    expect(at(doc, 'paths', '/api/auth/token/', 'post', 'responses', '403')).toBeDefined();
    expect(at(doc, 'paths', '/api/models/', 'get', 'responses', '401')).toBeDefined();
    expect(at(doc, 'paths', '/api/trainings/{id}/models/latest/', 'get', 'operationId')).toBe(
      'getTrainingsIdModelsLatest',
    );
  });

  it('says what each operation answers and takes, as the server does', async () => {
    const res = await request(api.app.callback()).get('/api/schema/?format=json');
    const doc: unknown = JSON.parse(res.text);
    const paths = z.record(
      z.string(),
      z.record(z.string(), z.object({ responses: z.record(z.string(), z.unknown()) })),
    );
    for (const [path, operations] of Object.entries(paths.parse(at(doc, 'paths')))) {
      for (const [method, operation] of Object.entries(operations)) {
        // A malformed id is a 400 on every {id} route; a missing one a 404.
        if (path.includes('{id}')) {
          expect([method, path, Object.keys(operation.responses)]).toEqual([
            method,
            path,
            expect.arrayContaining(['400', '404']),
          ]);
        }
        if (path !== '/api/schema/') {
          expect(at(operation.responses, '503', 'headers', 'Retry-After', 'required')).toBe(true);
        }
      }
    }
    // A route that requires a file is multipart only; its form fields have the types they mean.
    const upload = ['paths', '/api/models/{id}/', 'post', 'requestBody', 'content'];
    expect(Object.keys(z.record(z.string(), z.unknown()).parse(at(doc, ...upload)))).toEqual(['multipart/form-data']);
    const form = [...upload, 'multipart/form-data', 'schema', 'properties'];
    expect(at(doc, ...form, 'round', 'type')).toBe('integer');
    expect(at(doc, ...form, 'sample_size', 'type')).toBe('integer');
    expect(at(doc, ...form, 'metric_names', 'anyOf', '0', 'type')).toBe('array');
    const register = ['paths', '/api/users/', 'post', 'requestBody', 'content', 'application/json', 'schema'];
    expect(at(doc, ...register, 'properties', 'actor', 'type')).toBe('boolean');
    expect(at(doc, ...register, 'properties', 'client', 'type')).toBe('boolean');
    const metrics = ['paths', '/api/models/{id}/metrics/', 'post', 'requestBody', 'content', 'application/json'];
    expect(at(doc, ...metrics, 'schema', 'required')).toEqual(['metric_names', 'metric_values']);
    const model = ['paths', '/api/models/', 'post', 'requestBody', 'content'];
    expect(at(doc, ...model, 'multipart/form-data', 'schema', 'required')).toEqual(
      expect.arrayContaining(['model_file']),
    );
    expect(at(doc, ...model, 'application/json', 'schema', 'required')).toEqual(expect.arrayContaining(['models']));
    const inference = ['paths', '/api/inference/', 'post', 'requestBody', 'content', 'application/json', 'schema'];
    expect(at(doc, ...inference, 'properties', 'model_id', 'format')).toBe('uuid');
    expect(at(doc, ...inference, 'properties', 'return_format', 'enum')).toEqual(['json', 'binary']);
    expect(at(doc, ...inference, 'required')).toEqual(['model_id', 'model_input']);
  });
});
