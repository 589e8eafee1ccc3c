import fs from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Where replay histories live: `<workflow>-<scenario>-v<N>.json`. */
export const HISTORIES_DIR = path.join(__dirname, '../fixtures/histories');

/**
 * With RECORD_HISTORIES=1, saves the finished workflow's history for the replay tests (ordinary runs never rewrite
 * the committed fixtures). Histories are stored in the encoded JSON form `historyFromJSON` reads back.
 */
export async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') {
    return;
  }
  const history = await handle.fetchHistory();
  await fs.mkdir(HISTORIES_DIR, { recursive: true });
  await fs.writeFile(path.join(HISTORIES_DIR, `${name}.json`), `${historyToJSON(history)}\n`);
}
