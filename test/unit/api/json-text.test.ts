import { JsonText, splitJsonObject } from '../../../src/api/routing/json-text';

const LISTS = new Set(['model_input']);

function split(text: string): Record<string, unknown> | undefined {
  return splitJsonObject(Buffer.from(text, 'utf8'), LISTS);
}

function listText(value: unknown): string {
  expect(value).toBeInstanceOf(JsonText);
  return Buffer.from((value as JsonText).bytes).toString('utf8');
}

describe('splitJsonObject', () => {
  it('leaves a list field as its exact text and parses every other field as JSON.parse does', () => {
    const body = ` {"model_id" : "4f1c", "model_input":[[1, 2.5e-3], [-3, 4]] ,\n"options":{"uncertainty":{"N":3}},
      "shape": [2, 2], "note": "a ] bracket, a \\" quote and a [ in text", "flag": true, "none": null, "n": -1.5 } `;
    const fields = split(body);
    expect(fields).toBeDefined();
    expect(listText(fields?.model_input)).toBe('[[1, 2.5e-3], [-3, 4]]');
    const { model_input: _list, ...rest } = fields ?? {};
    const { model_input: _parsed, ...expected } = JSON.parse(body) as Record<string, unknown>;
    expect(rest).toEqual(expected);
    // Its list text parses to what the whole body held.
    expect(JSON.parse(listText(fields?.model_input))).toEqual([
      [1, 2.5e-3],
      [-3, 4],
    ]);
  });

  it('parses a field that is neither list nor string, and a list field not named as it is', () => {
    const fields = split('{"model_input": 12.5, "shape": [1], "other": [1, 2]}');
    expect(fields).toEqual({ model_input: 12.5, shape: [1], other: [1, 2] });
  });

  it('leaves a string field as its text with its quotes, unless it is empty or holds an escape', () => {
    const fields = split('{"model_input": "AAAA+/8=", "shape": [1], "other": "BBBB"}');
    expect(listText(fields?.model_input)).toBe('"AAAA+/8="');
    expect(fields?.other).toBe('BBBB');
    expect(split('{"model_input": ""}')).toEqual({ model_input: '' });
    expect(split(String.raw`{"model_input": "AA\/A", "n": 1}`)).toEqual({ model_input: 'AA/A', n: 1 });
  });

  it.each([
    ['a string with brackets inside the list', '{"model_input": [["a]", "[b"], [1]], "n": 1}', '[["a]", "[b"], [1]]'],
    ['a string with brackets after the list', '{"model_input": [[1, 2], [3]], "name": "]] [["}', '[[1, 2], [3]]'],
    ['deep nesting', '{"model_input": [[[[0]]], [[[1]]]]}', '[[[[0]]], [[[1]]]]'],
    [
      'escaped backslashes and quotes around it',
      String.raw`{"a": "x\\", "b": "\"]\\\"", "model_input": [["\\"], [2]], "c": "\\\\"}`,
      String.raw`[["\\"], [2]]`,
    ],
  ])('finds where a list ends with %s', (_, body, list) => {
    const fields = split(body);
    expect(listText(fields?.model_input)).toBe(list);
    const { model_input: _list, ...rest } = fields ?? {};
    const { model_input: _parsed, ...expected } = JSON.parse(body) as Record<string, unknown>;
    expect(rest).toEqual(expected);
  });

  it('keeps the last of a repeated key, as JSON.parse does', () => {
    const fields = split('{"model_input": [1], "model_input": [2, 3]}');
    expect(listText(fields?.model_input)).toBe('[2, 3]');
  });

  it('copies the list out of the body, so moving it to another thread moves no more than the list', () => {
    const bytes = Buffer.from('{"model_input": [1, 2]}');
    const list = splitJsonObject(bytes, LISTS)?.model_input as JsonText;
    expect(list.bytes.byteLength).toBe(6);
    expect(list.bytes.buffer.byteLength).toBe(6);
  });

  it('when the body owns its memory, the first list is a view into it and any later one a copy', () => {
    const owned = new Uint8Array(Buffer.from('{"model_input": [1, 2]}'));
    const view = splitJsonObject(owned, LISTS, true)?.model_input as JsonText;
    expect(Buffer.from(view.bytes).toString()).toBe('[1, 2]');
    expect(view.bytes.buffer).toBe(owned.buffer);
    // The last of a repeated key is kept, as JSON.parse does: a copy, so that moving one never detaches the other.
    const repeated = new Uint8Array(Buffer.from('{"model_input": [1, 2], "model_input": [3]}'));
    const last = splitJsonObject(repeated, LISTS, true)?.model_input as JsonText;
    expect(Buffer.from(last.bytes).toString()).toBe('[3]');
    expect(last.bytes.buffer.byteLength).toBe(3);
  });

  it.each([
    ['an empty object', '{}'],
    ['a list body', '[1, 2]'],
    ['a string body', '"model_input"'],
    ['a missing colon', '{"model_input" [1]}'],
    ['a missing comma', '{"a": 1 "model_input": [1]}'],
    ['trailing text', '{"model_input": [1]} x'],
    ['an unclosed list', '{"model_input": [[1, 2]'],
    ['an unclosed list before a string with a bracket', '{"model_input": [[1, 2], "a": "]"}'],
    ['an unclosed string', '{"model_input": [1], "a": "b}'],
    ['a malformed value', '{"a": tru, "model_input": [1]}'],
    ['a __proto__ key', '{"__proto__": {"x": 1}, "model_input": [1]}'],
    ['a constructor key', '{"constructor": 1, "model_input": [1]}'],
    ['__proto__ inside a value', '{"options": {"__proto__": 1}, "model_input": [1]}'],
    ['an object inside the list', '{"model_input": [{"__proto__": 1}]}'],
  ])('declines %s, for the usual parser to answer', (_name, body) => {
    expect(split(body)).toBeUndefined();
  });
});
