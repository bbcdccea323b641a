import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { metricFilter } from './metric-filter';

test('no entries filter nothing', () => {
  for (const none of [undefined, null, []]) assert.deepEqual(metricFilter(none), { sql: '', params: {}, key: '', logs: true });
});

test('whole metrics and chosen variants, bound as parameters', () => {
  const f = metricFilter([{ metric: 'loss', variants: ['val', 'train', 'val'] }, { metric: 'acc' }, { metric: "it's", variants: [] }], 'p');
  assert.equal(f.sql, 'AND (metric IN {p_m:Array(String)} OR (metric, variant) IN arrayZip({p_vm:Array(String)}, {p_vv:Array(String)}))');
  assert.deepEqual(f.params, { p_m: ['acc', "it's"], p_vm: ['loss', 'loss'], p_vv: ['train', 'val'] });
  // Only one kind of entry: only its term.
  assert.equal(metricFilter([{ metric: 'a' }]).sql, 'AND (metric IN {mf_m:Array(String)})');
  assert.equal(metricFilter([{ metric: 'a', variants: ['v'] }]).sql, 'AND ((metric, variant) IN arrayZip({mf_vm:Array(String)}, {mf_vv:Array(String)}))');
});

test('a metric named twice keeps its last entry; the key does not depend on order', () => {
  const f = metricFilter([{ metric: 'loss', variants: ['a'] }, { metric: 'loss' }]);
  assert.deepEqual(f.params, { mf_m: ['loss'] });
  const g = metricFilter([{ metric: 'loss' }, { metric: 'loss', variants: ['a'] }]);
  assert.deepEqual(g.params, { mf_vm: ['loss'], mf_vv: ['a'] });
  assert.notEqual(f.key, g.key);
  assert.equal(metricFilter([{ metric: 'b' }, { metric: 'a', variants: ['y', 'x'] }]).key, metricFilter([{ metric: 'a', variants: ['x', 'y'] }, { metric: 'b' }]).key);
});

test('a filter too long to bind as one parameter is 400/12', () => {
  const long = 'x'.repeat(16_384);
  const variants = Array.from({ length: 10 }, (_, i) => `v${i}`);
  // One long metric name repeated for each of its variants: over the parameter size.
  assert.throws(
    () => metricFilter([{ metric: long, variants }]),
    (e: unknown) => e instanceof ApiError && e.status === 400 && e.subcode === 12,
  );
  assert.ok(metricFilter([{ metric: long, variants: variants.slice(0, 2) }]).sql.length > 0);
});

test('metricFilter: log lines (no metric) pass only a filter asking for the metric ""', () => {
  assert.equal(metricFilter(undefined).logs, true);
  assert.equal(metricFilter(null).logs, true);
  assert.equal(metricFilter([{ metric: 'loss' }]).logs, false);
  assert.equal(metricFilter([{ metric: 'loss' }, { metric: '' }]).logs, true);
  assert.equal(metricFilter([{ metric: '', variants: ['', 'x'] }]).logs, true);
  assert.equal(metricFilter([{ metric: '', variants: ['x'] }]).logs, false);
  assert.equal(metricFilter([{ metric: '', variants: null }]).logs, true);
});
