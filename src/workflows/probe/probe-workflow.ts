import { condition, setHandler } from '@temporalio/workflow';
import { finishProbeSignal, type ProbeState, probeStateQuery, recordValueSignal } from './definitions';

/**
 * A minimal workflow that proves a worker end to end (start, signal, query, complete) without touching any training:
 * it records the values it is signalled, answers its state, and returns the values once told to finish.
 */
export async function probeWorkflow(): Promise<string[]> {
  const state: ProbeState = { values: [], finished: false };
  setHandler(recordValueSignal, (value) => {
    state.values.push(value);
  });
  setHandler(finishProbeSignal, () => {
    state.finished = true;
  });
  setHandler(probeStateQuery, () => state);
  await condition(() => state.finished);
  return state.values;
}
