import { createHash, randomBytes } from 'node:crypto';

/** A session key or CSRF token as this server makes them: 32 random bytes in base64url. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh random value for a session cookie or a CSRF token: 32 bytes (256 bits) in base64url, 43 characters. */
export function generateSessionKey(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `value` could be a key this server made; anything else is unknown without a database lookup. */
export function isSessionKey(value: string | undefined): value is string {
  return value !== undefined && KEY_PATTERN.test(value);
}

/** What the sessions table stores of a key: its SHA-256 in hex (the key is random, so no salt or slow hash is needed). */
export function hashSessionKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
