import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { stringify as toYaml } from 'yaml';
import { notFound } from '../../../errors';
import { buildOpenApiDocument } from '../../openapi/document';
import { anonymousRoute, type RouteContext } from '../../routing/route';
import { redocPage, swaggerInitScript, swaggerUiPage } from './pages';

const TAG = 'schema';
const SCHEMA_URL = '/api/schema/?format=json';
const SWAGGER_ASSETS = '/api/schema/swagger-ui';
const REDOC_BUNDLE = '/api/schema/redoc/redoc.standalone.js';

/** Media types the reference (drf-spectacular) answers with, by what the client accepts. */
const JSON_TYPES = ['application/vnd.oai.openapi+json', 'application/json'];
const YAML_TYPES = ['application/vnd.oai.openapi', 'application/yaml'];

/** Swagger UI files served from the installed package (no CDN). */
const SWAGGER_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/**
 * `GET /api/schema/`, `/swagger-ui/` and `/redoc/`: the OpenAPI document (YAML or JSON by Accept or `?format=`),
 * Swagger UI and ReDoc; no authentication.
 */
export function schemaRoutes(rc: RouteContext): void {
  let document: Record<string, unknown> | undefined;
  anonymousRoute(
    rc,
    {
      method: 'get',
      path: '/schema',
      tag: TAG,
      offline: true,
      summary: 'This OpenAPI 3.1 document: YAML by default, JSON when asked for by Accept or `?format=json`.',
      query: z.object({ format: z.enum(['json', 'yaml']).optional() }),
      responses: [{ status: 200, description: 'The OpenAPI document.' }],
    },
    async (ctx, { query }) => {
      document ??= buildOpenApiDocument(rc.registry.routes, packageVersion());
      const type =
        query.format === 'json'
          ? 'application/json'
          : query.format === 'yaml'
            ? YAML_TYPES[0]
            : ctx.accepts(...YAML_TYPES, ...JSON_TYPES);
      const asJson = typeof type === 'string' && JSON_TYPES.includes(type);
      ctx.type = typeof type === 'string' ? type : 'application/vnd.oai.openapi';
      ctx.body = asJson ? JSON.stringify(document) : toYaml(document, { aliasDuplicateObjects: false });
      await Promise.resolve();
    },
  );
  rc.router.get('/schema/swagger-ui', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = swaggerUiPage(SWAGGER_ASSETS);
  });
  rc.router.get('/schema/swagger-ui/swagger-init.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = swaggerInitScript(SCHEMA_URL);
  });
  rc.router.get('/schema/swagger-ui/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    const type = SWAGGER_FILES[file];
    if (!type) {
      throw notFound('Not found.');
    }
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fs.createReadStream(path.join(packageDir('swagger-ui-dist'), file));
  });
  rc.router.get('/schema/redoc', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = redocPage(SCHEMA_URL, REDOC_BUNDLE);
  });
  rc.router.get('/schema/redoc/redoc.standalone.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fs.createReadStream(path.join(packageDir('redoc'), 'bundles', 'redoc.standalone.js'));
  });
}

function packageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

function packageVersion(): string {
  // src/api/routes/schema and dist/api/routes/schema both sit four levels below the package root.
  const file = path.resolve(__dirname, '../../../../package.json');
  const parsed = z.object({ version: z.string() }).safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data.version : '0.0.0';
}
