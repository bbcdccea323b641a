import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { direction, groupIterations, nextPosition, selectionFilter, selectionKey, taskSelections, MAX_TASKS } from './metric-iterations';

const plain = (sels: ReturnType<typeof taskSelections>) => sels.map((s) => [s.task, s.metrics === null ? null : [...s.metrics]]);

test('selections group entries by task in first-seen order; no metric selects all; no or empty variants select all', () => {
  const sels = taskSelections(
    [
      { task: 'b', metric: 'loss', variants: ['x', 'y', 'x'] },
      { task: 'a', metric: 'img' },
      { task: 'b', metric: 'acc', variants: [] },
      { task: 'c', metric: 'm' },
      { task: 'c' },
      { task: 'b', metric: 'loss', variants: ['z'] },
    ],
    true,
  );
  assert.deepEqual(plain(sels), [
    ['b', [['loss', ['z']], ['acc', null]]],
    ['a', [['img', null]]],
    ['c', null],
  ]);
  // 2.7 has no variants: they are not read.
  assert.deepEqual(plain(taskSelections([{ task: 'a', metric: 'm', variants: ['v'] }], false)), [['a', [['m', null]]]]);
  // A metric named like an Object.prototype member is an ordinary name.
  assert.deepEqual(plain(taskSelections([{ task: 't', metric: '__proto__', variants: ['constructor'] }], true)), [['t', [['__proto__', ['constructor']]]]]);
});

test('selections refuse bad task ids and more tasks than the bound', () => {
  assert.throws(() => taskSelections([{ task: '' }], true), (e: unknown) => e instanceof ApiError && e.subcode === 101);
  const many = Array.from({ length: MAX_TASKS + 1 }, (_, i) => ({ task: `t${i}` }));
  assert.throws(() => taskSelections(many, true), (e: unknown) => e instanceof ApiError && e.subcode === 12);
  assert.equal(taskSelections(many.slice(1), true).length, MAX_TASKS);
});

test('the selection key ignores the order of tasks, metrics and variants, and tells selections apart', () => {
  const a = selectionKey(taskSelections([{ task: 't1', metric: 'm', variants: ['x', 'y'] }, { task: 't2' }], true));
  const b = selectionKey(taskSelections([{ task: 't2' }, { task: 't1', metric: 'm', variants: ['y', 'x'] }], true));
  assert.equal(a, b);
  const other = [
    [{ task: 't1', metric: 'm', variants: ['x'] }, { task: 't2' }],
    [{ task: 't1', metric: 'm' }, { task: 't2' }],
    [{ task: 't1', metric: 'n', variants: ['x', 'y'] }, { task: 't2' }],
    [{ task: 't1', metric: 'm', variants: ['x', 'y'] }, { task: 't2', metric: 'm' }],
  ];
  for (const o of other) assert.notEqual(selectionKey(taskSelections(o, true)), a, JSON.stringify(o));
});

test('the selection filter binds names as parameters, never in the text', () => {
  const f = selectionFilter(taskSelections([{ task: 't', metric: "a' OR 1=1", variants: ['v1', 'v2'] }, { task: 't', metric: 'all' }], true)[0]!);
  assert.doesNotMatch(f.sql, /OR 1=1/);
  assert.match(f.sql, /metric IN \{sel_m:Array\(String\)\}/);
  assert.deepEqual(f.params, { sel_m: ['all'], sel_vm: ["a' OR 1=1", "a' OR 1=1"], sel_vv: ['v1', 'v2'] });
  assert.deepEqual(selectionFilter(taskSelections([{ task: 't' }], true)[0]!), { sql: '', params: {} });
});

test('direction: the first page starts at the latest iteration whatever is asked; then before the lowest or after the highest', () => {
  assert.deepEqual(direction(undefined, false), { earlier: true });
  assert.deepEqual(direction(['t', '5', '9'], true), { earlier: true, before: '5' });
  assert.deepEqual(direction(['t', '5', '9'], false), { earlier: false, after: '9' });
});

test('iterations are grouped in row order; a page cut by the limit leaves its last iteration to the next page', () => {
  const rows = [3, 3, 2, 2, 1].map((iter, i) => ({ iter: String(iter), n: i }));
  const whole = groupIterations(rows, 10, (r) => r.n);
  assert.deepEqual(whole.map((g) => [g.iter, g.events]), [[3, [0, 1]], [2, [2, 3]], [1, [4]]]);
  // Capacity 4: the fifth row read is of another iteration, so iteration 2 is whole.
  assert.deepEqual(groupIterations(rows, 4, (r) => r.n).map((g) => g.iter), [3, 2]);
  // Capacity 3: iteration 2 was cut.
  assert.deepEqual(groupIterations(rows, 3, (r) => r.n).map((g) => [g.iter, g.events]), [[3, [0, 1]]]);
  // One iteration alone over capacity: it is cut rather than never shown.
  assert.deepEqual(groupIterations(rows, 1, (r) => r.n).map((g) => [g.iter, g.events]), [[3, [0]]]);
  // Int64 iterations keep their exact text in the position.
  const big = groupIterations([{ iter: '9223372036854775807' }, { iter: '-9223372036854775808' }], 10, () => 0);
  assert.deepEqual(nextPosition('t', undefined, big), ['t', '-9223372036854775808', '9223372036854775807']);
});

test('an empty page keeps the position it had', () => {
  assert.equal(nextPosition('t', undefined, []), undefined);
  assert.deepEqual(nextPosition('t', ['t', '1', '2'], []), ['t', '1', '2']);
  assert.deepEqual(nextPosition('t', ['t', '1', '2'], [{ key: '0' }]), ['t', '0', '0']);
});
