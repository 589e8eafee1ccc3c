import { z } from 'zod';
import type { RouteSpec } from '../routing/route-spec';

type JsonSchema = Record<string, unknown>;

const AUTHENTICATED = [{ tokenAuth: [] }, { bearerAuth: [] }, { basicAuth: [] }];
const BINARY: JsonSchema = { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' };
const ERROR: JsonSchema = {
  type: 'object',
  properties: { detail: { type: 'string' }, code: { type: 'string' } },
  required: ['detail', 'code'],
};

/**
 * The OpenAPI 3.1 document of every registered route, generated from the zod schemas that validate the requests (and
 * describe the answers), so it cannot drift from what the server accepts.
 */
export function buildOpenApiDocument(routes: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = toOpenApiPath(route.path);
    (paths[path] ??= {})[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roundhouse API',
      version,
      description:
        'Federated learning server compatible with the DLR fl-demonstrator REST API. Errors are `{"detail", "code"}`.',
    },
    paths,
    components: {
      securitySchemes: {
        tokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <40-hex key>`' },
        bearerAuth: { type: 'http', scheme: 'bearer' },
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description: 'User name and password, or the token and no password.',
        },
      },
    },
  };
}

/** `/models/:id` -> `/api/models/{id}/` (the reference's paths end with a slash). */
function toOpenApiPath(path: string): string {
  return `/api${path.replace(/:(\w+)/g, '{$1}')}/`;
}

function operation(route: RouteSpec): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const response of route.responses) {
    responses[String(response.status)] = {
      description: response.description,
      ...(response.binary
        ? { content: { 'application/octet-stream': { schema: BINARY } } }
        : response.schema
          ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }
          : {}),
    };
  }
  if (!route.anonymous) {
    responses['401'] = {
      description: 'No or invalid credentials (`WWW-Authenticate: Token`).',
      content: { 'application/json': { schema: ERROR } },
    };
  }
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    operationId: operationId(route),
    security: route.anonymous ? [] : AUTHENTICATED,
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(route.bodyKind ? { requestBody: requestBody(route) } : {}),
    responses,
  };
}

/** `get` + `/trainings/:id/models/latest` -> `getTrainingsIdModelsLatest`. */
function operationId(route: RouteSpec): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  return route.method + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) {
    return [];
  }
  const json = jsonSchema(schema, 'input');
  const properties = isRecord(json.properties) ? json.properties : {};
  const required = Array.isArray(json.required) ? json.required : [];
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: property,
  }));
}

function requestBody(route: RouteSpec): JsonSchema {
  const fields = route.body ? jsonSchema(route.body, 'input') : { type: 'object', properties: {} };
  if (route.bodyKind === 'raw-json') {
    return { required: true, content: { 'application/json': { schema: fields } } };
  }
  const files = route.files ?? [];
  const multipart = {
    ...fields,
    properties: {
      ...(isRecord(fields.properties) ? fields.properties : {}),
      ...Object.fromEntries(files.map((file) => [file.name, { ...BINARY, description: file.description }])),
    },
    required: [
      ...(Array.isArray(fields.required) ? fields.required.filter((name) => typeof name === 'string') : []),
      ...files.filter((file) => file.required).map((file) => file.name),
    ],
  };
  return {
    required: true,
    content: {
      'multipart/form-data': { schema: multipart },
      'application/json': { schema: fields },
      ...(route.bodyKind === 'data' ? { 'application/x-www-form-urlencoded': { schema: fields } } : {}),
    },
  };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
