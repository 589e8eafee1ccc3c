import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RoundhouseApiError, RoundhouseConnectionError } from './errors';
import type { MultipartBody } from './multipart';

/** How the SDK authenticates: an API token, a username and password (HTTP Basic), or nothing (registration). */
export type Credentials = { readonly token: string } | { readonly username: string; readonly password: string };

/** When and how often a request is sent again. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 6). */
  readonly attempts: number;
  /** The first backoff (default 500 ms); it doubles per attempt. */
  readonly baseDelayMs: number;
  /** No single wait is longer, `Retry-After` included (default 30 s). */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Bytes moved so far, and the total when known. */
export type ProgressCallback = (done: number, total: number | undefined) => void;

/** One request: where, with what, and whether it is safe to send twice. */
export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly json?: unknown;
  readonly multipart?: MultipartBody;
  /**
   * Safe to send again after a broken connection (GET, DELETE, and uploads the server deduplicates: updates,
   * metrics, moments). A 503 is retried either way: the server answers it before doing anything.
   */
  readonly idempotent?: boolean;
  readonly onUploadProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

/** What the SDK needs of `fetch` (the global one unless a test or a proxy passes another). */
export type Fetch = typeof fetch;

/** Settings of an `HttpClient`. */
export interface HttpOptions {
  /** The server's root, `http://localhost:8000` (the API is under `/api`). */
  readonly baseUrl: string;
  readonly credentials?: Credentials;
  readonly retry?: Partial<RetryPolicy>;
  readonly fetch?: Fetch;
  /** Told of every retry (what failed, the attempt that comes next, the wait): a CLI shows it. */
  readonly onRetry?: (event: { request: string; reason: string; attempt: number; delayMs: number }) => void;
}

/**
 * The transport under every SDK call: JSON and multipart requests with credentials, answers turned into values or
 * `RoundhouseApiError`, and the retry rules: a 503 is retried after its `Retry-After`; a broken connection, a 502 or
 * a 504 only for requests that are safe to repeat; everything else is final.
 */
export class HttpClient {
  readonly baseUrl: string;
  private readonly credentials: Credentials | undefined;
  private readonly retry: RetryPolicy;
  private readonly fetchImpl: Fetch;
  private readonly onRetry: HttpOptions['onRetry'];

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.credentials = options.credentials;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? fetch;
    this.onRetry = options.onRetry;
  }

  /** The same server and policy with other credentials. */
  withCredentials(credentials: Credentials | undefined): HttpClient {
    return new HttpClient({
      baseUrl: this.baseUrl,
      ...(credentials === undefined ? {} : { credentials }),
      retry: this.retry,
      fetch: this.fetchImpl,
      ...(this.onRetry === undefined ? {} : { onRetry: this.onRetry }),
    });
  }

  /** A JSON answer (undefined for a bodiless one). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A binary answer, read whole, with download progress. */
  async bytes(
    method: string,
    path: string,
    options: RequestOptions & { onDownloadProgress?: ProgressCallback } = {},
  ): Promise<{ bytes: Buffer; headers: Headers }> {
    const response = await this.send(method, path, options);
    const total = Number(response.headers.get('content-length') ?? Number.NaN);
    const chunks: Uint8Array[] = [];
    let received = 0;
    const body = (response.body ?? new ReadableStream<Uint8Array>()) as AsyncIterable<Uint8Array>;
    for await (const chunk of body) {
      chunks.push(chunk);
      received += chunk.length;
      options.onDownloadProgress?.(received, Number.isFinite(total) ? total : undefined);
    }
    return { bytes: Buffer.concat(chunks), headers: response.headers };
  }

  /** A binary answer streamed into `file` (written whole or not at all), with download progress; answers its size. */
  async download(
    path: string,
    file: string,
    options: RequestOptions & { onDownloadProgress?: ProgressCallback } = {},
  ): Promise<number> {
    const response = await this.send('GET', path, options);
    const total = Number(response.headers.get('content-length') ?? Number.NaN);
    const partial = `${file}.partial-${process.pid}`;
    let received = 0;
    const body = (response.body ?? new ReadableStream<Uint8Array>()) as AsyncIterable<Uint8Array>;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        received += chunk.length;
        options.onDownloadProgress?.(received, Number.isFinite(total) ? total : undefined);
        yield chunk;
      }
    }
    try {
      await pipeline(Readable.from(counted()), createWriteStream(partial));
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
    return received;
  }

  /** Sends a request under the retry rules; answers 2xx as they are, anything else as `RoundhouseApiError`. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const label = `${method} ${new URL(url).pathname}`;
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'DELETE');
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, this.init(method, options));
      } catch (error) {
        if (options.signal?.aborted === true || !idempotent || attempt >= this.retry.attempts) {
          throw options.signal?.aborted === true ? error : new RoundhouseConnectionError(label, error);
        }
        await this.wait(label, describe(error), attempt, this.backoff(attempt), options.signal);
        continue;
      }
      if (response.ok) {
        return response;
      }
      const retryable = response.status === 503 || (idempotent && (response.status === 502 || response.status === 504));
      if (!retryable || attempt >= this.retry.attempts) {
        throw await apiError(label, response);
      }
      await response.body?.cancel();
      const delay = retryAfter(response.headers.get('retry-after')) ?? this.backoff(attempt);
      await this.wait(label, `${response.status}`, attempt, Math.min(delay, this.retry.maxDelayMs), options.signal);
    }
  }

  private url(path: string, query: RequestOptions['query']): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }
    return url.toString();
  }

  private init(method: string, options: RequestOptions): RequestInit {
    const headers: Record<string, string> = { Accept: 'application/json, application/octet-stream' };
    const auth = authorization(this.credentials);
    if (auth !== undefined) {
      headers.Authorization = auth;
    }
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    } else if (options.multipart !== undefined) {
      const body = options.multipart;
      headers['Content-Type'] = body.contentType;
      headers['Content-Length'] = String(body.length);
      const progress = options.onUploadProgress;
      init.body = ReadableStream.from(body.open(progress && ((sent) => progress(sent, body.length))));
      init.duplex = 'half';
    }
    return init;
  }

  private backoff(attempt: number): number {
    const delay = this.retry.baseDelayMs * 2 ** (attempt - 1);
    // Up to a quarter of jitter, so many clients behind one outage do not come back in step.
    return Math.min(this.retry.maxDelayMs, delay * (1 + Math.random() / 4));
  }

  private async wait(label: string, reason: string, attempt: number, delayMs: number, signal?: AbortSignal) {
    this.onRetry?.({ request: label, reason, attempt: attempt + 1, delayMs });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delayMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      });
    });
  }
}

/** The Authorization header value for `credentials`. */
export function authorization(credentials: Credentials | undefined): string | undefined {
  if (credentials === undefined) {
    return undefined;
  }
  if ('token' in credentials) {
    return `Token ${credentials.token}`;
  }
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** `Retry-After` in milliseconds: seconds, or an HTTP date. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function apiError(label: string, response: Response): Promise<RoundhouseApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { detail?: unknown; code?: unknown; details?: unknown };
    if (typeof body.detail === 'string') {
      return new RoundhouseApiError(
        label,
        response.status,
        body.detail,
        typeof body.code === 'string' ? body.code : undefined,
        body.details,
      );
    }
  } catch {
    // Not the envelope: the raw text below.
  }
  return new RoundhouseApiError(
    label,
    response.status,
    text.slice(0, 200) || response.statusText,
    undefined,
    undefined,
  );
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  return code ?? (cause instanceof Error ? cause.message : String(cause));
}
