import net from 'node:net';

/** Why an address may not receive notifications, or undefined when it may. */
export function forbiddenAddressReason(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 4) {
    return forbiddenIpv4(address);
  }
  if (family === 6) {
    return forbiddenIpv6(address.toLowerCase());
  }
  return 'not an IP address';
}

const IPV4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function forbiddenIpv4(address: string): string | undefined {
  const value = ipv4ToInt(address);
  for (const [base, bits, label] of IPV4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = ipv4ToInt(base);
    if (value >= start && value < start + size) {
      return `${label} address ${address}`;
    }
  }
  return undefined;
}

function forbiddenIpv6(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1]) {
    return forbiddenIpv4(mapped[1]);
  }
  if (address === '::' || address === '::1') {
    return `${address === '::' ? 'unspecified' : 'loopback'} address ${address}`;
  }
  const first = Number.parseInt(address.split(':')[0] || '0', 16);
  if ((first & 0xfe00) === 0xfc00) {
    return `private (unique local) address ${address}`;
  }
  if ((first & 0xffc0) === 0xfe80) {
    return `link-local address ${address}`;
  }
  if ((first & 0xff00) === 0xff00) {
    return `multicast address ${address}`;
  }
  return undefined;
}
