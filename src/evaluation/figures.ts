/**
 * What the server's evaluation of a global model computes over a dataset (docs/training.md#server-evaluation): for
 * integer class labels, the mean cross-entropy of the logits (log-softmax in float64) and the accuracy; for real
 * targets, the mean squared error over every output. Batches are folded in one by one, so memory stays one batch.
 */
export type TargetKind = 'classes' | 'values';

/** The running sums of one evaluation. */
export class EvaluationSums {
  private lossSum = 0;
  private correct = 0;
  private rows = 0;
  private values = 0;

  constructor(readonly kind: TargetKind) {}

  /**
   * Folds one batch in: `outputs` holds `rows` rows of `width` values (logits, or predictions), `targets` the rows'
   * labels (one per row) or target values (`width` per row).
   * @throws RangeError when a label is not an integer in [0, width) or the sizes disagree.
   */
  add(outputs: ArrayLike<number>, width: number, targets: ArrayLike<number>): void {
    const rows = outputs.length / width;
    if (!Number.isInteger(rows) || width < 1) {
      throw new RangeError(`The model's output has ${outputs.length} values, not a multiple of ${width}.`);
    }
    if (this.kind === 'classes') {
      this.addClasses(outputs, width, rows, targets);
    } else {
      this.addValues(outputs, width, rows, targets);
    }
    this.rows += rows;
  }

  /** The figures so far: `loss`, and `accuracy` for class labels. */
  figures(): Record<string, number> {
    if (this.rows === 0) {
      throw new RangeError('No rows were evaluated.');
    }
    return this.kind === 'classes'
      ? { loss: this.lossSum / this.rows, accuracy: this.correct / this.rows }
      : { loss: this.lossSum / this.values };
  }

  private addClasses(outputs: ArrayLike<number>, width: number, rows: number, labels: ArrayLike<number>): void {
    if (labels.length !== rows) {
      throw new RangeError(`${labels.length} labels for ${rows} rows: class labels are one value per row.`);
    }
    for (let row = 0; row < rows; row++) {
      const label = labels[row] ?? -1;
      if (!Number.isInteger(label) || label < 0 || label >= width) {
        throw new RangeError(`Label ${label} of a row is not a class of the model's ${width} outputs.`);
      }
      const offset = row * width;
      let max = -Infinity;
      let best = 0;
      for (let k = 0; k < width; k++) {
        const value = outputs[offset + k] ?? 0;
        if (value > max) {
          max = value;
          best = k;
        }
      }
      let sum = 0;
      for (let k = 0; k < width; k++) {
        sum += Math.exp((outputs[offset + k] ?? 0) - max);
      }
      // -log softmax(label) = log(sum exp(z - max)) - (z_label - max)
      this.lossSum += Math.log(sum) - ((outputs[offset + label] ?? 0) - max);
      if (best === label) {
        this.correct += 1;
      }
    }
  }

  private addValues(outputs: ArrayLike<number>, width: number, rows: number, targets: ArrayLike<number>): void {
    if (targets.length !== rows * width) {
      throw new RangeError(`${targets.length} target values for ${rows} rows of ${width} outputs.`);
    }
    for (let i = 0; i < targets.length; i++) {
      const diff = (outputs[i] ?? 0) - (targets[i] ?? 0);
      this.lossSum += diff * diff;
    }
    this.values += targets.length;
  }
}

/** Integer dtypes, as numpy (`int64`) or safetensors (`I64`) name them. */
const INTEGER_DTYPE = /^(u?int(8|16|32|64)|[IU](8|16|32|64))$/;

/** Integer dtypes hold class labels; float dtypes hold real targets. */
export function targetKind(dtype: string): TargetKind {
  return INTEGER_DTYPE.test(dtype) ? 'classes' : 'values';
}
