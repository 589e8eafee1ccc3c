import { randomBytes, timingSafeEqual } from 'node:crypto';

/** DRF authtoken's format: 40 lowercase hex characters. */
export const TOKEN_PATTERN = /^[0-9a-f]{40}$/;

/** A fresh API token: 20 random bytes as 40 lowercase hex characters. */
export function generateToken(): string {
  return randomBytes(20).toString('hex');
}

/** A fresh notification secret, the key of the pushes' HMAC: 32 random bytes as 64 lowercase hex characters. */
export function generateNotificationSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Compares a presented token with a stored one in time independent of where they differ. */
export function tokensEqual(presented: string, stored: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(stored, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
