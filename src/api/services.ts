import type { Knex } from 'knex';
import type { InferencePool } from '../inference/pool';
import type { Logger } from '../logger';
import type { BlobStore } from '../storage/blob-store';
import type { TaskWakeups } from './task-waker';
import type { TrainingOrchestrator } from './training-orchestrator';

/** What the resource routes and their use cases work with. */
export interface ApiServices {
  readonly knex: Knex;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly orchestrator: TrainingOrchestrator;
  readonly inference: InferencePool;
  /** Wakes long-polling clients when a task or message arrives for them. */
  readonly tasks: TaskWakeups;
}
