import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { FILTER_PARAM_BUDGET, filterKey, logsPass, metricCondition, metricFilter } from './metric-filter';

test('no list, or an empty one, is no filter', () => {
  for (const none of [undefined, null, []]) {
    assert.equal(metricFilter(none), undefined);
    assert.deepEqual(metricCondition(metricFilter(none)), { sql: '', params: {} });
    assert.equal(filterKey(metricFilter(none)), '');
  }
});

test('metrics with their variants, a metric named twice keeps its last entry, variants deduplicated', () => {
  const f = metricFilter([{ metric: 'loss', variants: ['train', 'val', 'train'] }, { metric: 'acc' }, { metric: 'loss', variants: ['test'] }, { metric: '__proto__', variants: null }]);
  assert.deepEqual(f, { metrics: ['loss', 'acc', '__proto__'], variants: [['test'], [], []] });
  const c = metricCondition(f);
  assert.deepEqual(c.params, { filter_metrics: ['loss', 'acc', '__proto__'], filter_variants: [['test'], [], []] });
  assert.match(c.sql, /^AND metric IN \{filter_metrics:Array\(String\)\}/);
  // The key tells filters apart (a cursor is scoped to one).
  assert.notEqual(filterKey(f), filterKey(metricFilter([{ metric: 'loss' }])));
  assert.equal(filterKey(f), filterKey(metricFilter([{ metric: 'loss', variants: ['test'] }, { metric: 'acc' }, { metric: '__proto__' }])));
});

test('log lines, which have no metric, pass only a filter asking for the metric ""', () => {
  assert.equal(logsPass(undefined), true);
  assert.equal(logsPass(metricFilter([{ metric: 'loss' }])), false);
  assert.equal(logsPass(metricFilter([{ metric: 'loss' }, { metric: '' }])), true);
  assert.equal(logsPass(metricFilter([{ metric: '', variants: ['', 'x'] }])), true);
  assert.equal(logsPass(metricFilter([{ metric: '', variants: ['x'] }])), false);
});

test('names too long together for one query parameter are a 400/12', () => {
  const name = 'é'.repeat(16_000); // 32,000 UTF-8 bytes: two fit, escaped, within the budget; three do not
  assert.ok(metricFilter([{ metric: `${name}1` }]));
  const refused = (entries: Parameters<typeof metricFilter>[0]) => assert.throws(() => metricFilter(entries), (e: unknown) => e instanceof ApiError && e.status === 400 && e.subcode === 12);
  refused([{ metric: `${name}1` }, { metric: `${name}2` }]);
  refused([{ metric: 'm', variants: [`${name}1`, `${name}2`] }]);
  // Many short names count too.
  refused(Array.from({ length: FILTER_PARAM_BUDGET / 4 }, (_, i) => ({ metric: String(i) })));
});
