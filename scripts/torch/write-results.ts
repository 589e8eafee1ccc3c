/**
 * Writes what the server would serve for the PyTorch fixtures (shared/fixtures/torch), for check-with-pytorch.sh to
 * load with PyTorch itself: FedAvg and FedMedian of the three clients for the MLP and the CNN, TorchScript and state
 * dict, and client b's update rewritten onto the global archive as it is stored.
 *
 *   tsx scripts/torch/write-results.ts <fixtures/torch folder> <out folder>
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { aggregate } from '../../src/aggregation/aggregate';
import { rewriteOntoGlobal } from '../../src/models/write';
import { bytesSource, collectBytes } from '../../src/onnx/model-source';

async function main(): Promise<void> {
  const [fixtures, out] = process.argv.slice(2);
  if (fixtures === undefined || out === undefined) {
    throw new Error('usage: write-results.ts <fixtures/torch folder> <out folder>');
  }
  await mkdir(out, { recursive: true });
  const readme = JSON.parse(await readFile(path.join(fixtures, 'README.json'), 'utf8')) as {
    sizes: Record<string, number>;
  };
  const file = async (name: string): Promise<Uint8Array> => new Uint8Array(await readFile(path.join(fixtures, name)));
  for (const model of ['mlp', 'cnn']) {
    for (const kind of ['jit', 'state']) {
      const global = await file(`${model}-global-r0.${kind}.pt`);
      for (const method of ['FedAvg', 'FedMedian']) {
        const updates = await Promise.all(
          Object.entries(readme.sizes).map(async ([client, sampleSize]) => ({
            clientId: client,
            sampleSize,
            source: bytesSource(await file(`${model}-client-${client}.${kind}.pt`)),
          })),
        );
        const result = await aggregate({ method, global: bytesSource(global), updates });
        await writeFile(path.join(out, `${model}-${kind}-${method}.pt`), await collectBytes(result.model));
      }
      const rewritten = rewriteOntoGlobal(global, await file(`${model}-client-b.${kind}.pt`));
      await writeFile(path.join(out, `${model}-${kind}-rewritten-b.pt`), rewritten);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
