import { sessionKeyOf } from '../../auth/authenticate';
import { CSRF_HEADER } from '../../auth/csrf-guard';
import { logIn } from '../../auth/log-in';
import { clearSessionCookies, CSRF_COOKIE, SESSION_COOKIE } from '../../auth/session-cookies';
import { anonymousRoute, authedRoute, type RouteContext } from '../../routing/route';
import { CSRF_FIELD } from '../../routing/body';
import type { ApiServices } from '../../services';
import { rotateNotificationSecret, rotateToken } from '../../use-cases/rotate-credentials';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentUser } from '../users/presenters';
import { userResponse } from '../users/schemas';
import { loginBody, notificationSecretResponse, tokenResponse } from './schemas';

const TAG = 'auth';

const SESSION_NOTE =
  `With a session, also send the \`${CSRF_COOKIE}\` cookie's value in \`${CSRF_HEADER}\` or the ` +
  `\`${CSRF_FIELD}\` form field.`;

/** `/api/auth/`: session login and logout, and rotating the API token and the notification secret. */
export function authRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  anonymousRoute(
    rc,
    {
      method: 'post',
      path: '/auth/login',
      tag: TAG,
      summary: 'Logs in with user name and password: a session cookie and a CSRF cookie.',
      description:
        `Sets \`${SESSION_COOKIE}\` (HttpOnly) and \`${CSRF_COOKIE}\` (readable by scripts), both SameSite=Lax and ` +
        'Secure over https; a session cookie the request carried is ended. Failed logins are limited per user name ' +
        'and per client address.',
      body: loginBody,
      bodyKind: 'data',
      responses: [
        {
          status: 200,
          description: 'The user, as `GET /api/users/myself/` shows it.',
          schema: userResponse,
          headers: { 'Set-Cookie': { required: true, schema: { type: 'string' } } },
        },
        { status: 401, description: 'Wrong user name or password, or an inactive user.', schema: errorSchema },
        { status: 403, description: 'An `Origin` header of another site.', schema: errorSchema },
        {
          status: 429,
          description: 'Too many failed logins for this user name or from this address.',
          schema: errorSchema,
          headers: {
            'Retry-After': {
              required: true,
              description: 'Seconds until a login is tried again.',
              schema: { type: 'string' },
            },
          },
        },
      ],
    },
    async (ctx, { body }) => {
      ctx.body = presentUser(await logIn(ctx, rc.authenticator, body));
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/auth/logout',
      tag: TAG,
      summary: 'Ends the session the request was made with and clears its cookies.',
      description: SESSION_NOTE,
      responses: [{ status: 200, description: 'Logged out.', schema: detailSchema }],
    },
    async (ctx) => {
      const key = sessionKeyOf(ctx);
      if (key !== undefined) {
        await rc.authenticator.endSession(key);
      }
      clearSessionCookies(ctx);
      ctx.body = { detail: 'Logged out.' };
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/auth/token',
      tag: TAG,
      summary: "Replaces the caller's API token at once: the old one is refused from now on.",
      description: `Notification signatures do not change (they use the notification secret). ${SESSION_NOTE}`,
      responses: [{ status: 200, description: 'The new token.', schema: tokenResponse }],
    },
    async (ctx, { user }) => {
      ctx.body = { token: await rotateToken(knex, user.id) };
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/auth/notification-secret',
      tag: TAG,
      summary: "Replaces the caller's notification secret: pushes from now on are signed with the new one.",
      description: SESSION_NOTE,
      responses: [{ status: 200, description: 'The new notification secret.', schema: notificationSecretResponse }],
    },
    async (ctx, { user }) => {
      ctx.body = { notification_secret: await rotateNotificationSecret(knex, user.id) };
    },
  );
}
