import type { ModelInputSource } from './input/model-input';
import type { FloatTensor } from './tensor';

/**
 * Milliseconds under which a kind of task, once measured on a pool thread, runs on the API thread by default (it
 * blocks the API's event loop for as long: src/inference/pool.ts).
 */
export const INLINE_RUN_MS = 1;

/**
 * Nice steps the pool threads run below the API thread unless set. Measured on 2 cores under 16 connections of CNN batch-64 inference: the
 * p99 of `GET /api/health/` beside it 2.6-3.5 ms at the process's priority, 0.8-0.9 ms at 10, inference's own
 * throughput unchanged (the threads get every cycle the API thread leaves; when other requests want the API thread,
 * they have it first).
 */
export const DEFAULT_POOL_NICE = 10;

/** How a session's model is derived from a stored model. */
export type ModelVariant =
  /** The stored bytes as they are. */
  | { readonly kind: 'plain' }
  /** The stored model with every Dropout's training mode set: on for MC dropout, off for a deterministic pass. */
  | { readonly kind: 'dropout'; readonly training: boolean }
  /** One SWAG sample: the model's weights drawn from N(first, max(second − first², 0)), by `seed`. */
  | { readonly kind: 'swag-sample'; readonly first: string; readonly second: string; readonly seed: number };

/** One session a task needs: its cache key, the blob digest of the model it starts from, and the variant. */
export interface SessionSpec {
  readonly key: string;
  readonly digest: string;
  readonly variant: ModelVariant;
}

/**
 * One inference: the input is decoded (on the pool thread: large inputs take a while), runs through `preprocess`
 * when there is one, then through every session `passes` times (MC dropout: one session, N passes; ENSEMBLE: its
 * members; SWAG: N sampled models, once each).
 */
export interface InferenceTask {
  readonly preprocess?: SessionSpec;
  readonly sessions: readonly SessionSpec[];
  readonly passes: number;
  /** The request's `model_input`, as sent. */
  readonly input: ModelInputSource;
  /** The model's `input_shape`, checked against a decoded tensor when no preprocessing graph comes first. */
  readonly inputShape: readonly (number | null)[] | null;
  /** Softmax over the last dimension of every sample's output (`options.uncertainty.softmax`). */
  readonly softmax: boolean;
}

/** Every sample's first output, stacked: dims `[samples, ...output dims]`. */
export interface InferenceSamples {
  readonly outputName: string;
  readonly samples: FloatTensor;
}

/** Messages from the API thread to a pool worker. */
export type ToWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly task: InferenceTask;
      /** Whether the task has the pool to itself: its sessions use the wide intra-op threads. */
      readonly wide: boolean;
    }
  | { readonly type: 'blobs'; readonly id: number; readonly blobs: ReadonlyArray<readonly [string, Uint8Array]> }
  /** Finish the task under way, release every session and end the thread. */
  | { readonly type: 'close' };

/** Messages from a pool worker to the API thread. */
export type FromWorker =
  | { readonly type: 'need'; readonly id: number; readonly digests: readonly string[] }
  | {
      readonly type: 'done';
      readonly id: number;
      readonly result: InferenceSamples;
      /** How long decoding and running took, session creation excluded (ms). */
      readonly runMs: number;
      /** Bytes of the models the task's sessions were created from. */
      readonly modelBytes: number;
    }
  | {
      readonly type: 'failed';
      readonly id: number;
      /** Set for the caller's mistakes (a 400); null for a failure of the server. */
      readonly code: string | null;
      readonly message: string;
      readonly details?: unknown;
    };
