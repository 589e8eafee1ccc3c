/** How long sessions live and how many failed logins are let through (docs/configuration.md#sessions-and-logins-api). */
export interface AuthSettings {
  /** A session unused for this long ends. */
  readonly sessionIdleSeconds: number;
  /** A session ends this long after its login, however much it is used. */
  readonly sessionMaxAgeSeconds: number;
  /** Failed logins of one user name within the window beyond which the next is refused with 429. */
  readonly failuresPerUsername: number;
  /** Failed logins from one client address within the window beyond which the next is refused with 429. */
  readonly failuresPerAddress: number;
  /** The window failed logins are counted over. */
  readonly failureWindowSeconds: number;
}

/**
 * The defaults: a browser tab or a polling job client keeps its session while it is used, up to a week; a password is
 * guessed at most 5 times per user name and 20 times per address every 15 minutes.
 */
export const DEFAULT_AUTH_SETTINGS: AuthSettings = Object.freeze({
  sessionIdleSeconds: 8 * 3600,
  sessionMaxAgeSeconds: 7 * 24 * 3600,
  failuresPerUsername: 5,
  failuresPerAddress: 20,
  failureWindowSeconds: 15 * 60,
});
