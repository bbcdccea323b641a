import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleValueTasks, type SingleValueRow } from './get-task-single-value-metrics';

const row = (task: string, metric: string, variant: string, value: number | string, ts: number | string = 1): SingleValueRow => ({ task, metric, variant, value, ts });

test('tasks in the order asked, only those with values, task_name = the task id', () => {
  const rows = [row('a', 'Summary', 'x', 1), row('b', 'Summary', 'y', 2), row('a', 'Summary', 'w', 3)];
  const out = singleValueTasks(['b', 'missing', 'a', 'b'], rows);
  assert.deepEqual(
    out.map((t) => [t.task, t.task_name]),
    [
      ['b', 'b'],
      ['a', 'a'],
    ],
  );
  assert.deepEqual(singleValueTasks(['missing'], rows), []);
});

test('values by metric then variant in byte order; ClickHouse floats and times read', () => {
  const rows = [row('a', 'Summary', 'é', 'nan', '1704067200123'), row('a', 'Summary', 'z', '-inf'), row('a', 'Accuracy', 'top1', 0.5, 7), row('a', 'Summary', 'Z', 2)];
  const [a] = singleValueTasks(['a'], rows);
  assert.deepEqual(
    a?.values.map((v) => `${v.metric}/${v.variant}`),
    ['Accuracy/top1', 'Summary/Z', 'Summary/z', 'Summary/é'],
  );
  const byVariant = new Map(a?.values.map((v) => [v.variant, v]));
  assert.ok(Number.isNaN(byVariant.get('é')?.value));
  assert.equal(byVariant.get('é')?.timestamp, 1704067200123);
  assert.equal(byVariant.get('z')?.value, -Infinity);
  assert.deepEqual(byVariant.get('top1'), { metric: 'Accuracy', variant: 'top1', value: 0.5, timestamp: 7 });
});
