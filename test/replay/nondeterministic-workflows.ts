// A deliberately changed probeWorkflow for the negative replay test: it starts a timer the recorded history never
// saw, which Temporal must flag as non-deterministic.
import { condition, setHandler, sleep } from '@temporalio/workflow';
import {
  finishProbeSignal,
  type ProbeState,
  probeStateQuery,
  recordValueSignal,
} from '../../src/workflows/probe/definitions';

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
