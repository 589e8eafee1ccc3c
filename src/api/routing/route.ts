import type { Router, RouterContext, RouterMiddleware } from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { User } from '../../db/models/user';
import { authenticate, callerOf, type Authenticator } from '../auth/authenticate';
import { checkCsrfField, csrfFormBody } from '../auth/csrf-guard';
import { unsupportedMediaType } from '../../errors';
import { jsonSchemaOf } from '../openapi/documented';
import { parseBody, type BodyLimits } from './body';
import { type AcceptedMediaType, MEDIA_TYPES, type RouteRegistry, type RouteSpec } from './route-spec';
import { collectFiles, type UploadedFiles } from './uploaded-files';
import { fieldMessage, jsonTypeError, nullCharacterError, type StrictJsonType, validationError } from './validation';

/** The validated input a handler receives. */
export interface RouteInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  readonly params: z.output<P>;
  readonly query: z.output<Q>;
  readonly body: z.output<B>;
  readonly files: UploadedFiles;
}

/** A handler of an authenticated route: the caller is always known. */
export type AuthedHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = (
  ctx: Context,
  input: RouteInput<P, Q, B> & { readonly user: User },
) => Promise<void>;

/** A handler of an anonymous route. */
export type AnonymousHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = (
  ctx: Context,
  input: RouteInput<P, Q, B>,
) => Promise<void>;

/** What route definitions need: the router to add to, the registry to document in, limits and authentication. */
export interface RouteContext {
  readonly router: Router;
  readonly registry: RouteRegistry;
  readonly limits: BodyLimits;
  readonly authenticator: Authenticator;
}

/**
 * Adds an authenticated route: 401 without valid credentials, then body parsing, the CSRF check of a session request,
 * validation and the handler.
 */
export function authedRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  rc: RouteContext,
  spec: RouteSpec<P, Q, B>,
  handler: AuthedHandler<P, Q, B>,
): void {
  register(rc, spec, authenticate(rc.authenticator), async (ctx, input) => {
    await handler(ctx, { ...input(), user: callerOf(ctx) });
  });
}

/** Adds a route anyone may call; any Authorization header is ignored. */
export function anonymousRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  rc: RouteContext,
  spec: RouteSpec<P, Q, B>,
  handler: AnonymousHandler<P, Q, B>,
): void {
  register(rc, { ...spec, anonymous: true }, undefined, async (ctx, input) => handler(ctx, input()));
}

function register<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  rc: RouteContext,
  spec: RouteSpec<P, Q, B>,
  auth: RouterMiddleware | undefined,
  run: (ctx: RouterContext, input: () => RouteInput<P, Q, B>) => Promise<void>,
): void {
  rc.registry.add(spec);
  let strictJson: ReadonlyMap<string, StrictJsonType> | undefined;
  const endpoint: RouterMiddleware = async (ctx) => {
    // The body parser removes the files' temporary folder once the request is answered.
    const files = collectFiles(ctx.request.files);
    const body: unknown = ctx.request.body === undefined ? {} : ctx.request.body;
    await run(ctx, () => {
      const params = parse(spec.params, ctx.params, 'path');
      const query = parse(spec.query, ctx.query, 'query');
      if (spec.body && spec.bodyKind !== 'raw-json' && ctx.is('json')) {
        strictJson ??= strictJsonFields(spec.body);
        const mistyped = jsonTypeError(body, strictJson);
        if (mistyped) {
          throw mistyped;
        }
      }
      return { params, query, body: parse(spec.body, body, 'body'), files };
    });
  };
  // Authentication first, so an anonymous caller's upload is refused before it is read.
  const chain: RouterMiddleware[] = [];
  if (auth) {
    chain.push(auth);
  }
  if (spec.accepts) {
    chain.push(acceptOnly(spec.accepts));
  }
  if (spec.bodyKind) {
    const limits = {
      ...rc.limits,
      ...(spec.bodyBytes ? { bodyBytes: spec.bodyBytes(rc.limits) } : {}),
      ...(spec.uploadBytes ? { uploadBytes: spec.uploadBytes(rc.limits) } : {}),
    };
    chain.push(parseBody(spec.bodyKind, limits, spec.keepAsText && new Set(spec.keepAsText)));
  } else if (auth) {
    chain.push(csrfFormBody(rc.limits));
  }
  if (auth) {
    // A session request's CSRF token may be a field of the body, so it is checked once the body is parsed.
    chain.push(checkCsrfField);
  }
  chain.push(endpoint);
  rc.router.register(spec.path, [spec.method.toUpperCase()], chain);
}

/** 415 for a body of any other media type than `accepted`, with the reference's wording. */
function acceptOnly(accepted: readonly AcceptedMediaType[]): RouterMiddleware {
  const names = accepted.map((type) => `'${MEDIA_TYPES[type]}'`).join(' and ');
  return async (ctx, next) => {
    if (!ctx.is(...accepted)) {
      throw unsupportedMediaType(`Only Content-Type ${names} is supported.`);
    }
    await next();
  };
}

/**
 * `data` checked against `schema`. Synchronously: no route schema refines or transforms asynchronously (zod would
 * throw on one), and an async parse costs a chain of promises per field (about 20 µs of an inference request).
 */
function parse<S extends z.ZodType>(schema: S | undefined, data: unknown, location: string): z.output<S> {
  if (!schema) {
    return undefined as z.output<S>;
  }
  const result = schema.safeParse(data, { error: (issue) => fieldMessage(issue) });
  if (!result.success) {
    throw validationError(result.error.issues, location);
  }
  const nullCharacter = nullCharacterError(data, location);
  if (nullCharacter) {
    throw nullCharacter;
  }
  return result.data;
}

/**
 * The top-level fields `schema` documents as booleans or integers. Its parsing also takes their text forms, which a
 * form needs; a JSON body has real booleans and numbers, so there the text forms are refused as the document says.
 */
function strictJsonFields(schema: z.ZodType): Map<string, StrictJsonType> {
  const properties = jsonSchemaOf(schema).properties;
  const fields = new Map<string, StrictJsonType>();
  for (const [name, property] of Object.entries(
    typeof properties === 'object' && properties !== null ? properties : {},
  )) {
    const type = (property as { type?: unknown }).type;
    if (type === 'boolean' || type === 'integer') {
      fields.set(name, type);
    }
  }
  return fields;
}
