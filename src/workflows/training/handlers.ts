import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { TrainingErrorCode } from '../../error-reasons';
import {
  type DeclineRequest,
  type TrainingStatus,
  type UploadSubmission,
  addClientSignal,
  declineUpdate,
  removeClientSignal,
  submitUploadUpdate,
  trainingStatusQuery,
} from './definitions';
import type { TrainingRun } from './training-run';

/** Where the handlers find the state once the workflow has loaded its settings. */
export interface StateSlot {
  /** Gives the handlers the state; joins and removals signalled before it existed are applied now. */
  attach(state: TrainingRun): TrainingRun;
}

/**
 * Installs the Update, Signal and Query handlers, on `initial` when the state already exists (a continued run).
 * Called before the workflow's first await, so no message finds it without them: until the state is attached the
 * status says STARTING, uploads are refused as `starting`, and joins and removals are kept to be applied on attach.
 */
export function installHandlers(trainingId: string, initial?: TrainingRun): StateSlot {
  let state: TrainingRun | undefined = initial;
  const pendingRemovals: string[] = [];
  const pendingJoins: string[] = [];
  setHandler(submitUploadUpdate, (upload) => ready(state).accept(upload), {
    validator: (upload: UploadSubmission) => ready(state).validate(upload),
  });
  setHandler(declineUpdate, (request) => ready(state).acceptDecline(request), {
    validator: (request: DeclineRequest) => ready(state).validateDecline(request),
  });
  setHandler(addClientSignal, ({ clientId }) => {
    if (state) {
      state.join(clientId);
    } else {
      pendingJoins.push(clientId);
    }
  });
  setHandler(removeClientSignal, ({ clientId }) => {
    if (state) {
      state.remove(clientId);
    } else {
      pendingRemovals.push(clientId);
    }
  });
  setHandler(trainingStatusQuery, () => state?.status() ?? startingStatus(trainingId));
  return {
    attach: (attached) => {
      state = attached;
      pendingJoins.forEach((clientId) => attached.join(clientId));
      pendingRemovals.forEach((clientId) => attached.remove(clientId));
      return attached;
    },
  };
}

function ready(state: TrainingRun | undefined): TrainingRun {
  if (!state) {
    throw ApplicationFailure.create({
      type: TrainingErrorCode.STARTING,
      message: 'The training is still starting; try again shortly.',
      nonRetryable: true,
    });
  }
  return state;
}

function startingStatus(trainingId: string): TrainingStatus {
  return {
    trainingId,
    phase: 'STARTING',
    round: 0,
    participants: [],
    received: [],
    missing: [],
    deadline: null,
    extended: false,
    leftOut: {},
  };
}
