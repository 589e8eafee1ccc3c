import { checkDatasetTensors, datasetFileParts } from '../../../src/datasets/dataset-tensors';
import { datasetFromNpy, datasetFromSafetensors } from '../../../src/datasets/dataset-files';
import { openDataset } from '../../../src/datasets/reader';
import { npyFile, safetensorsFile, smallDataset } from '../../fixtures/datasets';
import { bytesOf, npy, refusal } from '../inference/helpers/inputs';
import { MemoryBlobs } from './helpers/memory-blobs';

/** Parses, checks and stores an upload, then opens it as the points route and the evaluation do. */
async function storeAndOpen(tensors: ReturnType<typeof datasetFromSafetensors>) {
  checkDatasetTensors(tensors);
  const blobs = new MemoryBlobs();
  const { digest } = await blobs.put(Buffer.concat(datasetFileParts(tensors)));
  return { blobs, reader: await openDataset(blobs, digest) };
}

function checkedSafetensors(file: Uint8Array): void {
  checkDatasetTensors(datasetFromSafetensors(file));
}

describe('dataset files', () => {
  it('when a safetensors file holds x and y, they are stored as uploaded and read back row by row', async () => {
    const { x, y } = smallDataset(5);
    const { reader } = await storeAndOpen(datasetFromSafetensors(safetensorsFile({ y, x })));
    expect(reader.rows).toBe(5);
    expect(reader.x).toEqual({ dtype: 'float32', rowShape: [2, 3] });
    expect(reader.y).toEqual({ dtype: 'int64', rowShape: [] });
    expect(Array.from(await reader.readRows('x', 1, 2))).toEqual(Array.from({ length: 12 }, (_, i) => (i + 6) / 8));
    expect(Array.from(await reader.readRows('y', 3, 2))).toEqual([3, 4]);
    expect(await reader.readRows('y', 5, 0)).toHaveLength(0);
  });

  it('when x and y come as .npy files, big-endian and Fortran-ordered ones are stored little-endian row-major', async () => {
    // x is [[1, 2, 3], [4, 5, 6]] as int16, written column-major and big-endian: 1 4 2 5 3 6.
    const column = Buffer.alloc(12);
    [1, 4, 2, 5, 3, 6].forEach((v, i) => column.writeInt16BE(v, i * 2));
    const x = npy('>i2', [2, 3], column, { fortranOrder: true });
    const y = npyFile('<f8', [2, 2], Float64Array.from([0.5, -1, 2.25, 1e300]));
    const { reader } = await storeAndOpen(datasetFromNpy(x, y));
    expect(reader.x).toEqual({ dtype: 'int16', rowShape: [3] });
    expect(Array.from(await reader.readRows('x', 0, 2))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await reader.readRows('y', 1, 1))).toEqual([2.25, 1e300]);
  });

  it('when int64 and float16 values are read, they are exact in float64 (int64 below 2^53)', async () => {
    const big = [2n ** 53n - 1n, -(2n ** 40n), 7n];
    const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
    const file = safetensorsFile({
      x: { dtype: 'F16', shape: [3], values: half },
      y: { dtype: 'I64', shape: [3, 1], values: BigInt64Array.from(big) },
    });
    const { reader } = await storeAndOpen(datasetFromSafetensors(file));
    expect(Array.from(await reader.readRows('x', 0, 3))).toEqual([1, -2, 65504]);
    expect(Array.from(await reader.readRows('y', 0, 3))).toEqual(big.map(Number));
  });

  it('when rows are read as float32 for a model, float32 data comes as stored and other dtypes are cast', async () => {
    const { x, y } = smallDataset(5);
    const { reader } = await storeAndOpen(datasetFromSafetensors(safetensorsFile({ y, x })));
    const rows = await reader.readRowsFloat32('x', 1, 2);
    expect(rows).toBeInstanceOf(Float32Array);
    expect(Array.from(rows)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 6) / 8));
    expect(Array.from(await reader.readRowsFloat32('y', 3, 2))).toEqual([3, 4]);
    await expect(reader.readRowsFloat32('x', 4, 2)).rejects.toThrow(RangeError);
  });

  it('when a page is read, only its rows are read from the blob, after the 8-byte length and the header', async () => {
    const { x, y } = smallDataset(100);
    const { blobs, reader } = await storeAndOpen(datasetFromSafetensors(safetensorsFile({ x, y })));
    blobs.ranges.length = 0;
    await reader.readRows('x', 40, 10);
    expect(blobs.ranges).toEqual([{ start: expect.any(Number) as number, length: 10 * 6 * 4 }]);
  });

  it('when rows beyond the dataset are asked for, readRows throws a RangeError', async () => {
    const { reader } = await storeAndOpen(datasetFromSafetensors(safetensorsFile(smallDataset(3))));
    await expect(reader.readRows('x', 2, 2)).rejects.toThrow(RangeError);
    await expect(reader.readRows('y', -1, 1)).rejects.toThrow(RangeError);
  });

  it('when the blob is absent, openDataset answers not_found', async () => {
    await expect(openDataset(new MemoryBlobs(), 'a'.repeat(64))).rejects.toMatchObject({ code: 'not_found' });
  });

  const { x, y } = smallDataset(4);
  it.each([
    [
      'x and y of different row counts',
      { x, y: { ...y, shape: [3], values: new BigInt64Array(3) } },
      'dataset_rows',
      'x has 4 rows but y has 3',
    ],
    [
      'no rows',
      {
        x: { ...x, shape: [0, 2, 3], values: new Float32Array(0) },
        y: { ...y, shape: [0], values: new BigInt64Array(0) },
      },
      'dataset_rows',
      'no rows',
    ],
    [
      'NaN in x',
      { x: { ...x, values: Float32Array.from({ length: 24 }, (_, i) => (i === 13 ? NaN : i)) }, y },
      'dataset_not_finite',
      'x holds NaN in row 2 (element 13)',
    ],
    [
      'Infinity in a float16 y',
      { x, y: { dtype: 'F16', shape: [4], values: Uint16Array.from([0, 0, 0x7c00, 0]) } },
      'dataset_not_finite',
      'y holds Infinity in row 2',
    ],
    [
      'a BOOL x',
      { x: { dtype: 'BOOL', shape: [4], values: new Uint8Array(4) }, y },
      'dataset_dtype',
      'x has dtype BOOL; supported are float16, float32',
    ],
    [
      'a 3-D y',
      { x, y: { dtype: 'U8', shape: [4, 1, 1], values: new Uint8Array(4) } },
      'dataset_shape',
      'y has shape [4, 1, 1]',
    ],
    [
      'an empty inner dimension',
      { x: { ...x, shape: [4, 0], values: new Float32Array(0) }, y },
      'dataset_shape',
      'only the first dimension may be 0',
    ],
    ['a tensor beside x and y', { x, y, z: y }, 'dataset_malformed', 'holds the tensors "x", "y", "z"'],
    ['no y', { x }, 'dataset_malformed', '(missing: y)'],
  ])('when a safetensors file has %s, it is refused with 400 and a clear reason', (_, tensors, reason, text) => {
    const result = refusal(() => checkedSafetensors(safetensorsFile(tensors)));
    expect(result).toMatchObject({ status: 400, reason });
    expect(result).toMatchObject({ message: expect.stringContaining(text) as string });
  });

  it('when the safetensors file does not parse, it is refused as malformed', () => {
    const result = refusal(() => checkedSafetensors(Buffer.from('not a safetensors file at all')));
    expect(result).toMatchObject({ status: 400, reason: 'dataset_malformed' });
    expect(result).toMatchObject({
      message: expect.stringContaining("File 'file' is not a valid safetensors file") as string,
    });
  });

  it.each([
    [
      'an unsigned 16-bit x',
      npyFile('<u2', [2], new Uint16Array(2)),
      'dataset_dtype',
      'x has dtype <u2; supported are',
    ],
    [
      'a complex x',
      npy('<c8', [2], new Uint8Array(16)),
      'npy_dtype',
      'Dataset file \'x\' .npy has dtype "<c8"; supported are float16',
    ],
    [
      'a truncated x',
      npy('<f4', [4], bytesOf(new Float32Array(3))),
      'npy_malformed',
      "Dataset file 'x' is not a valid .npy file",
    ],
    ['an x that is no .npy at all', Buffer.from('hello'), 'npy_malformed', 'magic bytes'],
  ])('when the .npy files have %s, they are refused with 400', (_, xFile, reason, text) => {
    const yFile = npyFile('<i8', [2], new BigInt64Array(2));
    const result = refusal(() => checkDatasetTensors(datasetFromNpy(xFile, yFile)));
    expect(result).toMatchObject({ status: 400, reason });
    expect(result).toMatchObject({ message: expect.stringContaining(text) as string });
  });
});
