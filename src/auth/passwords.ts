import argon2 from 'argon2';

/** A fixed hash verified when the user does not exist, so a login takes as long for unknown names as for known. */
let dummyHash: Promise<string> | undefined;

/** Hashes a password with argon2id (the package's defaults: 64 MiB, 3 passes), as a PHC string. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/**
 * True when `password` matches `hash`. An empty or unparsable hash (an account without a password) never matches,
 * but the work of one verification is still done.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('roundhouse-timing-equalizer');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
