/**
 * Reusable output arrays for `readFloatValues`, so a fold over many updates does not leave one garbage array per
 * tensor per update for the collector. Values read into it are valid until the next read.
 */
export class FloatScratch {
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);

  /** A Float32Array of exactly `length` elements over the shared buffer. */
  float32(length: number): Float32Array {
    if (this.f32.length < length) {
      this.f32 = new Float32Array(length);
    }
    return this.f32.subarray(0, length);
  }

  /** A Float64Array of exactly `length` elements over the shared buffer. */
  float64(length: number): Float64Array {
    if (this.f64.length < length) {
      this.f64 = new Float64Array(length);
    }
    return this.f64.subarray(0, length);
  }
}
