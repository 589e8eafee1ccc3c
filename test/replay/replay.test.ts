import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { HISTORIES_DIR } from '../support/histories';
import { workflowBundle } from '../support/temporal';

const files = fs.readdirSync(HISTORIES_DIR).filter((name) => name.endsWith('.json'));

function loadHistory(name: string): ReturnType<typeof historyFromJSON> {
  return historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, name), 'utf8')));
}

describe('recorded workflow histories', () => {
  it('has a history for every recorded scenario', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'probeWorkflow-signal-query-v1.json',
        ...[
          'two-rounds',
          'refusals',
          'straggler',
          'below-quorum',
          'removed-client',
          'undeliverable',
          'continue-as-new',
          'decline',
          'decline-refusals',
          'decline-below-quorum',
          'decline-swag',
          'join',
          'evaluation',
        ].map((scenario) => `trainingWorkflow-${scenario}-v1.json`),
      ]),
    );
  });

  it.each(files)(
    'when %s is replayed against the current workflow code, it replays without a determinism error',
    async (name) => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, loadHistory(name)),
      ).resolves.toBeUndefined();
    },
  );

  it.each(['probeWorkflow-signal-query-v1.json', 'trainingWorkflow-two-rounds-v1.json'])(
    'when the workflow code changes its commands, replaying %s fails with a DeterminismViolationError',
    async (name) => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: await changedBundle() }, loadHistory(name)),
      ).rejects.toBeInstanceOf(DeterminismViolationError);
    },
  );
});

let changed: ReturnType<typeof bundleWorkflowCode> | undefined;

/** The bundle of the deliberately changed workflows, built once. */
function changedBundle(): ReturnType<typeof bundleWorkflowCode> {
  changed ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./nondeterministic-workflows'),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });
  return changed;
}
