import fs from 'node:fs';
import * as ort from 'onnxruntime-node';

/**
 * onnxruntime-node called directly in a plain process (`tsx bench/http/direct-onnx.ts '<json>'`): the same model on
 * the same input as the HTTP benchmark, one run after another for `seconds`, with `intraOpNumThreads` threads;
 * prints one JSON line with the p50 and p99 of a run in ms and the samples per second. The floor the server's
 * latency and throughput are set against.
 */
interface DirectOptions {
  model: string;
  /** A JSON file of the request's `model_input`: nested lists [batch, 1, 28, 28]. */
  inputFile: string;
  intraOpNumThreads: number;
  seconds: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DirectOptions;
  const nested = JSON.parse(fs.readFileSync(options.inputFile, 'utf8')) as number[][][][];
  const batch = nested.length;
  const data = Float32Array.from(nested.flat(3));
  const session = await ort.InferenceSession.create(options.model, {
    intraOpNumThreads: options.intraOpNumThreads,
    interOpNumThreads: 1,
  });
  const feeds = { [session.inputNames[0] ?? 'input']: new ort.Tensor('float32', data, [batch, 1, 28, 28]) };
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) {
    await session.run(feeds);
  }
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() < started + options.seconds * 1000) {
    const t = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  await session.release();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(
    `${JSON.stringify({ p50: at(0.5), p99: at(0.99), perSecond: (latencies.length * batch) / elapsed })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
