import type { z } from 'zod';
import { CSRF_HEADER } from '../auth/csrf-guard';
import { CSRF_COOKIE, SESSION_COOKIE } from '../auth/session-cookies';
import { CSRF_FIELD } from '../routing/body';
import type { ResponseSpec, RouteSpec } from '../routing/route-spec';
import { errorSchema } from '../routes/common-schemas';
import { jsonSchemaOf, type JsonSchema } from './documented';

const AUTHENTICATED = [{ tokenAuth: [] }, { bearerAuth: [] }, { basicAuth: [] }, { sessionAuth: [] }];
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['post', 'put', 'patch', 'delete']);
const BINARY: JsonSchema = { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' };

/**
 * The OpenAPI 3.1 document of every registered route, generated from the zod schemas that validate the requests (and
 * describe the answers), so it cannot drift from what the server accepts.
 */
export function buildOpenApiDocument(routes: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = toOpenApiPath(route);
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
          description:
            'User name and password (counted against the failed-login limits, like a login), or the token and no password.',
        },
        sessionAuth: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description:
            `The session cookie \`POST /api/auth/login/\` sets; used only without an \`Authorization\` header. POST, ` +
            `PUT, PATCH and DELETE also need the \`${CSRF_COOKIE}\` cookie's value in the \`${CSRF_HEADER}\` header or ` +
            `the \`${CSRF_FIELD}\` form field, and refuse an \`Origin\` of another site.`,
        },
      },
    },
  };
}

/**
 * `/models/:id` -> `/api/models/{id}/` (the reference's paths end with a slash); a root route's path is kept as it is
 * written, parameters aside (`/actions/get_round/:id.json/` -> `/actions/get_round/{id}.json/`).
 */
function toOpenApiPath(route: RouteSpec): string {
  const path = route.path.replace(/:(\w+)/g, '{$1}');
  return route.root ? path : `/api${path}/`;
}

function operation(route: RouteSpec): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const response of [...standardResponses(route), ...route.responses]) {
    // A route's own description of a status replaces the standard one.
    responses[String(response.status)] = {
      description: response.description,
      ...(response.headers ? { headers: response.headers } : {}),
      ...content(response),
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
    responses: sortedByStatus(responses),
  };
}

/** A response's bodies by media type: its bytes, its JSON, or either; none for a bodiless answer. */
function content(response: ResponseSpec): JsonSchema {
  const types = response.binary ? (response.binaryTypes ?? ['application/octet-stream']) : [];
  const bodies: JsonSchema = Object.fromEntries(
    types.map((type) => [type, { schema: { ...BINARY, contentMediaType: type } }]),
  );
  if (response.schema) {
    bodies['application/json'] = { schema: jsonSchemaOf(response.schema, 'output') };
  }
  return Object.keys(bodies).length > 0 ? { content: bodies } : {};
}

/** The error answers every route of its kind gives, whatever its handler does (the middleware's answers). */
function standardResponses(route: RouteSpec): ResponseSpec[] {
  const out: ResponseSpec[] = [];
  if (route.params || route.query || route.bodyKind) {
    out.push({
      status: 400,
      description: route.params ? 'A malformed id, or an invalid field.' : 'An invalid or missing field.',
      schema: errorSchema,
    });
  }
  if (!route.anonymous) {
    out.push({
      status: 401,
      description: 'No or invalid credentials.',
      schema: errorSchema,
      headers: { 'WWW-Authenticate': { required: true, schema: { type: 'string', const: 'Token' } } },
    });
  }
  if (!route.anonymous && UNSAFE_METHODS.has(route.method)) {
    out.push({
      status: 403,
      description: 'With a session: a missing or wrong CSRF token, or an `Origin` of another site.',
      schema: errorSchema,
    });
  }
  if (route.params) {
    out.push({ status: 404, description: 'No such resource, or the caller may not see it.', schema: errorSchema });
  }
  if (route.query) {
    // Node's HTTP parser answers it, bodiless, before the app sees a request line past its 16 KiB header limit.
    out.push({ status: 431, description: 'A request line (with its query) or headers beyond 16 KiB.' });
  }
  if (route.bodyKind) {
    out.push({ status: 413, description: 'A body or file beyond the configured limit.', schema: errorSchema });
  }
  // A raw-JSON route reads its body as JSON whatever the Content-Type says, as the reference does.
  if (route.bodyKind && route.bodyKind !== 'raw-json') {
    out.push({ status: 415, description: 'A body of a media type the route does not take.', schema: errorSchema });
  }
  if (!route.offline) {
    out.push({
      status: 503,
      description: 'A service the request needs (the database, Temporal, the inference threads) cannot serve it now.',
      schema: errorSchema,
      headers: {
        'Retry-After': { required: true, description: 'Seconds to wait before retrying.', schema: { type: 'string' } },
      },
    });
  }
  return out;
}

/** The document lists an operation's answers by status. */
function sortedByStatus(responses: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
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
  const json = jsonSchemaOf(schema, 'input');
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
  const fields = route.body ? jsonSchemaOf(route.body, 'input') : { type: 'object', properties: {} };
  const formFields = route.body ? jsonSchemaOf(route.body, 'input', 'form') : fields;
  if (route.bodyKind === 'raw-json') {
    return { required: true, content: { 'application/json': { schema: fields } } };
  }
  const files = route.files ?? [];
  const multipart = {
    ...formFields,
    properties: {
      ...(isRecord(formFields.properties) ? formFields.properties : {}),
      ...Object.fromEntries(files.map((file) => [file.name, { ...BINARY, description: file.description }])),
    },
    // A field that may also come as a file part (inference's model_input) is named once.
    required: [
      ...new Set([
        ...(Array.isArray(formFields.required) ? formFields.required.filter((name) => typeof name === 'string') : []),
        ...files.filter((file) => file.required).map((file) => file.name),
      ]),
    ],
  };
  // An upload route takes JSON only where it has a form without files (`jsonBody`); a file it requires cannot be JSON.
  const json = route.bodyKind === 'data' ? fields : route.jsonBody ? jsonSchemaOf(route.jsonBody, 'input') : undefined;
  return {
    // A form whose every field is optional may be left out altogether (a bodiless POST reads as no fields).
    required: multipart.required.length > 0,
    content: {
      'multipart/form-data': { schema: multipart },
      ...(json ? { 'application/json': { schema: json } } : {}),
      ...(route.bodyKind === 'data' ? { 'application/x-www-form-urlencoded': { schema: formFields } } : {}),
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
