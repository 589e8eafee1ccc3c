import type { FloatTensor } from '../tensor';
import { inputError } from '../../errors';
import { decodeBase64, decodeBase64Bytes } from './base64';
import { decodeImage } from './image';
import { NO_MODEL_INPUT } from './input-error';
import { sniffFormat } from './input-format';
import { checkDims, DEFAULT_INPUT_LIMITS, type InputLimits } from './input-limits';
import { parseNumberList } from './json-number-list';
import { decodeNestedList } from './nested-list';
import { decodeNpy } from './npy';
import { decodeRawFloat32 } from './raw-float32';
import { decodeSafetensorsInput } from './safetensors-input';
import { parseShapeField } from './shape-field';

const QUOTE = 0x22;
const OPEN_BRACKET = 0x5b;
/** What a JSON string's text cannot hold as it is: an escape, a quote or a control character. */
// eslint-disable-next-line no-control-regex
const NOT_PLAIN_IN_STRING = /[\u0000-\u001f"\\]/;

/** Where the request carried `model_input`, with the request's `shape` field for the text forms. */
export type ModelInputSource =
  /** The JSON body's `model_input`: a nested list, or a string (a JSON list, or base64). */
  | { kind: 'json'; value: unknown; shape?: unknown }
  /** A multipart text field `model_input`: a JSON list, or base64. */
  | { kind: 'form'; value: string; shape?: unknown }
  /** A multipart file part `model_input`: .npy, safetensors, PNG or JPEG, told apart by content. */
  | { kind: 'file'; bytes: Uint8Array; filename?: string }
  /** The JSON body's `model_input` list as its UTF-8 text, parsed here rather than on the API thread. */
  | { kind: 'json-text'; bytes: Uint8Array; shape?: unknown }
  /** A nested list decoded already (and reshaped by its `shape`), on its way to the thread that runs it. */
  | { kind: 'tensor'; tensor: FloatTensor };

/** A decoded input: a tensor as sent, or an image as a `[1, 3, H, W]` RGB tensor of values 0..255. */
export type DecodedInput = { kind: 'tensor'; tensor: FloatTensor } | { kind: 'image'; tensor: FloatTensor };

/**
 * Decodes a request's `model_input` into a float32 tensor without touching the file system or unpickling anything.
 * Nested lists are read as given (reshaped if `shape` is sent); base64 text is read as little-endian float32 in
 * `shape` when `shape` is sent, and otherwise must be a PNG or JPEG image; file parts are recognised by content.
 * @throws 400 (`invalid_input`, `details.reason` naming the class of problem) saying what is wrong with the input.
 */
export function decodeModelInput(source: ModelInputSource, limits: InputLimits = DEFAULT_INPUT_LIMITS): DecodedInput {
  if (source.kind === 'file') {
    return decodeFile(source.bytes, source.filename, limits);
  }
  if (source.kind === 'tensor') {
    return { kind: 'tensor', tensor: source.tensor };
  }
  if (source.kind === 'json-text') {
    // A list of numbers read straight into float32; anything else (or wrong) as the body's JSON would be.
    const list = source.bytes[0] === OPEN_BRACKET ? parseNumberList(source.bytes, limits) : undefined;
    if (list) {
      return { kind: 'tensor', tensor: reshape(list, parseShapeField(source.shape), limits) };
    }
    // A string of base64 and nothing else, decoded from its bytes; any other string as the body's JSON would be.
    const n = source.bytes.length;
    const base64 =
      n > 2 && source.bytes[0] === QUOTE && source.bytes[n - 1] === QUOTE
        ? decodeBase64Bytes(source.bytes, 1, n - 1)
        : undefined;
    if (base64) {
      return decodeBinary(base64, parseShapeField(source.shape), limits);
    }
    return decodeModelInput({ kind: 'json', value: parseJsonText(source.bytes), shape: source.shape }, limits);
  }
  const shape = parseShapeField(source.shape);
  const { value } = source;
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw inputError('missing', NO_MODEL_INPUT);
  }
  if (typeof value === 'string') {
    return decodeText(value, shape, limits);
  }
  if (Array.isArray(value)) {
    return { kind: 'tensor', tensor: reshape(decodeNestedList(value, limits), shape, limits) };
  }
  throw inputError(
    'not_numeric',
    `Model input must be a nested list of numbers, a base64 string or a file; got ${value === true || value === false ? 'a boolean' : `a ${typeof value}`}.`,
  );
}

/**
 * The kept text of a list or string as koa-body would have parsed it in the body. A string's text between its quotes
 * is its value when it holds no escape and no control character (base64 never does); `JSON.parse` reads any other.
 * @throws 400 in koa-body's words when it is no JSON.
 */
function parseJsonText(bytes: Uint8Array): unknown {
  const n = bytes.length;
  if (n >= 2 && bytes[0] === QUOTE && bytes[n - 1] === QUOTE) {
    const inner = Buffer.from(bytes.buffer, bytes.byteOffset + 1, n - 2).toString('utf8');
    if (!NOT_PLAIN_IN_STRING.test(inner)) {
      return inner;
    }
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (err) {
    throw inputError('bad_json', `JSON parse error - ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decodeText(text: string, shape: number[] | undefined, limits: InputLimits): DecodedInput {
  // "[" is not in the base64 alphabet, so a JSON list cannot be mistaken for base64.
  if (text.trimStart().startsWith('[')) {
    return { kind: 'tensor', tensor: reshape(decodeNestedList(parseJsonList(text), limits), shape, limits) };
  }
  return decodeBinary(decodeBase64(text), shape, limits);
}

/** Decoded base64: little-endian float32 in `shape` when it is sent, else a PNG or JPEG image. */
function decodeBinary(bytes: Uint8Array, shape: number[] | undefined, limits: InputLimits): DecodedInput {
  if (shape !== undefined) {
    return { kind: 'tensor', tensor: decodeRawFloat32(bytes, shape, limits) };
  }
  const format = sniffFormat(bytes);
  if (format === 'png' || format === 'jpeg') {
    return { kind: 'image', tensor: decodeImage(bytes, format, limits) };
  }
  throw inputError(
    'shape_required',
    "Model input is base64 but not a PNG or JPEG image: send its dimensions in the 'shape' field to read it as little-endian float32.",
  );
}

function decodeFile(bytes: Uint8Array, filename: string | undefined, limits: InputLimits): DecodedInput {
  if (bytes.length === 0) {
    throw inputError('missing', NO_MODEL_INPUT);
  }
  const format = sniffFormat(bytes);
  switch (format) {
    case 'png':
    case 'jpeg':
      return { kind: 'image', tensor: decodeImage(bytes, format, limits) };
    case 'npy':
      return { kind: 'tensor', tensor: decodeNpy(bytes, limits) };
    case 'safetensors':
      return { kind: 'tensor', tensor: decodeSafetensorsInput(bytes, limits) };
    case 'unknown':
      throw inputError(
        'unknown_format',
        `Model input file${filename === undefined ? '' : ` ${JSON.stringify(filename)}`} is not a .npy, safetensors, PNG or JPEG file (recognised by its content, not its name).`,
      );
  }
}

function parseJsonList(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw inputError('bad_json', `Model input looks like a JSON list but is not valid JSON: ${String(err)}.`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw inputError('missing', NO_MODEL_INPUT);
  }
  return parsed;
}

/** Gives nested-list values the dimensions of the `shape` field, which must hold the same number of elements. */
function reshape(tensor: FloatTensor, shape: number[] | undefined, limits: InputLimits): FloatTensor {
  if (shape === undefined) {
    return tensor;
  }
  const elements = checkDims(shape, limits);
  if (elements !== tensor.data.length) {
    throw inputError(
      'bad_shape',
      `Model input has ${tensor.data.length} numbers (shape [${tensor.dims.join(', ')}]), but shape [${shape.join(', ')}] needs ${elements}.`,
    );
  }
  return { dims: shape, data: tensor.data };
}
