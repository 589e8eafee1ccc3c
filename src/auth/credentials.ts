import { TOKEN_PATTERN } from './tokens';

/** What an `Authorization` header presents: a token, or a user name and password. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'password'; username: string; password: string }
  | { kind: 'malformed'; message: string };

/**
 * Reads the header in the reference's order: `Token <key>` (and `Bearer <key>`), then Basic whose user name is a
 * 40-hex token with an empty password (URLs like `http://<token>@host/`), then Basic user name and password.
 */
export function parseAuthorization(header: string | undefined): Credentials {
  if (!header) {
    return { kind: 'none' };
  }
  const [scheme = '', ...rest] = header.trim().split(/\s+/);
  const keyword = scheme.toLowerCase();
  if (keyword === 'token' || keyword === 'bearer') {
    if (rest.length !== 1 || !rest[0]) {
      return {
        kind: 'malformed',
        message:
          rest.length === 0
            ? 'Invalid token header. No credentials provided.'
            : 'Invalid token header. Token string should not contain spaces.',
      };
    }
    return { kind: 'token', token: rest[0] };
  }
  if (keyword !== 'basic') {
    return { kind: 'none' };
  }
  if (rest.length !== 1 || !rest[0]) {
    return { kind: 'malformed', message: 'Invalid basic header. No credentials provided.' };
  }
  const decoded = Buffer.from(rest[0], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return { kind: 'malformed', message: 'Invalid basic header. Credentials not correctly base64 encoded.' };
  }
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (password === '' && TOKEN_PATTERN.test(username)) {
    return { kind: 'token', token: username };
  }
  return { kind: 'password', username, password };
}
