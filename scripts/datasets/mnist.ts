/**
 * Writes the MNIST evaluation set (the fixtures' 1,000 held-out digits, scripts/datasets/mnist-heldout.ts) as a
 * safetensors dataset file, and uploads it as a dataset when asked:
 *
 *   npm run dataset:mnist -- [file] [--upload <server url> --token <API token>] [--share]
 *
 * `file` defaults to mnist-heldout.safetensors; the server URL is the base (`http://127.0.0.1:8000`).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { mnistHeldoutFile } from './mnist-heldout';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { upload: { type: 'string' }, token: { type: 'string' }, share: { type: 'boolean', default: false } },
  });
  const file = positionals[0] ?? 'mnist-heldout.safetensors';
  if (positionals.length > 1 || (values.upload === undefined) !== (values.token === undefined)) {
    throw new Error('usage: mnist.ts [file] [--upload <server url> --token <API token>] [--share]');
  }
  const bytes = mnistHeldoutFile();
  await writeFile(file, bytes);
  process.stdout.write(`wrote ${file} (${bytes.length} bytes: x float32 [1000, 1, 28, 28], y int64 [1000])\n`);
  if (values.upload !== undefined && values.token !== undefined) {
    process.stdout.write(`${await upload(values.upload, values.token, bytes, values.share)}\n`);
  }
}

/** Posts the file to `POST /api/datasets/`; returns the answer's body. */
async function upload(server: string, token: string, bytes: Buffer, share: boolean): Promise<string> {
  const form = new FormData();
  form.set('name', 'mnist-heldout');
  form.set(
    'description',
    'The 1,000 held-out MNIST digits of the model fixtures, normalized (mean 0.1307, std 0.3015).',
  );
  form.set('share_with_participants', String(share));
  form.set('file', new Blob([bytes]), 'mnist-heldout.safetensors');
  const res = await fetch(`${server.replace(/\/+$/, '')}/api/datasets/`, {
    method: 'POST',
    headers: { Authorization: `Token ${token}` },
    body: form,
  });
  const body = await res.text();
  if (res.status !== 201) {
    throw new Error(`upload refused: ${res.status} ${body}`);
  }
  return body;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
