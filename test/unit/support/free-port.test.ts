import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from '../../support/free-port';

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

describe('freePort', () => {
  it('hands out distinct, bindable ports outside the range the kernel gives listen(0) and outgoing connections', async () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      ports.push(await freePort());
    }
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port >= (low ?? 0) && port <= (high ?? 65_535)).toBe(false);
      expect(port).toBeGreaterThanOrEqual(1_024);
      expect(await bindable(port)).toBe(true);
    }
  });

  it('skips a port something else listens on (a fresh module, which has drawn nothing, still sees the held ports)', async () => {
    const held: net.Server[] = [];
    try {
      for (let i = 0; i < 40; i += 1) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          freePort().then((port) => server.listen(port, '127.0.0.1', resolve), reject);
        });
        held.push(server);
      }
      const taken = new Set(held.map((server) => (server.address() as net.AddressInfo).port));
      let fresh: typeof freePort | undefined;
      jest.isolateModules(() => {
        fresh = jest.requireActual<{ freePort: typeof freePort }>('../../support/free-port').freePort;
      });
      // 400 draws from a slice of some 1,500 ports would meet one of the 40 held ones almost surely without the check.
      for (let i = 0; i < 400; i += 1) {
        expect(taken.has(await fresh!())).toBe(false);
      }
    } finally {
      await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
