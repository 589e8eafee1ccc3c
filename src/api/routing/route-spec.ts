import type { z } from 'zod';
import type { BodyKind, BodyLimits } from './body';

/** HTTP methods the API routes. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A response as the OpenAPI document describes it. */
export interface ResponseSpec {
  readonly status: number;
  readonly description: string;
  /** The JSON body's schema; omitted for bodiless answers. */
  readonly schema?: z.ZodType;
  /** The body is raw bytes (`application/octet-stream`); with `schema` too, the answer is one or the other. */
  readonly binary?: boolean;
  /** The media types of a binary body, when not `application/octet-stream`. */
  readonly binaryTypes?: readonly string[];
  /** Response headers, as OpenAPI header objects by name. */
  readonly headers?: Record<string, unknown>;
}

/** Body media types a route may restrict itself to, with their full names. */
export const MEDIA_TYPES = { json: 'application/json', multipart: 'multipart/form-data' } as const;
export type AcceptedMediaType = keyof typeof MEDIA_TYPES;

/** A file part of a multipart request. */
export interface FileSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
}

/**
 * One endpoint: its path (Koa style, without the trailing slash, which the router's non-strict matching accepts),
 * the schemas that validate its input, and what it answers. The OpenAPI document is generated from these, so the
 * documentation cannot drift from the validation.
 */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  /**
   * Served at the server's root rather than under `/api`, with `path` exactly as clients send it (the seed-004
   * job-server protocol).
   */
  readonly root?: boolean;
  readonly description?: string;
  /** Anonymous routes: registration and the OpenAPI documents. */
  readonly anonymous?: boolean;
  /** Answers without the database or Temporal (the OpenAPI documents): never 503. */
  readonly offline?: boolean;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly bodyKind?: BodyKind;
  /**
   * Fields of a JSON body whose list and string values the handler gets as their text (`JsonText`), for the thread
   * that uses them to parse: the API thread never parses megabytes of numbers, nor copies a long base64 string.
   */
  readonly keepAsText?: readonly string[];
  /** The body limit of this route, when it takes more than the configured one (metrics carry pictures as base64). */
  readonly bodyBytes?: (limits: BodyLimits) => number;
  /** The file limit of this route, when it is not the configured upload limit (datasets have their own). */
  readonly uploadBytes?: (limits: BodyLimits) => number;
  /** The only body media types taken; any other (none included) is 415 before the body is read. */
  readonly accepts?: readonly AcceptedMediaType[];
  readonly files?: readonly FileSpec[];
  /** For an `upload` route: the JSON body it also takes (without files); without it, the route is multipart only. */
  readonly jsonBody?: z.ZodType;
  readonly responses: readonly ResponseSpec[];
}

/** Every route of an app, in registration order, for the OpenAPI document. */
export class RouteRegistry {
  readonly routes: RouteSpec[] = [];

  /** Records a route. */
  add(spec: RouteSpec): void {
    this.routes.push(spec);
  }
}
