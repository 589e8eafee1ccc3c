import { readFileSync } from 'node:fs';
import net from 'node:net';

/** How many ports below the kernel's ephemeral range the tests draw from, split among the jest workers. */
const SPAN = 12_288;
/** Slices of that span: the global setup (no worker id) and up to seven workers each have one. */
const SLICES = 8;
/** Ports this module handed out; jest gives each test file its own module registry, so this is per file. */
const drawn = new Set<number>();

/** The kernel's ephemeral range (what listen(0) and outgoing connections draw from). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) {
      return [low as number, high as number];
    }
  } catch {
    // Not Linux: fall through to the IANA range most other kernels use.
  }
  return [49_152, 65_535];
}

/** The ports this process may draw from: a slice of the span below the ephemeral range (or above it), or none. */
function sliceOfRange(): [number, number] | undefined {
  const [low, high] = ephemeralRange();
  const [from, to] = low - SPAN >= 1_024 ? [low - SPAN, low] : high + SPAN <= 65_536 ? [high + 1, high + 1 + SPAN] : [];
  if (from === undefined || to === undefined) {
    return undefined;
  }
  const size = Math.floor((to - from) / SLICES);
  const index = Number(process.env.JEST_WORKER_ID ?? 0) % SLICES;
  return [from + index * size, from + (index + 1) * size];
}

/** Read once per module: the range does not change while the tests run. */
const SLICE = sliceOfRange();

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 for a process a test starts later (a launcher, a dev server), which the kernel does not
 * hand out on its own. A port found with listen(0) and closed lies in the ephemeral range: until its user binds it,
 * and again between a launcher's stop and its restart, any other listen(0) may take it (another worker's server, a
 * Temporal dev server choosing its internal ports), and the launcher then finds it "already in use". Ports outside
 * that range are taken only by explicit binds; each jest worker draws from its own slice, and a file never draws the
 * same port twice.
 */
export async function freePort(): Promise<number> {
  const range = SLICE;
  for (let attempt = 0; range && attempt < 100; attempt += 1) {
    const port = range[0] + Math.floor(Math.random() * (range[1] - range[0]));
    if (!drawn.has(port) && (await listenOn(port)) === port) {
      drawn.add(port);
      return port;
    }
  }
  const port = await listenOn(0);
  if (port === undefined) {
    throw new Error('no free TCP port on 127.0.0.1');
  }
  return port;
}
