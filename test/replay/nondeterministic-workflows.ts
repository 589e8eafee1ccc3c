// Deliberately changed workflows for the negative replay tests: each starts a timer its recorded histories never
// saw, which Temporal must flag as non-deterministic.
import { condition, setHandler, sleep } from '@temporalio/workflow';
import {
  finishProbeSignal,
  type ProbeState,
  probeStateQuery,
  recordValueSignal,
} from '../../src/workflows/probe/definitions';
import {
  trainingWorkflow as currentTrainingWorkflow,
  type TrainingWorkflowInput,
} from '../../src/workflows/training/training-workflow';

export async function probeWorkflow(): Promise<string[]> {
  const state: ProbeState = { values: [], finished: false };
  setHandler(recordValueSignal, (value) => {
    state.values.push(value);
  });
  setHandler(finishProbeSignal, () => {
    state.finished = true;
  });
  setHandler(probeStateQuery, () => state);
  await sleep(1_000);
  await condition(() => state.finished);
  return state.values;
}

/** The current training workflow behind a grace period a careless change might add before TRAINING_START. */
export async function trainingWorkflow(input: TrainingWorkflowInput): Promise<{ round: number }> {
  await sleep('5 seconds');
  return currentTrainingWorkflow(input);
}
