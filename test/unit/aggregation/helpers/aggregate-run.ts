import { readFileSync } from 'node:fs';
import { aggregate } from '../../../../src/aggregation/aggregate';
import { isAggregationError } from '../../../../src/aggregation/errors';
import { bytesSource, collectBytes } from '../../../../src/onnx/model-source';
import type { ClientUpdate } from '../../../../src/aggregation/strategies/strategy';
import { CLIENTS, fixture } from './fixtures';

/** The bytes of an MLP fixture (`global-r0`, `client-a`, ...). */
export const mlp = (name: string): Buffer => readFileSync(fixture(`mlp-${name}.onnx`));

/** Runs `aggregate` over in-memory models and gathers the result. */
export async function run(
  method: string,
  global: Uint8Array,
  updates: readonly ClientUpdate[],
  params = {},
): Promise<Buffer> {
  const result = await aggregate({ method, params, global: bytesSource(global), updates });
  return Buffer.from(await collectBytes(result.model));
}

/** An update over bytes in memory, served in `chunk`-byte pieces. */
export const update = (clientId: string, sampleSize: number, bytes: Uint8Array, chunk?: number): ClientUpdate => ({
  clientId,
  sampleSize,
  source: bytesSource(bytes, chunk),
});

/** The three MLP fixture clients, their sample sizes multiplied by `scale`. */
export const fixtureUpdates = (scale = 1): ClientUpdate[] =>
  CLIENTS.map((c) => update(c.id, c.sampleSize * scale, mlp(`client-${c.id}`)));

/** The AggregationError a promise rejects with (fails the test on success or on another error). */
export async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; clientId?: string; tensor?: string }> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAggregationError(error)) {
    throw new Error(`expected an AggregationError, got ${String(error)}`);
  }
  return { code: error.code, message: error.message, clientId: error.clientId, tensor: error.tensor };
}
