import { Readable } from 'node:stream';
import { computeModelStats, storedModelStats } from '../../../src/api/use-cases/model-stats';
import type { BlobStore } from '../../../src/storage/blob-store';
import { fixture } from '../../fixtures/onnx-edge-cases';

/** A blob store of the MLP fixture under any digest, counting reads; `failing` digests fail to read. */
function countingStore(failing = new Set<string>()): { blobs: BlobStore; reads: string[] } {
  const reads: string[] = [];
  const blobs = {
    read: (digest: string): Promise<Readable> => {
      reads.push(digest);
      return failing.has(digest)
        ? Promise.reject(new Error(`blob ${digest} is gone`))
        : Promise.resolve(Readable.from([fixture('mlp-global-r0.onnx')]));
    },
  } as unknown as BlobStore;
  return { blobs, reads };
}

/** A digest no other test uses: the cache is the module's. */
const digest = (name: string): string => `${name}-${Math.random().toString(16).slice(2)}`;

describe('storedModelStats', () => {
  it('reads a digest once, for requests one after another and at once, with what computeModelStats gives', async () => {
    const { blobs, reads } = countingStore();
    const d = digest('same');
    const expected = await computeModelStats(Readable.from([fixture('mlp-global-r0.onnx')]), [null, 1, 28, 28]);
    const answers = await Promise.all([
      storedModelStats(blobs, d, [null, 1, 28, 28]),
      storedModelStats(blobs, d, [null, 1, 28, 28]),
    ]);
    answers.push(await storedModelStats(blobs, d, [null, 1, 28, 28]));
    expect(answers).toEqual([expected, expected, expected]);
    expect(reads).toEqual([d]);
  });

  it('answers each declared input shape its own input_size, and a changed answer never reaches the next', async () => {
    const { blobs } = countingStore();
    const d = digest('shapes');
    const first = await storedModelStats(blobs, d, [null, 784]);
    expect(first.input_size).toEqual([[1, 784]]);
    first.summary_list[0]!.shape.push(99);
    first.inputs.pop();
    const second = await storedModelStats(blobs, d, null);
    expect(second.input_size).toBeNull();
    expect(second.summary_list[0]?.shape).toEqual([128, 784]);
    expect(second.inputs).toHaveLength(1);
  });

  it('keeps no failed read: the next request reads again', async () => {
    const d = digest('gone');
    const failing = new Set([d]);
    const { blobs, reads } = countingStore(failing);
    await expect(storedModelStats(blobs, d, null)).rejects.toThrow(`blob ${d} is gone`);
    failing.delete(d);
    expect((await storedModelStats(blobs, d, null)).total_params).toBeGreaterThan(0);
    expect(reads).toEqual([d, d]);
  });

  it('keeps the 128 digests asked for last: the least recently asked is read again', async () => {
    const { blobs, reads } = countingStore();
    const digests = Array.from({ length: 129 }, (_, i) => digest(`many-${i}`));
    for (const d of digests) {
      await storedModelStats(blobs, d, null);
    }
    // The first was pushed out by the 129th; the second, asked again now, stays.
    await storedModelStats(blobs, digests[1]!, null);
    await storedModelStats(blobs, digests[0]!, null);
    expect(reads.slice(129)).toEqual([digests[0]]);
  });
});
