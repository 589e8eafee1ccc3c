import { readMlpWeights } from '../src/demo/mlp';
import { evaluate, trainLocally } from '../src/demo/sgd';
import { classShard, fixtureBytes } from '../test/unit/demo/helpers/shards';

/**
 * `npx tsx bench/demo-sgd.bench.ts`: how long one local epoch of the demo's TypeScript SGD takes on 3,000 digits of
 * classes 0-4 (the fixture client a's kind of shard; batch 32, lr 0.05) from the initial global model, best of
 * `REPEAT` runs, and the shard's loss and accuracy before and after, beside PyTorch's client a on the same digits.
 */
async function main(): Promise<void> {
  const repeat = Number(process.env.REPEAT ?? '3');
  const start = await readMlpWeights(fixtureBytes('mlp-global-r0.onnx'));
  const shard = classShard([0, 1, 2, 3, 4], 3000);
  let best = Infinity;
  for (let run = 0; run < repeat; run++) {
    const began = performance.now();
    const result = trainLocally(start, shard, { epochs: 1, seed: run });
    const ms = performance.now() - began;
    best = Math.min(best, ms);
    const { before, after } = result;
    process.stdout.write(
      `run ${run}: ${ms.toFixed(0)} ms for ${result.steps} steps on ${result.sampleSize} digits (with two evaluations); ` +
        `loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}, accuracy ${before.accuracy.toFixed(4)} -> ${after.accuracy.toFixed(4)}\n`,
    );
  }
  const began = performance.now();
  const evaluation = evaluate(start, shard);
  const evalMs = performance.now() - began;
  process.stdout.write(
    `one evaluation pass over the shard: ${evalMs.toFixed(0)} ms (loss ${evaluation.loss.toFixed(4)})\n`,
  );
  process.stdout.write(
    `best epoch incl. evaluations: ${best.toFixed(0)} ms; the 94 steps alone: about ${(best - 2 * evalMs).toFixed(0)} ms\n`,
  );
  const pytorch = evaluate(await readMlpWeights(fixtureBytes('mlp-client-a.onnx')), shard);
  process.stdout.write(
    `PyTorch client a (its own shard of classes 0-4) on these digits: loss ${pytorch.loss.toFixed(4)}, accuracy ${pytorch.accuracy.toFixed(4)}\n`,
  );
}

void main();
