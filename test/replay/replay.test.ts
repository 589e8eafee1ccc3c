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
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)(
    'when %s is replayed against the current workflow code, it replays without a determinism error',
    async (name) => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, loadHistory(name)),
      ).resolves.toBeUndefined();
    },
  );

  it('when the workflow code changes its commands, replay fails with a DeterminismViolationError', async () => {
    const changed = await bundleWorkflowCode({
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
    await expect(
      Worker.runReplayHistory({ workflowBundle: changed }, loadHistory('probeWorkflow-signal-query-v1.json')),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
