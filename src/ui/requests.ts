/** The dashboard's only way to the API: same-origin fetches with the session cookie, JSON in and out. */

/** A refused or failed request, with the API's `detail` (every error body carries one). */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Called with every 401: the session is gone, so the dashboard shows the sign-in page. */
let onSignedOut: () => void = () => undefined;

/** Sets what a 401 does (the app signs the user out). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/**
 * The CSRF token the server set with the session: it is in a cookie scripts may read, and goes back in a header on
 * every unsafe request. Nothing is ever kept in localStorage or sessionStorage.
 */
export function csrfToken(): string {
  const entry = document.cookie.split('; ').find((cookie) => cookie.startsWith('csrftoken='));
  return entry ? decodeURIComponent(entry.slice('csrftoken='.length)) : '';
}

/** GETs JSON; `signal` cancels it (a page that is left). */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return answer<T>(
    await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: signal ?? null }),
  );
}

/** POSTs JSON with the session's CSRF token. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return sendJson<T>('POST', path, body);
}

/** Sends JSON with an unsafe method (POST, PUT, DELETE) and the session's CSRF token. */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify(body),
    }),
  );
}

/** POSTs a multipart form (a file upload) with the session's CSRF token; the browser sets the boundary. */
export async function postForm<T>(path: string, form: FormData): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      body: form,
    }),
  );
}

async function answer<T>(res: Response): Promise<T> {
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) {
    return body as T;
  }
  if (res.status === 401) {
    onSignedOut();
  }
  throw new RequestError(res.status, detailOf(body) ?? `The server answered ${res.status}.`);
}

function detailOf(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string') {
    return body.detail;
  }
  return undefined;
}

/** A message for any error a request may throw. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
