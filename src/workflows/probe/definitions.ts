import { defineQuery, defineSignal } from '@temporalio/workflow';

/** What the probe has seen so far. */
export interface ProbeState {
  values: string[];
  finished: boolean;
}

/** Adds a value to the probe's state. */
export const recordValueSignal = defineSignal<[string]>('recordValueSignal');
/** Lets the probe return. */
export const finishProbeSignal = defineSignal('finishProbeSignal');
/** The probe's state. */
export const probeStateQuery = defineQuery<ProbeState>('probeStateQuery');
