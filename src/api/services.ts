import type { Knex } from 'knex';
import type { InferencePool } from '../inference/pool';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import type { TaskWakeups } from './task-waker';
import type { InferenceModels } from './use-cases/inference-model';
import type { TrainingOrchestrator } from './training-orchestrator';

/** What the dashboard at `/ui/` is served from, and what it links to. */
export interface DashboardSettings {
  /** The built dashboard (`npm run build` writes `dist/ui`); when it holds no build, `/ui/` answers 503. */
  readonly assetsDir: string;
  /** The Temporal Web UI (no trailing slash) a training's workflow is linked to; undefined: no link. */
  readonly temporalUiUrl: string | undefined;
  /** The Temporal namespace the trainings' workflows run in, for those links. */
  readonly temporalNamespace: string;
}

/** What the resource routes and their use cases work with. */
export interface ApiServices {
  readonly knex: Knex;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly orchestrator: TrainingOrchestrator;
  readonly inference: InferencePool;
  /** The models inference runs, cached while nothing they were read from changes. */
  readonly inferenceModels: InferenceModels;
  /** Wakes long-polling clients when a task or message arrives for them. */
  readonly tasks: TaskWakeups;
  /** What the dashboard is served from and links to. */
  readonly dashboard: DashboardSettings;
  /** Aborts when the API begins to stop: long-polls then answer at once (`pollSignal`). */
  readonly stopping: AbortSignal;
}
