import { signNotification, verifyNotification } from '../../src/notifications/signature';

describe('notification signatures', () => {
  const secret = 'a'.repeat(64);
  const body = '{"notification_type":"TRAINING_START","body":{},"training_uuid":"t"}';

  it('when the secret, timestamp and body match, verifies; a change to any of them fails', () => {
    const signature = signNotification(secret, '1700000000', body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyNotification(secret, '1700000000', body, signature)).toBe(true);
    expect(verifyNotification('b'.repeat(64), '1700000000', body, signature)).toBe(false);
    expect(verifyNotification(secret, '1700000001', body, signature)).toBe(false);
    expect(verifyNotification(secret, '1700000000', `${body} `, signature)).toBe(false);
    expect(verifyNotification(secret, '1700000000', body, 'sha256=short')).toBe(false);
  });
});
