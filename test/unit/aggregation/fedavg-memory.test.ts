import { execFileSync } from 'node:child_process';
import path from 'node:path';

interface MemoryRun {
  peak: number;
  modelBytes: number;
  written: number;
  diffs: number[];
}

describe('FedAvg memory', () => {
  it.each([
    ['streamed', 'stream'],
    ['read by position from files', 'files'],
  ])('when 20 updates of a 32 MB model are %s and folded, live memory peaks under three model sizes', (_, mode) => {
    const runner = path.join(__dirname, 'helpers/fedavg-memory-run.ts');
    const output = execFileSync(process.execPath, ['--import', 'tsx', runner, mode], { encoding: 'utf8' });
    const run = JSON.parse(output) as MemoryRun;
    expect(run.written).toBe(run.modelBytes);
    expect(run.diffs).toHaveLength(3);
    run.diffs.forEach((diff) => expect(diff).toBeLessThan(1e-7));
    // The float64 accumulator alone is two model sizes: the probe must see it, or it measures nothing.
    expect(run.peak).toBeGreaterThan(2 * run.modelBytes);
    expect(run.peak).toBeLessThan(3 * run.modelBytes);
  });
});
