/** @jest-environment ./test/support/onnx-runtime-environment.ts */
import { readFileSync } from 'node:fs';
import { Reader, Writer } from 'protobufjs/minimal';
import { dropoutNodes, withDropoutTraining } from '../../../src/inference/dropout';
import { fixture } from '../aggregation/helpers/fixtures';
import { maxAbsDiff, runModelBytes } from './helpers/ort-run';

const MC_DROPOUT = { graphOptimizationLevel: 'disabled' } as const;
const mcModel = readFileSync(fixture('mlp-mcdropout.onnx'));

describe('dropoutNodes', () => {
  it('when the model was exported in training mode, it reports its Dropout as training', () => {
    expect(dropoutNodes(mcModel)).toEqual([{ index: 5, name: '/3/Dropout', training: true }]);
  });

  it('when the model has no Dropout, it reports none', () => {
    expect(dropoutNodes(readFileSync(fixture('mlp-global-r0.onnx')))).toEqual([]);
    expect(dropoutNodes(readFileSync(fixture('cnn-global-r0.onnx')))).toEqual([]);
  });
});

describe('withDropoutTraining', () => {
  it('when training stays on and optimization is off, two runs differ', async () => {
    const [first, second] = await runModelBytes(withDropoutTraining(mcModel, true), 2, MC_DROPOUT);
    expect(maxAbsDiff(first ?? [], second ?? [])).toBeGreaterThan(1e-3);
  });

  it("when asked, it leaves the caller's bytes alone", () => {
    const copy = Buffer.from(mcModel);
    withDropoutTraining(copy, false);
    expect(Buffer.compare(copy, mcModel)).toBe(0);
  });

  it('when training is turned off, only the one flag byte changes and runs equal the eval-mode MLP', async () => {
    const evalModel = withDropoutTraining(mcModel, false);
    expect(evalModel.length).toBe(mcModel.length);
    expect(differingBytes(evalModel, mcModel)).toBe(1);
    expect(dropoutNodes(evalModel)).toEqual([{ index: 5, name: '/3/Dropout', training: false }]);
    const [first, second] = await runModelBytes(evalModel, 2, MC_DROPOUT);
    const [plain] = await runModelBytes(readFileSync(fixture('mlp-global-r0.onnx')));
    expect(maxAbsDiff(first ?? [], second ?? [])).toBe(0);
    expect(maxAbsDiff(first ?? [], plain ?? [])).toBeLessThan(1e-5);
  });

  it('when training is turned back on, the model is byte for byte the training export', () => {
    expect(Buffer.compare(withDropoutTraining(withDropoutTraining(mcModel, false), true), mcModel)).toBe(0);
  });

  it('when the Dropout has no training_mode input, training adds a Constant true and the runs become stochastic', async () => {
    const withoutInput = removeTrainingInput();
    expect(dropoutNodes(withoutInput)).toEqual([{ index: 5, name: '/3/Dropout', training: false }]);
    const training = withDropoutTraining(withoutInput, true);
    expect(dropoutNodes(training)).toEqual([{ index: 6, name: '/3/Dropout', training: true }]);
    const [first, second] = await runModelBytes(training, 2, MC_DROPOUT);
    expect(maxAbsDiff(first ?? [], second ?? [])).toBeGreaterThan(1e-3);
  });
});

/**
 * The fixture with its Dropout's third input field removed (ORT then defaults training_mode to false), edited here
 * with protobufjs directly: each field is copied as is except that one, and the two enclosing lengths are rewritten.
 */
function removeTrainingInput(): Uint8Array {
  const isFlag = (field: Uint8Array): boolean => Buffer.from(field).includes('Constant_1');
  return editFields(mcModel, 7, (graph) =>
    editFields(graph, 1, (node) => (Buffer.from(node).includes('Dropout') ? dropFields(node, isFlag) : node)),
  );
}

/** The message with every length-delimited field `field` replaced by `edit(value)`. */
function editFields(message: Uint8Array, field: number, edit: (value: Uint8Array) => Uint8Array): Uint8Array {
  const pieces: Uint8Array[] = [];
  const reader = Reader.create(message);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if (tag === ((field << 3) | 2)) {
      const value = reader.bytes();
      pieces.push(Writer.create().uint32(tag).bytes(edit(value)).finish());
    } else {
      reader.skipType(tag & 7);
      pieces.push(message.subarray(start, reader.pos));
    }
  }
  return Buffer.concat(pieces);
}

/** The message without the fields for which `drop(fieldBytes)` holds. */
function dropFields(message: Uint8Array, drop: (bytes: Uint8Array) => boolean): Uint8Array {
  const pieces: Uint8Array[] = [];
  const reader = Reader.create(message);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    reader.skipType(reader.uint32() & 7);
    const bytes = message.subarray(start, reader.pos);
    if (!drop(bytes)) {
      pieces.push(bytes);
    }
  }
  return Buffer.concat(pieces);
}

function differingBytes(a: Uint8Array, b: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    count += a[i] === b[i] ? 0 : 1;
  }
  return count;
}
