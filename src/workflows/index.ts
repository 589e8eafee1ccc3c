// The workflow bundle's entry point (workflowsPath): every workflow the worker runs is exported here.
export { probeWorkflow } from './probe/probe-workflow';
export { trainingWorkflow } from './training/training-workflow';
