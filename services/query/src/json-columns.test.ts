import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from '@trackstream/api';
import { ColumnsWriter, type ColumnChunk } from './json-columns';

function render(writer: ColumnsWriter, chunks: ColumnChunk[]): string {
  return `{${chunks.map((c) => writer.write(c)).join('')}${writer.end()}}`;
}

const c = (path: string[], col: number, s: string): ColumnChunk => ({ path, col, s });

test('nested objects opened and closed around each leaf, columns in order, chunks joined', () => {
  const w = new ColumnsWriter({ columns: ['x', 'y', 'y_min', 'y_max'], nameMember: true });
  const text = render(w, [
    c(['loss', 'train'], 0, '0,1'),
    c(['loss', 'train'], 0, '2'),
    c(['loss', 'train'], 1, '0.5,NaN,-Infinity'),
    c(['loss', 'train'], 2, '0.5,NaN,-Infinity'),
    c(['loss', 'train'], 3, '0.5,NaN,-Infinity'),
    c(['loss', 'val'], 0, '7'),
    c(['loss', 'val'], 1, '1e-7'),
    c(['loss', 'val'], 2, '1e-7'),
    c(['loss', 'val'], 3, '1e-7'),
    c(['z', '__proto__'], 0, '"2024-01-01T00:00:00.000Z"'),
    c(['z', '__proto__'], 1, '1'),
    c(['z', '__proto__'], 2, '1'),
    c(['z', '__proto__'], 3, '1'),
  ]);
  const parsed = parseJson(text) as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(parsed), ['loss', 'z']);
  assert.deepEqual(parsed['loss']?.['train'], { name: 'train', x: [0, 1, 2], y: [0.5, NaN, -Infinity], y_min: [0.5, NaN, -Infinity], y_max: [0.5, NaN, -Infinity] });
  assert.deepEqual(parsed['loss']?.['val'], { name: 'val', x: [7], y: [1e-7], y_min: [1e-7], y_max: [1e-7] });
  // A key named __proto__ is an ordinary member of the text.
  assert.ok(text.includes('"z":{"__proto__":{"name":"__proto__","x":["2024-01-01T00:00:00.000Z"]'));
});

test('paths of different depths share their common prefix; missing columns are empty arrays', () => {
  const w = new ColumnsWriter({ columns: ['y', 'iter'] });
  const text = render(w, [c(['m', 'v', 'a'], 1, '1'), c(['m', 'v', 'b'], 0, '2'), c(['m', 'w', 'a'], 0, '3'), c(['m', 'w', 'a'], 1, '4'), c(['n', 'v', 'a'], 0, '5')]);
  assert.equal(text, '{"m":{"v":{"a":{"y":[],"iter":[1]},"b":{"y":[2],"iter":[]}},"w":{"a":{"y":[3],"iter":[4]}}},"n":{"v":{"a":{"y":[5],"iter":[]}}}}');
  assert.deepEqual(parseJson(text), { m: { v: { a: { y: [], iter: [1] }, b: { y: [2], iter: [] } }, w: { a: { y: [3], iter: [4] } } }, n: { v: { a: { y: [5], iter: [] } } } });
});

test('names needing escapes are written as JSON strings; nothing written gives an empty object', () => {
  const w = new ColumnsWriter({ columns: ['y'] });
  const name = 'a"b\\c\n\u0000é🚀';
  assert.deepEqual(parseJson(render(w, [c([name], 0, '1')])), { [name]: { y: [1] } });
  assert.equal(render(new ColumnsWriter({ columns: ['y'] }), []), '{}');
});

test('unsorted input is a bug, not a malformed answer', () => {
  const w = new ColumnsWriter({ columns: ['y', 'x'] });
  w.write(c(['a'], 1, '1'));
  assert.throws(() => w.write(c(['a'], 0, '1')), /out of order/);
  assert.throws(() => new ColumnsWriter({ columns: ['y'] }).write(c(['a'], 3, '1')), /no column/);
});
