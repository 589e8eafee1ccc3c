import argon2 from 'argon2';
import { hashPassword, verifyPassword } from '../../src/auth/passwords';

describe('verifyPassword', () => {
  it('when there is no hash (no such user), verifies against a fixed argon2id hash and never matches', async () => {
    const verify = jest.spyOn(argon2, 'verify');
    await expect(verifyPassword(undefined, 'guess')).resolves.toBe(false);
    await expect(verifyPassword('', 'roundhouse-timing-equalizer')).resolves.toBe(false);
    // The same work as for a real user: one argon2 verification against a real argon2id hash, each time the same.
    expect(verify).toHaveBeenCalledTimes(2);
    const [[first, password], [second]] = verify.mock.calls as [[string, string], [string, string]];
    expect(first).toMatch(/^\$argon2id\$/);
    expect(password).toBe('guess');
    expect(second).toBe(first);
    verify.mockRestore();
  });

  it('when the hash is a real one, matches its password only', async () => {
    const hash = await hashPassword('right');
    await expect(verifyPassword(hash, 'right')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'wrong')).resolves.toBe(false);
    await expect(verifyPassword('not-a-phc-string', 'right')).resolves.toBe(false);
  });
});
