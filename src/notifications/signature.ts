import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers every pushed notification carries. */
export const NOTIFICATION_HEADERS = {
  id: 'X-Roundhouse-Notification-Id',
  timestamp: 'X-Roundhouse-Timestamp',
  signature: 'X-Roundhouse-Signature',
} as const;

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed with the receiving user's notification secret (not the API
 * token, so rotating the token never breaks the check), so a client can check that a notification comes from the
 * server that knows its secret, and is not replayed from long ago.
 */
export function signNotification(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a signature in constant time (what a client does; the tests use it too). */
export function verifyNotification(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signNotification(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
