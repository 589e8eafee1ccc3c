import { liveSessionOf } from '../../auth/authenticate';
import { logIn } from '../../auth/log-in';
import { anonymousCsrfToken, CSRF_COOKIE, SESSION_COOKIE } from '../../auth/session-cookies';
import { anonymousRoute, authedRoute, type RouteContext } from '../../routing/route';
import type { HttpMethod } from '../../routing/route-spec';
import { errorSchema } from '../common-schemas';
import { JOB_SERVER_TAG } from './tag';
import { emptyBody, envResponse, loginFormBody, loginQuery, MAX_NEXT_LENGTH, okResponse } from './schemas';

/** Where a login goes when `next` is missing or leaves the site. */
const DEFAULT_NEXT = '/ok.json';

/** The seed-004 client reads these with a GET before it knows a CSRF token, and POSTs afterwards. */
const GET_AND_POST: readonly HttpMethod[] = ['get', 'post'];

/** `/env.json/`, `/ok.json` and `/accounts/login/`: the seed-004 client's session, over the REST API's sessions. */
export function jobServerSessionRoutes(rc: RouteContext): void {
  for (const method of GET_AND_POST) {
    anonymousRoute(
      rc,
      {
        method,
        path: '/env.json/',
        root: true,
        tag: JOB_SERVER_TAG,
        summary: 'The CSRF token to send with every POST, and the logged-in user (null without a session).',
        description:
          `With a session, its token; without one, the \`${CSRF_COOKIE}\` cookie's (set when missing), which only ` +
          'lets the client POST its login.',
        ...(method === 'post' ? { body: emptyBody, bodyKind: 'data' as const } : {}),
        responses: [{ status: 200, description: 'The token and user.', schema: envResponse }],
      },
      async (ctx) => {
        const session = await liveSessionOf(rc.authenticator, ctx);
        ctx.body = {
          csrftoken: session?.csrfToken ?? anonymousCsrfToken(ctx, rc.authenticator.sessionMaxAgeSeconds),
          user: session?.user.username ?? null,
        };
      },
    );
    authedRoute(
      rc,
      {
        method,
        path: '/ok.json',
        root: true,
        tag: JOB_SERVER_TAG,
        summary: 'Where a login redirects to: says the session works.',
        ...(method === 'post' ? { body: emptyBody, bodyKind: 'data' as const } : {}),
        responses: [{ status: 200, description: 'Logged in.', schema: okResponse }],
      },
      (ctx, { user }) => {
        ctx.body = { status: 'ok', user: user.username };
        return Promise.resolve();
      },
    );
  }
  anonymousRoute(
    rc,
    {
      method: 'post',
      path: '/accounts/login/',
      root: true,
      tag: JOB_SERVER_TAG,
      summary: 'Logs in as `POST /api/auth/login/` does, then redirects to `next`.',
      description:
        `Sets \`${SESSION_COOKIE}\` and \`${CSRF_COOKIE}\` as \`POST /api/auth/login/\` does, with its failed-login ` +
        `limits. \`next\` must be a path of this site; anything else redirects to \`${DEFAULT_NEXT}\`.`,
      query: loginQuery,
      body: loginFormBody,
      bodyKind: 'data',
      responses: [
        {
          status: 302,
          description: 'Logged in: on to `next`.',
          headers: { Location: { required: true, schema: { type: 'string' } } },
        },
        { status: 401, description: 'Wrong user name or password, or an inactive user.', schema: errorSchema },
        { status: 403, description: 'An `Origin` header of another site.', schema: errorSchema },
        { status: 429, description: 'Too many failed logins.', schema: errorSchema },
      ],
    },
    async (ctx, { query, body }) => {
      await logIn(ctx, rc.authenticator, { username: body.username, password: body.password });
      ctx.redirect(sameSitePath(query.next));
    },
  );
}

/**
 * `next` when it is a path of this site, else the default: a login must not send a browser on to another site
 * (`//host`, `/\host` and schemes are other sites to a browser).
 */
export function sameSitePath(next: string | undefined): string {
  if (
    next === undefined ||
    next.length > MAX_NEXT_LENGTH ||
    !next.startsWith('/') ||
    /^\/[/\\]/.test(next) ||
    /[\\\p{Cc}]/u.test(next)
  ) {
    return DEFAULT_NEXT;
  }
  return next;
}
