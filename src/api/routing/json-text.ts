import { JSON_BYTES, skipJsonSpace } from '../../inference/input/json-bytes';

/**
 * A JSON list or string left as its UTF-8 text (a string with its quotes): a field that may hold megabytes of numbers
 * or base64 (an inference's `model_input`) is parsed by the thread that uses it, not by the API thread, whose every
 * millisecond delays every other request.
 */
export class JsonText {
  constructor(readonly bytes: Uint8Array) {}
}

const {
  quote: QUOTE,
  backslash: BACKSLASH,
  comma: COMMA,
  colon: COLON,
  openBrace: OPEN_BRACE,
  closeBrace: CLOSE_BRACE,
  openBracket: OPEN_BRACKET,
  closeBracket: CLOSE_BRACKET,
} = JSON_BYTES;

/**
 * A JSON object body's fields, each parsed as `JSON.parse` would, except the values of `textFields` that are lists or
 * strings without escapes: those stay text (`JsonText`), found by a scan that only counts brackets and skips strings
 * (a string is crossed natively to its quote). Undefined for anything else or anything unusual (not an object, a
 * malformed body, a key or value naming `__proto__` or `constructor`, an object inside such a list): the caller then
 * parses the body the usual way, which refuses it or reads it in the usual words. A text is a copy, so that moving
 * it to another thread moves no more than the text; when the caller owns `bytes`' memory alone (`owned`), the first
 * text is a view into it instead: moving it moves the body, which holds little else, and spares copying megabytes
 * (and allocating them, which under load sets off the garbage collector's pauses for external memory).
 */
export function splitJsonObject(
  bytes: Uint8Array,
  textFields: ReadonlySet<string>,
  owned = false,
): Record<string, unknown> | undefined {
  const text = (start: number, end: number): string =>
    Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
  const n = bytes.length;
  const fields = new Map<string, unknown>();
  let viewed = false;
  let i = skipJsonSpace(bytes, 0);
  if (bytes[i] !== OPEN_BRACE) {
    return undefined;
  }
  i = skipJsonSpace(bytes, i + 1);
  if (bytes[i] === CLOSE_BRACE) {
    return undefined;
  }
  for (;;) {
    if (bytes[i] !== QUOTE) {
      return undefined;
    }
    const keyEnd = skipString(bytes, i);
    if (keyEnd < 0) {
      return undefined;
    }
    const key = parse(text(i, keyEnd));
    if (typeof key !== 'string' || key === '__proto__' || key === 'constructor') {
      return undefined;
    }
    i = skipJsonSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) {
      return undefined;
    }
    const start = skipJsonSpace(bytes, i + 1);
    const kept = textFields.has(key);
    // A list kept as text must hold no object (the thread's parser takes only lists and scalars).
    const end = kept && bytes[start] === OPEN_BRACKET ? skipList(bytes, start) : skipValue(bytes, start);
    if (end < 0) {
      return undefined;
    }
    // A string is kept only when not empty and without escapes: its text between the quotes is then its value.
    const asText =
      kept &&
      (bytes[start] === OPEN_BRACKET ||
        (bytes[start] === QUOTE && end - start > 2 && bytes.subarray(start, end).indexOf(BACKSLASH) < 0));
    if (asText) {
      // It is moved to a thread: a copy of its own (a Buffer's slice would share the body's memory, maybe Node's pool),
      // or a view when the body's memory is its own (and no other text views it).
      const view: boolean = owned && !viewed;
      viewed ||= view;
      fields.set(key, new JsonText(view ? bytes.subarray(start, end) : new Uint8Array(bytes.subarray(start, end))));
    } else {
      const value = text(start, end);
      if (value.includes('__proto__') || value.includes('constructor')) {
        return undefined;
      }
      const parsed = parse(value);
      if (parsed === FAILED) {
        return undefined;
      }
      fields.set(key, parsed);
    }
    i = skipJsonSpace(bytes, end);
    if (bytes[i] === COMMA) {
      i = skipJsonSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] !== CLOSE_BRACE) {
      return undefined;
    }
    return skipJsonSpace(bytes, i + 1) === n ? Object.fromEntries(fields) : undefined;
  }
}

const FAILED = Symbol('failed');

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return FAILED;
  }
}

/** The index after the string starting at `from` (its opening quote); -1 when it never closes. */
function skipString(bytes: Uint8Array, from: number): number {
  const n = bytes.length;
  let i = from + 1;
  while (i < n) {
    // Natively to the next quote: it closes the string unless an escape comes before it (base64 has none).
    const quote = bytes.indexOf(QUOTE, i);
    if (quote < 0) {
      return -1;
    }
    // Searched only up to the quote, so that every byte is looked at once however many strings there are.
    const escape = bytes.subarray(i, quote).indexOf(BACKSLASH);
    if (escape < 0) {
      return quote + 1;
    }
    i += escape + 2;
  }
  return -1;
}

/**
 * The index after the list starting at `from` (its opening bracket); -1 when it does not end or holds an object. A
 * list of numbers is crossed by jumps from bracket to bracket (`indexOf` searches natively, many times faster than a
 * loop over every byte); then, if the list held no string whose brackets could have been counted, the jumps were
 * exact. A list with a string is scanned byte by byte.
 */
function skipList(bytes: Uint8Array, from: number): number {
  let depth = 0;
  let i = from;
  let nextOpen = bytes.indexOf(OPEN_BRACKET, i);
  let nextClose = bytes.indexOf(CLOSE_BRACKET, i);
  for (;;) {
    if (nextClose < 0) {
      return -1;
    }
    if (nextOpen >= 0 && nextOpen < nextClose) {
      depth += 1;
      i = nextOpen + 1;
      nextOpen = bytes.indexOf(OPEN_BRACKET, i);
    } else {
      depth -= 1;
      i = nextClose + 1;
      if (depth === 0) {
        break;
      }
      nextClose = bytes.indexOf(CLOSE_BRACKET, i);
    }
  }
  const list = bytes.subarray(from, i);
  if (list.includes(QUOTE)) {
    return skipValue(bytes, from, true);
  }
  return list.includes(OPEN_BRACE) ? -1 : i;
}

/**
 * The index after the value starting at `from`: a string, a list or object (brackets counted, strings skipped), or
 * a number or literal (up to the next delimiter). -1 when it does not end, or holds an object and `noObjects` is set.
 * Only where it ends is checked here.
 */
function skipValue(bytes: Uint8Array, from: number, noObjects = false): number {
  const n = bytes.length;
  const first = bytes[from];
  if (first === QUOTE) {
    return skipString(bytes, from);
  }
  if (first === OPEN_BRACKET || first === OPEN_BRACE) {
    let depth = 0;
    let i = from;
    while (i < n) {
      const c = bytes[i];
      if (c === QUOTE) {
        i = skipString(bytes, i);
        if (i < 0) {
          return -1;
        }
        continue;
      }
      if (c === OPEN_BRACE && noObjects) {
        return -1;
      }
      if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        depth += 1;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
        depth -= 1;
        if (depth === 0) {
          return i + 1;
        }
      }
      i += 1;
    }
    return -1;
  }
  let i = from;
  while (i < n) {
    const c = bytes[i];
    if (
      c === COMMA ||
      c === CLOSE_BRACE ||
      c === CLOSE_BRACKET ||
      c === 0x20 ||
      c === 0x0a ||
      c === 0x0d ||
      c === 0x09
    ) {
      break;
    }
    i += 1;
  }
  return i === from ? -1 : i;
}
