import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import {
  clearSessionCookies,
  csrfCookieOptions,
  sessionCookieOptions,
  setSessionCookies,
} from '../../src/api/auth/session-cookies';

/** A Koa context of the API's settings over an unconnected request with `headers`. */
function contextWith(headers: Record<string, string>): Koa.Context {
  const app = new Koa();
  app.proxy = true;
  const req = new IncomingMessage(new Socket());
  req.headers = { host: 'roundhouse.test', ...headers };
  return app.createContext(req, new ServerResponse(req));
}

function setCookieLines(ctx: Koa.Context): string[] {
  const header = ctx.response.get('Set-Cookie');
  return Array.isArray(header) ? header.map(String) : [String(header)];
}

describe('session cookies', () => {
  it('the session cookie is HttpOnly and Lax for the whole site; the CSRF cookie is the same but readable', () => {
    expect(sessionCookieOptions(false, 60)).toMatchObject({
      httpOnly: true,
      sameSite: 'lax',
      secure: false,
      path: '/',
      maxAge: 60_000,
    });
    expect(csrfCookieOptions(true, 60)).toMatchObject({ httpOnly: false, sameSite: 'lax', secure: true, path: '/' });
  });

  it('when set over http, both cookies expire with the session and are not Secure', () => {
    const ctx = contextWith({});
    const before = Date.now();
    setSessionCookies(ctx, { key: 'k'.repeat(43), csrfToken: 'c'.repeat(43) }, 3600);
    const [session = '', csrf = ''] = setCookieLines(ctx);
    expect(session).toMatch(new RegExp(`^sessionid=${'k'.repeat(43)}; path=/; expires=[^;]+; samesite=lax; httponly$`));
    expect(csrf).toMatch(new RegExp(`^csrftoken=${'c'.repeat(43)}; path=/; expires=[^;]+; samesite=lax$`));
    const expires = Date.parse(/expires=([^;]+)/.exec(session)?.[1] ?? '');
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it('when the request came over https through the proxy, both cookies are Secure', () => {
    const ctx = contextWith({ 'x-forwarded-proto': 'https' });
    setSessionCookies(ctx, { key: 'k'.repeat(43), csrfToken: 'c'.repeat(43) }, 3600);
    for (const line of setCookieLines(ctx)) {
      expect(line).toMatch(/; secure/);
    }
  });

  it('when cleared, both cookies are empty and expired', () => {
    const ctx = contextWith({});
    clearSessionCookies(ctx);
    expect(setCookieLines(ctx)).toEqual([
      'sessionid=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax; httponly',
      'csrftoken=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax',
    ]);
  });
});
