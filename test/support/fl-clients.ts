import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A notification as the server pushes it. */
export interface PushedNotification {
  notification_type: string;
  training_uuid: string;
  body: Record<string, unknown>;
}

/** A push as it arrived: its headers (the signature among them) and its raw body. */
export interface ReceivedPush {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A simulated FL client's notification receiver: a real HTTP server on loopback that answers 200 at once and hands
 * each notification to `react` afterwards (a real client trains after acknowledging, not inside the request). Every
 * request is recorded, the refused ones of a failing endpoint too.
 */
export class ClientReceiver {
  readonly received: PushedNotification[] = [];
  /** Every push as it arrived, in the same order, to check signatures with. */
  readonly raw: ReceivedPush[] = [];
  private server: http.Server | undefined;

  /** `status` is what the receiver answers: a failing endpoint answers 500 and never reacts. */
  constructor(
    private readonly react: (notification: PushedNotification) => Promise<void>,
    private readonly status = 200,
  ) {}

  /** Starts listening; resolves with the endpoint URL to register. */
  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.writeHead(this.status).end();
        this.raw.push({ headers: req.headers, body });
        const notification = JSON.parse(body) as PushedNotification;
        this.received.push(notification);
        if (this.status !== 200) {
          return;
        }
        setImmediate(() => {
          this.react(notification).catch((err: unknown) => {
            this.errors.push(err);
          });
        });
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** Errors the client's reactions threw (a test asserts there are none). */
  readonly errors: unknown[] = [];

  async close(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
