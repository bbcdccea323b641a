import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonParseError, parseJson, stringifyJson, valueDepthExceeds } from './json';

test('parseJson accepts Python non-finite tokens outside strings only', () => {
  const cases: Array<[string, unknown]> = [
    ['{"a": 1}', { a: 1 }],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['[NaN, Infinity, -Infinity, 1]', [NaN, Infinity, -Infinity, 1]],
    ['{"value": NaN, "metric": "loss"}', { value: NaN, metric: 'loss' }],
    ['{"s": "NaN Infinity -Infinity", "v": NaN}', { s: 'NaN Infinity -Infinity', v: NaN }],
    ['{"s": "say \\"NaN\\" twice", "v": -Infinity}', { s: 'say "NaN" twice', v: -Infinity }],
    ['{"s": "ends with backslash \\\\", "v": Infinity, "t": "NaN"}', { s: 'ends with backslash \\', v: Infinity, t: 'NaN' }],
    ['{"NaN": NaN, "Infinity": [Infinity]}', { NaN: NaN, Infinity: [Infinity] }],
    ['{"a":NaN,"b":{"c":[NaN,{"d":NaN}]}}', { a: NaN, b: { c: [NaN, { d: NaN }] } }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseJson(text), expected, text);
});

test('parseJson refuses what is not JSON', () => {
  const bad = ['', '{', '{"a": nan}', '{"a": NaNx}', '{"a": Infinityy}', '{"a": "NaN}', '{"a": - Infinity}', "{'a': 1}", '{"a": 1,}', 'undefined'];
  for (const text of bad) {
    assert.throws(
      () => parseJson(text),
      (e: unknown) => e instanceof JsonParseError && e.kind === 'syntax',
      text,
    );
  }
});

test('parseJson refuses nesting deeper than the limit, without overflowing', () => {
  const nest = (n: number, leaf = '1'): string => '{"a":'.repeat(n) + leaf + '}'.repeat(n);
  assert.deepEqual(valueDepthExceeds(parseJson(nest(64)), 64), false);
  const cases = [nest(65), '['.repeat(100_000) + ']'.repeat(100_000), '['.repeat(1_000_000), nest(65, 'NaN'), '['.repeat(100_000) + 'NaN' + ']'.repeat(100_000)];
  for (const text of cases) {
    assert.throws(
      () => parseJson(text),
      (e: unknown) => e instanceof JsonParseError,
      text.slice(0, 20),
    );
  }
  assert.throws(
    () => parseJson(nest(65)),
    (e: unknown) => e instanceof JsonParseError && e.kind === 'depth',
  );
  // Brackets inside strings do not count.
  assert.deepEqual(parseJson(`{"s": "${'['.repeat(500)}", "v": NaN}`), { s: '['.repeat(500), v: NaN });
  assert.deepEqual(parseJson(`{"s": "${'{'.repeat(500)}"}`), { s: '{'.repeat(500) });
  assert.throws(() => parseJson('[[1]]', 1), JsonParseError);
});

test('stringifyJson writes non-finite numbers as bare tokens', () => {
  const cases: Array<[unknown, string]> = [
    [{ a: 1, s: 'NaN' }, '{"a":1,"s":"NaN"}'],
    [{ a: NaN, b: [Infinity, -Infinity, 0], s: 'x' }, '{"a":NaN,"b":[Infinity,-Infinity,0],"s":"x"}'],
    [NaN, 'NaN'],
    [[1, 2], '[1,2]'],
  ];
  for (const [value, expected] of cases) {
    assert.equal(stringifyJson(value), expected);
    assert.deepEqual(parseJson(stringifyJson(value)), value);
  }
});
