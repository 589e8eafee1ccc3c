import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { evaluateModel, evaluationBatchRows } from '../src/activities/evaluate-version';
import { openDataset } from '../src/datasets/reader';
import { FsBlobStore } from '../src/storage/fs-blob-store';
import { safetensorsFile } from '../test/fixtures/datasets';
import { fixture } from '../test/fixtures/onnx-edge-cases';

/**
 * `npm run bench:evaluation`: rows per second of the server's evaluation (the `evaluateVersion` activity's core: rows
 * read from the stored dataset file, converted, run through onnxruntime-node, folded into loss and accuracy) on the
 * CNN fixture, beside onnxruntime-node run directly on the same batches already in memory (the baseline: no file, no
 * conversion, no figures). Best of `--repeat` runs each, the two alternating.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '4096' }, repeat: { type: 'string', default: '5' } },
  });
  const rows = Number(values.rows);
  const repeat = Number(values.repeat);
  const rowShape = [1, 28, 28];
  const rowElements = 28 * 28;
  const x = Float32Array.from({ length: rows * rowElements }, (_, i) => Math.sin(i * 12.9898) * 1.5);
  const labels = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 10));
  const model = fixture('cnn-global-r0.onnx');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-bench-evaluation-'));
  try {
    const blobs = new FsBlobStore(root);
    const { digest } = await blobs.put(
      safetensorsFile({
        x: { dtype: 'F32', shape: [rows, ...rowShape], values: x },
        y: { dtype: 'I64', shape: [rows], values: labels },
      }),
    );
    const reader = await openDataset(blobs, digest);
    const batch = evaluationBatchRows(rowShape);

    // The two alternate run by run, so a load that comes and goes on the machine weighs on both alike.
    let evaluation = Infinity;
    let baseline = Infinity;
    let figures: Record<string, number> = {};
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
    try {
      const [inputName] = session.inputNames;
      for (let i = 0; i < repeat; i++) {
        let started = performance.now();
        figures = (await evaluateModel(model, reader, 'I64')).figures;
        evaluation = Math.min(evaluation, performance.now() - started);
        started = performance.now();
        for (let start = 0; start < rows; start += batch) {
          const count = Math.min(batch, rows - start);
          const input = x.subarray(start * rowElements, (start + count) * rowElements);
          await session.run({ [inputName ?? 'input']: new ort.Tensor('float32', input, [count, ...rowShape]) });
        }
        baseline = Math.min(baseline, performance.now() - started);
      }
    } finally {
      await session.release();
    }
    const perSecond = (ms: number) => (rows / ms) * 1000;
    process.stdout.write(
      [
        `evaluation of the CNN fixture on ${rows} rows (batches of ${batch}, best of ${repeat}):`,
        `  evaluateVersion core  ${perSecond(evaluation).toFixed(0).padStart(8)} rows/s  (loss ${figures.loss?.toFixed(4)})`,
        `  onnxruntime directly  ${perSecond(baseline).toFixed(0).padStart(8)} rows/s`,
        `  ratio                 ${(baseline / evaluation).toFixed(3)} of the direct rate`,
        '',
      ].join('\n'),
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

void main();
