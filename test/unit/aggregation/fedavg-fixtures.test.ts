import { decodeReference, decodeReferenceFile } from './helpers/reference-onnx';
import { readReferenceSafetensors } from './helpers/reference-safetensors';
import { CLIENTS, fixture, FIXTURE_FACTS, mnistBatch, normalizedInput } from './helpers/fixtures';
import { aggregateFixtures, maxAbsDiff } from './helpers/engine';
import { runLogits } from './helpers/onnx-runtime';
import { mlpForward, weightedMean } from './helpers/reference-math';

const mlpClients = CLIENTS.map((client) => ({
  sampleSize: client.sampleSize,
  tensors: readReferenceSafetensors(fixture(`mlp-client-${client.id}.safetensors`)),
}));

describe('FedAvg of the PyTorch MNIST fixtures', () => {
  it('when the MLP safetensors and ONNX exports are read independently, they hold the same weights', () => {
    for (const client of CLIENTS) {
      const onnx = decodeReferenceFile(fixture(`mlp-client-${client.id}.onnx`));
      const safetensors = readReferenceSafetensors(fixture(`mlp-client-${client.id}.safetensors`));
      expect([...onnx.keys()]).toEqual(FIXTURE_FACTS.mlp.state_keys);
      for (const [name, tensor] of onnx) {
        expect(maxAbsDiff(tensor.values, safetensors.get(name)?.values ?? [])).toBe(0);
      }
    }
  });

  it('when the three MLP clients are averaged, every weight is the float64 weighted mean to 1e-6', async () => {
    const result = decodeReference(await aggregateFixtures('mlp'));
    const expected = weightedMean(mlpClients);
    expect([...result.keys()]).toEqual(FIXTURE_FACTS.mlp.state_keys);
    let count = 0;
    for (const [name, mean] of expected) {
      const got = result.get(name);
      expect(got?.dims).toEqual(mlpClients[0]?.tensors.get(name)?.dims);
      expect(maxAbsDiff(got?.values ?? [], mean)).toBeLessThan(1e-6);
      count += mean.length;
    }
    expect(count).toBe(FIXTURE_FACTS.mlp.param_count);
  });

  it('when the three CNN clients are averaged, every weight is the float64 weighted mean to 1e-6', async () => {
    const clients = CLIENTS.map((client) => ({
      sampleSize: client.sampleSize,
      tensors: decodeReferenceFile(fixture(`cnn-client-${client.id}.onnx`)),
    }));
    const result = decodeReference(await aggregateFixtures('cnn'));
    const expected = weightedMean(clients);
    expect([...result.keys()]).toEqual(FIXTURE_FACTS.cnn.state_keys);
    let count = 0;
    for (const [name, mean] of expected) {
      expect(maxAbsDiff(result.get(name)?.values ?? [], mean)).toBeLessThan(1e-6);
      count += mean.length;
    }
    expect(count).toBe(FIXTURE_FACTS.cnn.param_count);
  });

  it('when the averaged MLP runs in onnxruntime, its logits match a float64 forward pass of the mean weights', async () => {
    const model = await aggregateFixtures('mlp');
    const logits = await runLogits(model);
    const mean = weightedMean(mlpClients);
    const expected = mlpForward(mean, normalizedInput(), 16);
    expect(maxAbsDiff(logits.flat(), expected.flat())).toBeLessThan(1e-4);
    // One round of FedAvg learns something: the averaged model beats the random initial one on these digits.
    const initial = mlpForward(
      new Map([...decodeReferenceFile(fixture('mlp-global-r0.onnx'))].map(([name, t]) => [name, t.values])),
      normalizedInput(),
      16,
    );
    expect(accuracy(expected)).toBeGreaterThan(accuracy(initial));
  });
});

function accuracy(logits: number[][]): number {
  const { labels } = mnistBatch();
  const hits = logits.filter((row, n) => row.indexOf(Math.max(...row)) === labels[n]).length;
  return hits / logits.length;
}
