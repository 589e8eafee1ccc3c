import { csrfTokenMatches, isSameOrigin } from '../../src/auth/csrf';

describe('isSameOrigin', () => {
  it.each([
    ['http://roundhouse.test', 'http://roundhouse.test'],
    ['http://ROUNDHOUSE.test', 'http://roundhouse.test'],
    ['https://roundhouse.test:443', 'https://roundhouse.test'],
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['http://[::1]:8000', 'http://[::1]:8000'],
  ])('when the Origin is %s and the server is %s, matches', (origin, own) => {
    expect(isSameOrigin(origin, own)).toBe(true);
  });

  it.each([
    ['http://evil.example', 'http://roundhouse.test'],
    ['https://roundhouse.test', 'http://roundhouse.test'],
    ['http://roundhouse.test:8080', 'http://roundhouse.test'],
    ['http://sub.roundhouse.test', 'http://roundhouse.test'],
    ['null', 'http://roundhouse.test'],
    ['file:///etc/passwd', 'file:///etc/passwd'],
    ['not a url', 'http://roundhouse.test'],
    ['http://roundhouse.test', 'http://'],
  ])('when the Origin is %s and the server is %s, does not match', (origin, own) => {
    expect(isSameOrigin(origin, own)).toBe(false);
  });
});

describe('csrfTokenMatches', () => {
  const stored = 'q9Lr3c0Y5m0r8bV0n5xK1d2Z3a4B5c6D7e8F9g0H1iJ';

  it('when the presented token is the stored one (text or a list of one), matches', () => {
    expect(csrfTokenMatches(stored, stored)).toBe(true);
    expect(csrfTokenMatches([stored], stored)).toBe(true);
  });

  it.each([
    ['another token of the same length', `${stored.slice(0, -1)}x`],
    ['a prefix', stored.slice(0, 10)],
    ['a longer value', `${stored}x`],
    ['empty text', ''],
    ['two values', [stored, stored]],
    ['no value', undefined],
    ['a number', 42],
    ['an object', { token: stored }],
  ])('when the presented token is %s, does not match', (_, presented) => {
    expect(csrfTokenMatches(presented, stored)).toBe(false);
  });
});
