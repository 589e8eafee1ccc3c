import { z } from 'zod';
import { requiredString } from '../common-schemas';

/** `POST /api/auth/login/`: JSON, form or multipart; a form's `csrfmiddlewaretoken` is taken and ignored. */
export const loginBody = z.strictObject({
  username: requiredString('username').min(1).max(150),
  password: requiredString('password').min(1).max(1024),
});
export type LoginRequest = z.output<typeof loginBody>;

/** `POST /api/auth/token/`. */
export const tokenResponse = z.object({ token: z.string().regex(/^[0-9a-f]{40}$/) });
export type RotateTokenResponse = z.infer<typeof tokenResponse>;

/** `POST /api/auth/notification-secret/`. */
export const notificationSecretResponse = z.object({ notification_secret: z.string().regex(/^[0-9a-f]{64}$/) });
export type RotateNotificationSecretResponse = z.infer<typeof notificationSecretResponse>;
