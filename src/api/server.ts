import http from 'node:http';
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { createApp, type AppDeps } from './app';

/** A listening API server. */
export interface RunningApi {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** Starts the API on host:port (port 0 picks a free one) and resolves once it listens. */
export async function startApiServer(deps: AppDeps, host: string, port: number): Promise<RunningApi> {
  const stopping = new AbortController();
  // One listener per long-poll under way, however many clients poll.
  setMaxListeners(0, stopping.signal);
  const app: Koa = createApp({ ...deps, stopping: stopping.signal });
  const handle = app.callback();
  /** Requests whose handler has not ended (whether or not their client is still connected), with their responses. */
  const handling = new Map<Promise<void>, http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (stopping.signal.aborted) {
      lastOnConnection(res);
    }
    // Koa's handler answers every error itself (the error middleware); nothing is left to catch here.
    const handled = handle(req, res).then(
      () => undefined,
      () => undefined,
    );
    handling.set(handled, res);
    void handled.then(() => handling.delete(handled));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: async () => {
      // Long-polls answer now, rather than hold the stop for up to their wait (a minute at most); every answer from
      // here on closes its connection, or a client polling again at once on it would keep the server open.
      stopping.abort();
      for (const res of handling.values()) {
        lastOnConnection(res);
      }
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      // The server closes once its connections have, but the handler of a request whose client left goes on: it
      // ends before the caller closes what it uses (the inference pool, the database).
      while (handling.size > 0) {
        await Promise.all(handling.keys());
      }
    },
  };
}

/** Asks for the connection to close after this response (unless its headers went already). */
function lastOnConnection(res: http.ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('Connection', 'close');
  }
}
