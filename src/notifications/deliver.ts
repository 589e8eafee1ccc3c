import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { forbiddenAddressReason } from './address-policy';
import { ForbiddenEndpointError, guardedLookup } from './guarded-lookup';
import { NOTIFICATION_HEADERS, signNotification } from './signature';

/** One push of one notification to one endpoint. */
export interface DeliveryRequest {
  endpoint: string;
  notificationId: string;
  /** The receiver's notification secret, the HMAC key. */
  secret: string;
  /** The reference's JSON: notification_type, body, training_uuid. */
  payload: Record<string, unknown>;
  timeoutMs: number;
  allowPrivateAddresses: boolean;
}

/** Thrown when the endpoint answers, but not with a 2xx. */
export class RejectedNotificationError extends Error {
  readonly code = 'notification_rejected';
  constructor(readonly status: number) {
    super(`The endpoint answered HTTP ${status}`);
    this.name = 'RejectedNotificationError';
  }
}

/**
 * POSTs the notification as JSON with its id and HMAC signature headers. Resolves on any 2xx; rejects on another
 * status, a timeout, a refused address or a transport error.
 */
export function deliverNotification(request: DeliveryRequest): Promise<void> {
  const url = new URL(request.endpoint);
  const body = JSON.stringify(request.payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const client = url.protocol === 'https:' ? https : http;
  // An IP literal never goes through `lookup`, so it is checked here.
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const refused = net.isIP(literal) && !request.allowPrivateAddresses ? forbiddenAddressReason(literal) : undefined;
  if (refused) {
    return Promise.reject(new ForbiddenEndpointError(url.hostname, refused));
  }
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(request.allowPrivateAddresses),
        timeout: request.timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          [NOTIFICATION_HEADERS.id]: request.notificationId,
          [NOTIFICATION_HEADERS.timestamp]: timestamp,
          [NOTIFICATION_HEADERS.signature]: signNotification(request.secret, timestamp, body),
        },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.once('end', () =>
          status >= 200 && status < 300 ? resolve() : reject(new RejectedNotificationError(status)),
        );
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`No answer within ${request.timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}
