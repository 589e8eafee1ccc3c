import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverNotification } from '../../src/notifications/deliver';
import { NOTIFICATION_HEADERS, verifyNotification } from '../../src/notifications/signature';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on loopback answering `status` after `delayMs`. */
async function receiver(
  status: number,
  delayMs = 0,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const secret = '0123456789abcdef'.repeat(4);
const payload = {
  notification_type: 'UPDATE_ROUND_START',
  body: { round: 0, global_model_uuid: 'm' },
  training_uuid: 't',
};

describe('deliverNotification', () => {
  it('when the endpoint answers 2xx, delivers the reference JSON with an id and a signature the client can check', async () => {
    const server = await receiver(204);
    await deliverNotification({
      endpoint: server.url,
      notificationId: 'n-1',
      secret,
      payload,
      timeoutMs: 2_000,
      allowPrivateAddresses: true,
    });
    await server.close();
    const [got] = server.received;
    expect(JSON.parse(got?.body ?? '')).toEqual(payload);
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers[NOTIFICATION_HEADERS.id.toLowerCase()]).toBe('n-1');
    const timestamp = String(got?.headers[NOTIFICATION_HEADERS.timestamp.toLowerCase()]);
    const signature = String(got?.headers[NOTIFICATION_HEADERS.signature.toLowerCase()]);
    expect(verifyNotification(secret, timestamp, got?.body ?? '', signature)).toBe(true);
  });

  it('when the endpoint answers an error status, rejects with that status', async () => {
    const server = await receiver(500);
    const request = {
      endpoint: server.url,
      notificationId: 'n',
      secret,
      payload,
      timeoutMs: 2_000,
      allowPrivateAddresses: true,
    };
    await expect(deliverNotification(request)).rejects.toMatchObject({ code: 'notification_rejected', status: 500 });
    await server.close();
  });

  it('when the endpoint does not answer in time, rejects with a timeout', async () => {
    const server = await receiver(200, 1_000);
    const request = {
      endpoint: server.url,
      notificationId: 'n',
      secret,
      payload,
      timeoutMs: 200,
      allowPrivateAddresses: true,
    };
    await expect(deliverNotification(request)).rejects.toThrow('No answer within 200 ms');
    await server.close();
  });

  it('when private addresses are not allowed, refuses loopback endpoints by IP and by name without connecting', async () => {
    const server = await receiver(200);
    for (const endpoint of [server.url, server.url.replace('127.0.0.1', 'localhost')]) {
      await expect(
        deliverNotification({
          endpoint,
          notificationId: 'n',
          secret,
          payload,
          timeoutMs: 2_000,
          allowPrivateAddresses: false,
        }),
      ).rejects.toMatchObject({ code: 'forbidden_endpoint' });
    }
    await server.close();
    expect(server.received).toEqual([]);
  });
});
