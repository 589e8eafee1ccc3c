import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { forbiddenAddressReason } from './address-policy';

/** Thrown (through the socket) when a notification endpoint resolves to an address it may not reach. */
export class ForbiddenEndpointError extends Error {
  readonly code = 'forbidden_endpoint';
  constructor(hostname: string, reason: string) {
    super(`Notification endpoint ${hostname} resolves to a ${reason}, which this deployment does not allow`);
    this.name = 'ForbiddenEndpointError';
  }
}

/**
 * A `lookup` for http.request that resolves the host and refuses loopback, private and link-local addresses. The
 * check runs on the very address the socket connects to, so a DNS answer that changes between a check and the
 * connection (rebinding) cannot slip through.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const list = Array.isArray(addresses) ? addresses : [];
      const refused = allowPrivate ? undefined : list.map((a) => forbiddenAddressReason(a.address)).find(Boolean);
      if (refused || list.length === 0) {
        callback(new ForbiddenEndpointError(hostname, refused ?? 'no address'), '', 0);
        return;
      }
      if (options.all) {
        callback(null, list);
        return;
      }
      const first = list[0];
      callback(null, first?.address ?? '', first?.family ?? 4);
    });
  };
}
