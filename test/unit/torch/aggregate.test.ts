import { readFileSync } from 'node:fs';
import { aggregate } from '../../../src/aggregation/aggregate';
import { checkModel, checkUpdate } from '../../../src/models/checks';
import { rewriteOntoGlobal } from '../../../src/models/write';
import { bytesSource, collectBytes } from '../../../src/onnx/model-source';
import type { ModelSummary } from '../../../src/onnx/summary';
import { readTorchArchive } from '../../../src/torch/archive';
import type { TorchArchive } from '../../../src/torch/archive';
import { entryBytes, readZipDirectory } from '../../../src/torch/zip';
import type { ZipEntry } from '../../../src/torch/zip';
import { fixture } from '../aggregation/helpers/fixtures';

const readme = JSON.parse(readFileSync(fixture('torch/README.json'), 'utf8')) as { sizes: Record<Client, number> };
type Client = 'a' | 'b' | 'c';
const CLIENTS: readonly Client[] = ['a', 'b', 'c'];

const file = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(`torch/${name}`)));

/** Each tensor's values in float64, straight from its storage entry's little-endian float32 bytes. */
function rawTensors(bytes: Uint8Array): Map<string, Float64Array> {
  const archive = readTorchArchive(bytes);
  const tensors = new Map<string, Float64Array>();
  for (const tensor of archive.manifest) {
    const storage = archive.storages.get(tensor.storageKey);
    if (storage === undefined || tensor.dtype !== 'float32') {
      throw new Error(`the fixtures hold float32 storages only (${tensor.name})`);
    }
    const data = entryBytes(bytes, storage.entry);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const count = tensor.shape.reduce((product, length) => product * length, 1);
    tensors.set(
      tensor.name,
      Float64Array.from({ length: count }, (_, i) => view.getFloat32(4 * (tensor.storageOffset + i), true)),
    );
  }
  return tensors;
}

/** The sample-size-weighted mean, in float64, coordinate by coordinate. */
function fedAvg(clients: readonly Map<string, Float64Array>[], sizes: readonly number[]): Map<string, Float64Array> {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const first = clients[0] ?? new Map<string, Float64Array>();
  return new Map(
    [...first.keys()].map((name) => {
      const values = clients.map((client) => client.get(name) ?? new Float64Array(0));
      const length = values[0]?.length ?? 0;
      const mean = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        mean[i] = values.reduce((sum, client, k) => sum + (client[i] ?? 0) * (sizes[k] ?? 0), 0) / total;
      }
      return [name, mean];
    }),
  );
}

/** The coordinate-wise median of three clients: the middle value. */
function median(clients: readonly Map<string, Float64Array>[]): Map<string, Float64Array> {
  const first = clients[0] ?? new Map<string, Float64Array>();
  return new Map(
    [...first.keys()].map((name) => {
      const values = clients.map((client) => client.get(name) ?? new Float64Array(0));
      const out = Float64Array.from(values[0] ?? [], (_, i) => {
        const sorted = values.map((client) => client[i] ?? 0).sort((x, y) => x - y);
        return sorted[1] ?? 0;
      });
      return [name, out];
    }),
  );
}

function maxDifference(actual: Map<string, Float64Array>, expected: Map<string, Float64Array>): number {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  let worst = 0;
  for (const [name, values] of expected) {
    const got = actual.get(name) ?? new Float64Array(0);
    expect(got.length).toBe(values.length);
    values.forEach((value, i) => {
      worst = Math.max(worst, Math.abs((got[i] ?? Number.NaN) - value));
    });
  }
  return worst;
}

/** The byte ranges a rewritten archive may change: the storages' data and every CRC-32 field of theirs. */
function changeableRanges(bytes: Uint8Array, archive: TorchArchive): [number, number][] {
  const ranges: [number, number][] = [];
  for (const { entry } of archive.storages.values()) {
    ranges.push([entry.dataOffset, entry.dataOffset + entry.size]);
    ranges.push([entry.centralHeaderOffset + 16, entry.centralHeaderOffset + 20]);
    ranges.push([entry.localHeaderOffset + 14, entry.localHeaderOffset + 18]);
    const after = entry.dataOffset + entry.compressedSize;
    const signed = new DataView(bytes.buffer, bytes.byteOffset).getUint32(after, true) === 0x08074b50;
    ranges.push(signed ? [after + 4, after + 8] : [after, after + 4]);
  }
  return ranges;
}

/** Asserts `written` equals `template` byte for byte outside the storages and their CRCs, and passes a strict read. */
function expectSameArchiveButStorages(written: Uint8Array, template: Uint8Array): void {
  expect(written.length).toBe(template.length);
  const archive = readTorchArchive(template);
  const ranges = changeableRanges(template, archive);
  const differing: number[] = [];
  for (let i = 0; i < template.length; i++) {
    if (written[i] !== template[i] && !ranges.some(([start, end]) => i >= start && i < end)) {
      differing.push(i);
    }
  }
  expect(differing).toEqual([]);
  // Strict: every entry's CRC-32 checked against the directory, and the local headers against it too.
  const rewritten = readTorchArchive(written, { verifyCrc: true });
  expect(rewritten.manifest).toEqual(archive.manifest);
  const entries = readZipDirectory(written).entries;
  const byName = new Map(readZipDirectory(template).entries.map((entry) => [entry.name, entry]));
  for (const entry of entries) {
    const before = byName.get(entry.name) as ZipEntry;
    expect({ ...entry, crc32: 0 }).toEqual({ ...before, crc32: 0 });
    entryBytes(written, entry, true);
  }
}

async function run(
  method: string,
  global: Uint8Array,
  updates: Record<Client, Uint8Array>,
): Promise<{ bytes: Uint8Array; summary: ModelSummary }> {
  const result = await aggregate({
    method,
    global: bytesSource(global),
    updates: CLIENTS.map((client) => ({
      clientId: client,
      sampleSize: readme.sizes[client],
      source: bytesSource(updates[client]),
    })),
  });
  return { bytes: await collectBytes(result.model), summary: result.summary };
}

describe.each(['mlp', 'cnn'] as const)('aggregating the %s fixtures', (model) => {
  describe.each(['jit', 'state'] as const)('saved as %s', (suffix) => {
    const global = file(`${model}-global-r0.${suffix}.pt`);
    const updates = {
      a: file(`${model}-client-a.${suffix}.pt`),
      b: file(`${model}-client-b.${suffix}.pt`),
      c: file(`${model}-client-c.${suffix}.pt`),
    };
    const clients = CLIENTS.map((client) => rawTensors(updates[client]));

    it('FedAvg equals the float64 mean of the raw storages within 1e-6, written onto the global archive', async () => {
      const { bytes, summary } = await run('FedAvg', global, updates);
      expect(summary.torch?.kind).toBe(suffix === 'jit' ? 'torchscript' : 'state_dict');
      const expected = fedAvg(
        clients,
        CLIENTS.map((client) => readme.sizes[client]),
      );
      expect(maxDifference(rawTensors(bytes), expected)).toBeLessThan(1e-6);
      // The weights moved: a result equal to the global model would pass the byte check trivially.
      expect(maxDifference(rawTensors(global), expected)).toBeGreaterThan(1e-3);
      expectSameArchiveButStorages(bytes, global);
    });

    it('FedMedian equals the float64 coordinate-wise median within 1e-6', async () => {
      const { bytes } = await run('FedMedian', global, updates);
      expect(maxDifference(rawTensors(bytes), median(clients))).toBeLessThan(1e-6);
      expectSameArchiveButStorages(bytes, global);
    });

    it('the result is accepted as a global model and as an update of the global model', async () => {
      const { bytes } = await run('FedAvg', global, updates);
      const checked = await checkModel(bytesSource(bytes)());
      expect(checked.ok).toBe(true);
      const base = await checkModel(bytesSource(global)());
      if (!base.ok) {
        throw base.error;
      }
      expect((await checkUpdate(bytesSource(bytes)(), base.summary)).ok).toBe(true);
    });

    it("rewrites an update onto the global model's archive: its storages, the global model's everything else", () => {
      const rewritten = rewriteOntoGlobal(global, updates.b);
      expectSameArchiveButStorages(rewritten, global);
      expect(maxDifference(rawTensors(rewritten), clients[1] as Map<string, Float64Array>)).toBe(0);
    });
  });

  it("accepts client a's resaved train-mode TorchScript archive as its update, aggregating to the same bytes", async () => {
    const global = file(`${model}-global-r0.jit.pt`);
    const resaved = file(`${model}-client-a.resaved-train-mode.jit.pt`);
    const original = file(`${model}-client-a.jit.pt`);
    // It is no copy: its folder, serialization id, code or debug pickles differ.
    expect(Buffer.from(resaved).equals(Buffer.from(original))).toBe(false);
    const base = await checkModel(bytesSource(global)());
    if (!base.ok) {
      throw base.error;
    }
    const checked = await checkUpdate(bytesSource(resaved)(), base.summary);
    expect(checked.ok).toBe(true);
    const others = { b: file(`${model}-client-b.jit.pt`), c: file(`${model}-client-c.jit.pt`) };
    const withResaved = await run('FedAvg', global, { a: resaved, ...others });
    const withOriginal = await run('FedAvg', global, { a: original, ...others });
    expect(Buffer.from(withResaved.bytes).equals(Buffer.from(withOriginal.bytes))).toBe(true);
    // Stored rewritten, the two uploads are the same bytes.
    expect(
      Buffer.from(rewriteOntoGlobal(global, resaved)).equals(Buffer.from(rewriteOntoGlobal(global, original))),
    ).toBe(true);
  });
});

describe('PyTorch updates that do not fit the global model', () => {
  async function refusal(globalName: string, updateName: string): Promise<{ code: string; message: string }> {
    const base = await checkModel(bytesSource(file(globalName))());
    if (!base.ok) {
      throw base.error;
    }
    const result = await checkUpdate(bytesSource(file(updateName))(), base.summary);
    if (result.ok) {
      throw new Error(`${updateName} was accepted as an update of ${globalName}`);
    }
    return { code: result.error.code, message: result.error.message };
  }

  it('refuses a tensor of another shape, naming it', async () => {
    await expect(refusal('mlp-global-r0.state.pt', 'refused-update-wrong-shape.state.pt')).resolves.toEqual({
      code: 'model_manifest_mismatch',
      message: 'tensor "4.bias" has shape [11] where the global model has shape [10]',
    });
  });

  it('refuses an archive of the other kind', async () => {
    await expect(refusal('mlp-global-r0.state.pt', 'mlp-client-a.jit.pt')).resolves.toMatchObject({
      code: 'model_graph_mismatch',
      message: 'the update is a TorchScript archive, the global model a state dict archive',
    });
  });

  it("refuses another model's archive", async () => {
    const { code, message } = await refusal('mlp-global-r0.state.pt', 'cnn-client-a.state.pt');
    expect(code).toBe('model_manifest_mismatch');
    expect(message).toBe('the update has no tensor "1.weight"');
  });

  it('refuses an ONNX update of a PyTorch global model and a PyTorch update of an ONNX one', async () => {
    const onnxUpdate = await refusal('mlp-global-r0.jit.pt', '../mlp-client-a.onnx');
    expect(onnxUpdate.code).toBe('model_graph_mismatch');
    expect(onnxUpdate.message).toContain('the global model is a PyTorch TorchScript archive');
    const torchUpdate = await refusal('../mlp-global-r0.onnx', 'mlp-client-a.jit.pt');
    expect(torchUpdate.code).toBe('model_graph_mismatch');
    expect(torchUpdate.message).toContain('the global model is an ONNX model');
  });
});
