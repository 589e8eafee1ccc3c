import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import { TrainingErrorCode } from '../error-reasons';
import type { Training } from '../db/models/training';
import { findModelById } from '../db/queries/models';
import { transitionTraining } from '../db/queries/trainings';
import { deleteUpload } from '../db/queries/uploads';
import type { Upload } from '../db/models/upload';
import { unavailable } from '../errors';
import {
  AGGREGATION_METHOD,
  TRAINING_ACTOR,
  TRAINING_ROUND,
  TRAINING_STATE,
  type DeclineRequest,
  type TrainingStatus,
  addClientSignal,
  declineUpdate,
  declineUpdateId,
  removeClientSignal,
  submitUploadUpdate,
  trainingStatusQuery,
  trainingWorkflowId,
  uploadUpdateId,
} from '../workflows/training/definitions';
import type { trainingWorkflow } from '../workflows/training/training-workflow';
import { TrainingState } from '../training-states';
import { KeyedLimiter } from './keyed-limiter';
import { retryWhileStarting } from './retry-while-starting';
import { httpErrorOfWorkflowFailure, refusalReasonOf } from './workflow-failures';
import type { TrainingOrchestrator } from './training-orchestrator';

/** Where and how the orchestrator reaches Temporal. */
export interface TemporalOrchestratorSettings {
  taskQueue: string;
  /** How long an upload waits for the workflow to take it before the API answers 503. */
  updateWaitMs: number;
}

const RETRY_AFTER_SECONDS = 5;
/**
 * Uploads one API process hands to one training's workflow at once. Temporal takes at most 10 in-flight Updates per
 * workflow; past that every extra request is refused and retried, and a burst of retrying clients can keep the
 * workflow's tasks from completing. Queued here instead, a burst reaches the workflow a few at a time.
 */
const UPDATES_IN_FLIGHT_PER_TRAINING = 4;
/** A status query is a convenience for GET: it never holds the request long. */
const STATUS_WAIT_MS = 2_000;

/**
 * The orchestrator of trainings run as `training-<id>` Temporal workflows: start starts the workflow, uploads are
 * Updates whose id is derived from the slot (a retried upload is the same Update), removals are Signals, delete
 * cancels. An upload the workflow refuses is removed again, so a refused upload leaves no row.
 */
export class TemporalTrainingOrchestrator implements TrainingOrchestrator {
  private readonly updates = new KeyedLimiter(UPDATES_IN_FLIGHT_PER_TRAINING);

  constructor(
    private readonly client: Client,
    private readonly knex: Knex,
    private readonly settings: TemporalOrchestratorSettings,
  ) {}

  async start(training: Training): Promise<void> {
    const model = await findModelById(this.knex, training.modelId);
    try {
      await this.client.workflow.start<typeof trainingWorkflow>('trainingWorkflow', {
        taskQueue: this.settings.taskQueue,
        workflowId: trainingWorkflowId(training.id),
        args: [{ trainingId: training.id }],
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: TRAINING_STATE, value: TrainingState.ONGOING },
          { key: TRAINING_ROUND, value: model?.round ?? 0 },
          { key: TRAINING_ACTOR, value: training.actorId },
          { key: AGGREGATION_METHOD, value: training.aggregationMethod },
        ],
        memo: { modelId: training.modelId },
        staticSummary: `${training.aggregationMethod} training of model ${training.modelId}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return;
      }
      throw unavailable('The training could not be started now; try again shortly.', RETRY_AFTER_SECONDS, {
        reason: 'training_not_started',
        details: { reason: err instanceof Error ? err.message : String(err) },
      });
    }
    // The row names the workflow that runs it: operators find it in the Web UI, or by SQL, without the naming rule.
    await transitionTraining(this.knex, training.id, TrainingState.INITIAL, TrainingState.ONGOING, {
      workflowId: trainingWorkflowId(training.id),
    });
  }

  async submitUpload(training: Training, upload: Upload): Promise<void> {
    const deadline = Date.now() + this.settings.updateWaitMs;
    const release = await this.updates.acquire(training.id, this.settings.updateWaitMs);
    if (!release) {
      throw unavailable('The training is taking many uploads right now; retry the same request.', RETRY_AFTER_SECONDS, {
        reason: 'upload_backlog',
      });
    }
    try {
      await this.submitWhenReady(training, upload, deadline);
    } catch (err) {
      const refusal = httpErrorOfWorkflowFailure(err, training.id);
      if (refusal) {
        // A filled slot means the workflow holds an upload for it: the row may be that upload's, so it stays.
        if (refusalReasonOf(err) !== TrainingErrorCode.SLOT_FILLED) {
          await deleteUpload(this.knex, upload);
        }
        throw refusal;
      }
      // No worker answered in time, or Temporal is out of reach: the row stays, and the client's retry of the same
      // upload finds it and sends the same Update again.
      throw unavailable(
        'The training cannot take this upload right now; retry the same request.',
        RETRY_AFTER_SECONDS,
        {
          reason: 'run_unresponsive',
        },
      );
    } finally {
      release();
    }
  }

  async decline(training: Training, request: DeclineRequest): Promise<void> {
    const deadline = Date.now() + this.settings.updateWaitMs;
    const handle = this.client.workflow.getHandle<typeof trainingWorkflow>(trainingWorkflowId(training.id));
    const updateId = declineUpdateId(training.id, request.round, request.clientId, request.phase);
    try {
      await retryWhileStarting(deadline, () =>
        this.client.connection.withDeadline(deadline, () =>
          handle.executeUpdate(declineUpdate, { args: [request], updateId }),
        ),
      );
    } catch (err) {
      throw (
        httpErrorOfWorkflowFailure(err, training.id) ??
        unavailable('The training cannot take this decline right now; retry the same request.', RETRY_AFTER_SECONDS, {
          reason: 'run_unresponsive',
        })
      );
    }
  }

  async addClients(training: Training, clientIds: readonly string[]): Promise<void> {
    const handle = this.client.workflow.getHandle(trainingWorkflowId(training.id));
    try {
      for (const clientId of clientIds) {
        await handle.signal(addClientSignal, { clientId }).catch(ignoreNotFound);
      }
    } catch {
      // The participants are stored; the same request again tells the run (a join it knows changes nothing).
      throw unavailable(
        'The training cannot take new participants right now; retry the same request.',
        RETRY_AFTER_SECONDS,
        { reason: 'run_unresponsive' },
      );
    }
  }

  async removeClients(training: Training, clientIds: readonly string[]): Promise<void> {
    const handle = this.client.workflow.getHandle(trainingWorkflowId(training.id));
    for (const clientId of clientIds) {
      await handle.signal(removeClientSignal, { clientId, reason: 'removed by the actor' }).catch(ignoreNotFound);
    }
  }

  async cancel(training: Training): Promise<void> {
    await this.client.workflow.getHandle(trainingWorkflowId(training.id)).cancel().catch(ignoreNotFound);
  }

  async status(training: Training): Promise<TrainingStatus | null> {
    const handle = this.client.workflow.getHandle(trainingWorkflowId(training.id));
    try {
      return await this.client.connection.withDeadline(Date.now() + STATUS_WAIT_MS, () =>
        handle.query(trainingStatusQuery),
      );
    } catch {
      // Not started, or no worker to answer right now: the database fields still describe the training.
      return null;
    }
  }

  /**
   * Hands the upload to the run as an Update. A run that has not loaded its settings yet refuses every upload; it is
   * ready within moments, so the upload waits for it until `deadline` (a refused Update leaves no trace, so the same
   * Update id may come again).
   */
  private async submitWhenReady(training: Training, upload: Upload, deadline: number): Promise<void> {
    const handle = this.client.workflow.getHandle<typeof trainingWorkflow>(trainingWorkflowId(training.id));
    const submission = {
      clientId: upload.clientId,
      round: upload.round,
      phase: upload.phase,
      uploadId: upload.id,
      ...(upload.sampleSize ? { sampleSize: upload.sampleSize } : {}),
      ...(upload.phase === 'update' && upload.modelId ? { modelId: upload.modelId } : {}),
    };
    const updateId = uploadUpdateId(training.id, upload.round, upload.clientId, upload.phase);
    await retryWhileStarting(deadline, () =>
      this.client.connection.withDeadline(deadline, () =>
        handle.executeUpdate(submitUploadUpdate, { args: [submission], updateId }),
      ),
    );
  }
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof WorkflowNotFoundError)) {
    throw err;
  }
}
