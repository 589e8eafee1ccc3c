import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatKernels } from '../src/kernels/float-kernels';
import { seededUniform } from '../src/seeded-random';

/**
 * `npm run bench:kernel`: the FedAvg fold's inner loop, sum[i] += w · x[i] (float32 x, float64 sums), on the data
 * the engine gives it: 10 updates' chunks of 65536 values folded into one float64 chunk that stays in cache, over as
 * many chunks as 10 updates of 29M parameters make. Three loops on the same data in the same run: plain JavaScript
 * (what the engine ran before), the WebAssembly SIMD kernel (what it runs), and, when `gcc` is installed, the same
 * loop in C at -O3 -march=native (the hardware's ceiling for this code). Prints ns per value, the bytes the loop
 * touches per second (4 read, 8 read and 8 written per value), and each as a ratio to the kernel. Fails if the
 * kernel's sums differ from the JavaScript loop's in any bit.
 */

const CHUNK = 65536;
const UPDATES = 10;
const PARAMS = 29e6;
const STEPS = Math.ceil(PARAMS / CHUNK);
const VALUES = STEPS * CHUNK * UPDATES;
const BYTES_PER_VALUE = 20;

interface Result {
  readonly label: string;
  readonly seconds: number;
}

function main(): void {
  const kernels = floatKernels((UPDATES + 1) * CHUNK * 8 + 64);
  if (kernels === undefined) {
    throw new Error('this Node has no WebAssembly SIMD');
  }
  const buffer = kernels.memory.buffer;
  const sums = new Float64Array(buffer, 0, CHUNK);
  const chunks = Array.from({ length: UPDATES }, (_, k) => new Float32Array(buffer, CHUNK * 8 + k * CHUNK * 4, CHUNK));
  const uniform = seededUniform(21);
  chunks.forEach((chunk) => chunk.forEach((_, i) => (chunk[i] = 2 * uniform() - 1)));
  const weights = Array.from({ length: UPDATES }, (_, k) => (k + 1) / 55);

  const javascript = (): Float64Array => {
    const out = new Float64Array(CHUNK);
    for (let step = 0; step < STEPS; step++) {
      out.fill(0);
      chunks.forEach((chunk, k) => addScaled32(out, chunk, weights[k] ?? 0));
    }
    return out;
  };
  const wasm = (): Float64Array => {
    for (let step = 0; step < STEPS; step++) {
      sums.fill(0);
      chunks.forEach((chunk, k) => kernels.fold32(sums.byteOffset, chunk.byteOffset, CHUNK, weights[k] ?? 0));
    }
    return sums.slice();
  };
  const [jsSums, jsSeconds] = best(javascript);
  const [wasmSums, wasmSeconds] = best(wasm);
  const differing = jsSums.findIndex((value, i) => !Object.is(value, wasmSums[i]));
  if (differing >= 0) {
    throw new Error(
      `the kernel's sum ${differing} is ${wasmSums[differing]}, the JavaScript loop's ${jsSums[differing]}`,
    );
  }
  const results: Result[] = [
    { label: 'JavaScript loop', seconds: jsSeconds },
    { label: 'WebAssembly SIMD kernel', seconds: wasmSeconds },
  ];
  const c = cLoop();
  if (c !== undefined) {
    results.push({ label: 'C, gcc -O3 -march=native', seconds: c });
  }
  process.stdout.write(
    `\nfold of ${UPDATES} updates x ${(PARAMS / 1e6).toFixed(0)}M values in chunks of ${CHUNK} (sums in cache), best of 5\n`,
  );
  const rows = [
    ['loop', 'time', 'ns / value', 'GB/s touched', 'time / kernel'],
    ...results.map((result) => [
      result.label,
      `${(result.seconds * 1000).toFixed(0)} ms`,
      ((result.seconds * 1e9) / VALUES).toFixed(2),
      ((VALUES * BYTES_PER_VALUE) / result.seconds / 1e9).toFixed(1),
      (result.seconds / wasmSeconds).toFixed(2),
    ]),
  ];
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const row of rows) {
    process.stdout.write(
      `${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}\n`,
    );
  }
  process.stdout.write(`the kernel's sums equal the JavaScript loop's bit for bit\n`);
}

function addScaled32(sum: Float64Array, values: Float32Array, weight: number): void {
  for (let i = 0; i < values.length; i++) {
    sum[i] = (sum[i] ?? 0) + weight * (values[i] ?? 0);
  }
}

/** Runs `work` five times and keeps the fastest, after one warm-up. */
function best(work: () => Float64Array): [Float64Array, number] {
  let result = work();
  let seconds = Infinity;
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint();
    result = work();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return [result, seconds];
}

/** The same loop in C, timed by itself (best of 5), or undefined without gcc. */
function cLoop(): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'roundhouse-kernel-'));
  try {
    const source = join(dir, 'fold.c');
    writeFileSync(
      source,
      `#include <stdio.h>
#include <time.h>
#define CHUNK ${CHUNK}
#define UPDATES ${UPDATES}
#define STEPS ${STEPS}
static float x[UPDATES][CHUNK];
static double sums[CHUNK];
static void fold(double *restrict s, const float *restrict v, double w) {
  for (int i = 0; i < CHUNK; i++) s[i] += w * (double)v[i];
}
int main(void) {
  for (int k = 0; k < UPDATES; k++) for (int i = 0; i < CHUNK; i++) x[k][i] = (float)((i * 7919 + k) % 1000) / 1000.0f;
  double best = 1e9, check = 0;
  for (int run = 0; run < 6; run++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int step = 0; step < STEPS; step++) {
      for (int i = 0; i < CHUNK; i++) sums[i] = 0;
      for (int k = 0; k < UPDATES; k++) fold(sums, x[k], (k + 1) / 55.0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double t = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    if (run > 0 && t < best) best = t;
    check += sums[run];
  }
  printf("%.9f %f\\n", best, check);
  return 0;
}
`,
    );
    const binary = join(dir, 'fold');
    // -ffp-contract=off: no fused multiply-add, the same arithmetic as the kernel's.
    const compiled = spawnSync('gcc', ['-O3', '-march=native', '-ffp-contract=off', '-o', binary, source], {
      encoding: 'utf8',
    });
    if (compiled.error || compiled.status !== 0) {
      return undefined;
    }
    const run = spawnSync(binary, [], { encoding: 'utf8' });
    const seconds = Number(String(run.stdout).split(' ')[0]);
    return Number.isFinite(seconds) ? seconds : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
