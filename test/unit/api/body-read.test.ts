import http from 'node:http';
import net from 'node:net';
import Koa from 'koa';
import { parseBody } from '../../../src/api/routing/body';
import type { JsonText } from '../../../src/api/routing/json-text';

const LIMITS = { uploadBytes: 1 << 20, bodyBytes: 1 << 20, metricBytes: 1 << 20, datasetBytes: 1 << 20 };

/** A server whose one route parses a JSON body keeping `model_input` as text; answers what each request came to. */
async function withServer(use: (port: number, outcomes: string[]) => Promise<void>): Promise<void> {
  const outcomes: string[] = [];
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
      const { a, model_input: input } = ctx.request.body as unknown as { a: unknown; model_input: JsonText };
      outcomes.push(`parsed a=${String(a)}, model_input=${Buffer.from(input.bytes).toString()}`);
    } catch (err) {
      outcomes.push(`failed ${(err as { code?: string }).code ?? String(err)}`);
    }
  });
  app.use(parseBody('upload', LIMITS, new Set(['model_input'])));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = http.createServer((req, res) => void app.callback()(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await use((server.address() as net.AddressInfo).port, outcomes);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('reading a JSON body of declared length', () => {
  it('reads a body that arrives in several pieces whole', async () => {
    await withServer(async (port, outcomes) => {
      const socket = net.connect(port, '127.0.0.1');
      const body = '{"a": 1, "model_input": "AAAA"}';
      socket.write(
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      for (const piece of [body.slice(0, 5), body.slice(5, 20), body.slice(20)]) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        socket.write(piece);
      }
      await until(() => outcomes.length > 0);
      socket.destroy();
      expect(outcomes).toEqual(['parsed a=1, model_input="AAAA"']);
    });
  });

  it('fails the request, rather than waiting for ever, when the client goes away before the body ends', async () => {
    await withServer(async (port, outcomes) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a": ');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await until(() => outcomes.length > 0);
      expect(outcomes).toEqual(['failed ECONNRESET']);
    });
  });
});
