import { signNotification, verifyNotification } from '../../src/notifications/signature';

describe('notification signatures', () => {
  const token = 'a'.repeat(40);
  const body = '{"notification_type":"TRAINING_START","body":{},"training_uuid":"t"}';

  it('when the token, timestamp and body match, verifies; a change to any of them fails', () => {
    const signature = signNotification(token, '1700000000', body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyNotification(token, '1700000000', body, signature)).toBe(true);
    expect(verifyNotification('b'.repeat(40), '1700000000', body, signature)).toBe(false);
    expect(verifyNotification(token, '1700000001', body, signature)).toBe(false);
    expect(verifyNotification(token, '1700000000', `${body} `, signature)).toBe(false);
    expect(verifyNotification(token, '1700000000', body, 'sha256=short')).toBe(false);
  });
});
