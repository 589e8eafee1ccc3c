import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NOTIFICATION_HEADERS, verifyNotification } from '../notifications/signature';

/** A notification as the server pushes it. */
export interface PushedNotification {
  readonly notification_type: string;
  readonly training_uuid: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Settings of a `PushReceiver`. */
export interface ReceiverOptions {
  /**
   * The user's notification secret (registration's `notification_secret`, or `auth.rotateNotificationSecret`); empty
   * until known (a receiver listens before its user registers), and then every push is refused.
   */
  readonly secret: string;
  /** Pushes older or newer than this many seconds are refused as replays (default 300). */
  readonly toleranceSeconds?: number;
  /** The largest body taken (default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/**
 * A small HTTP server that takes the server's pushes: it checks each one's HMAC signature against the user's
 * notification secret and its timestamp (401 when either is wrong or missing, and the push is dropped), answers 200
 * at once, drops repeats of a notification id, and hands each new notification to the handlers afterwards.
 */
export class PushReceiver {
  private readonly server: http.Server;
  private readonly seen = new Set<string>();
  private readonly handlers: Array<(notification: PushedNotification) => void> = [];
  /** Pushes refused for their signature or timestamp, for a client to report. */
  refused = 0;
  private secret: string;

  constructor(private readonly options: ReceiverOptions) {
    this.secret = options.secret;
    this.server = http.createServer((req, res) => {
      this.take(req, res);
    });
  }

  /** Checks pushes with another secret from now on (after registration, or `auth.rotateNotificationSecret`). */
  setSecret(secret: string): void {
    this.secret = secret;
  }

  /** Calls `handler` with every new, correctly signed notification. */
  onNotification(handler: (notification: PushedNotification) => void): void {
    this.handlers.push(handler);
  }

  /** Starts listening; answers the endpoint to register as `message_endpoint`. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}/`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private take(req: http.IncomingMessage, res: http.ServerResponse): void {
    const limit = this.options.maxBodyBytes ?? 1 << 20;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const notification = this.check(req, body);
      if (notification === undefined) {
        this.refused += 1;
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200).end();
      const id = header(req, NOTIFICATION_HEADERS.id);
      if (id !== undefined && this.seen.has(id)) {
        return;
      }
      if (id !== undefined) {
        this.seen.add(id);
      }
      setImmediate(() => this.handlers.forEach((handler) => handler(notification)));
    });
  }

  /** The notification when its signature and timestamp are right, else undefined. */
  private check(req: http.IncomingMessage, body: string): PushedNotification | undefined {
    const timestamp = header(req, NOTIFICATION_HEADERS.timestamp);
    const signature = header(req, NOTIFICATION_HEADERS.signature);
    if (req.method !== 'POST' || timestamp === undefined || signature === undefined) {
      return undefined;
    }
    const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (!(skew <= (this.options.toleranceSeconds ?? 300))) {
      return undefined;
    }
    if (this.secret === '' || !verifyNotification(this.secret, timestamp, body, signature)) {
      return undefined;
    }
    try {
      const parsed = JSON.parse(body) as Partial<PushedNotification>;
      if (typeof parsed.notification_type !== 'string' || typeof parsed.training_uuid !== 'string') {
        return undefined;
      }
      return {
        notification_type: parsed.notification_type,
        training_uuid: parsed.training_uuid,
        body: parsed.body ?? {},
      };
    } catch {
      return undefined;
    }
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
