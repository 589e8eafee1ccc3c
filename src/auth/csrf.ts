import { tokensEqual } from './tokens';

/**
 * True when an `Origin` header names `ownOrigin` (scheme, host and port as the request sees itself). Both are
 * normalized as URLs, so case and a spelled-out default port do not matter; `null` (an opaque origin) and anything
 * that is not a URL never match.
 */
export function isSameOrigin(origin: string, ownOrigin: string): boolean {
  const theirs = originOf(origin);
  return theirs !== undefined && theirs === originOf(ownOrigin);
}

/**
 * True when a presented CSRF token equals the session's, compared in constant time. A form field may arrive as a
 * list: one value is taken, several (or none, or anything not text) never match.
 */
export function csrfTokenMatches(presented: unknown, stored: string): boolean {
  const value = Array.isArray(presented) && presented.length === 1 ? (presented[0] as unknown) : presented;
  return typeof value === 'string' && value !== '' && tokensEqual(value, stored);
}

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}
