import { isAggregationError } from '../errors';
import { FloatScratch } from '../float-scratch';
import type { TensorInfo } from '../manifest';
import { scanModel } from '../model-scan';
import { openSource } from '../model-source';
import type { ModelSummary } from '../model-summary';
import { readFloatValues } from '../tensor-values';
import type { ClientUpdate } from './strategy';

/** Sees one float tensor of every update at once, in the updates' order. */
export type LockstepVisitor = (info: TensorInfo, values: readonly Float64Array[]) => void;

/**
 * Streams every update at the same time, one float tensor at a time: `visit` gets tensor k of all updates
 * together, then every stream moves on. Each update is checked against the global model as it streams. Memory is
 * one tensor per update (rules such as the median need every client's value of a coordinate), never whole models.
 */
export async function forEachTensorInLockstep(
  global: ModelSummary,
  updates: readonly ClientUpdate[],
  visit: LockstepVisitor,
): Promise<void> {
  const barrier = new Barrier(updates.length, visit);
  await Promise.all(
    updates.map(async (update, index) => {
      const scratch = new FloatScratch();
      try {
        await scanModel(openSource(update.source), {
          expected: global,
          onTensor: (record, info) =>
            info.isFloat ? barrier.arrive(index, info, Float64Array.from(readFloatValues(record, scratch))) : undefined,
        });
      } catch (error) {
        const failure = isAggregationError(error) ? error.forClient(update.clientId) : error;
        // The other streams are waiting for this one's next tensor: fail them too, so they close their sources.
        barrier.fail(failure);
        throw failure;
      }
    }),
  );
}

class Barrier {
  private values: Float64Array[] = [];
  private arrived = 0;
  private gate = openGate();
  private failure: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly visit: LockstepVisitor,
  ) {}

  async arrive(index: number, info: TensorInfo, values: Float64Array): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    this.values[index] = values;
    this.arrived += 1;
    const gate = this.gate;
    if (this.arrived === this.size) {
      const all = this.values;
      this.values = [];
      this.arrived = 0;
      this.gate = openGate();
      try {
        this.visit(info, all);
      } catch (error) {
        this.fail(error);
        gate.reject(error);
        throw error;
      }
      gate.resolve();
      return;
    }
    await gate.promise;
  }

  fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.gate.reject(this.failure);
  }
}

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function openGate(): Gate {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A gate nobody awaits any more must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
