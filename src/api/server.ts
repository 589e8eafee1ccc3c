import http from 'node:http';
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
  const app: Koa = createApp(deps);
  const handle = app.callback();
  const server = http.createServer((req, res) => {
    // Koa's handler answers every error itself (the error middleware); nothing is left to catch here.
    void handle(req, res);
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
