/** events.clear_task_log (2.19, 2.30) through the real gateway, Kafka and writer. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';

let p: Pipeline;
before(async () => {
  p = await startPipeline();
});
after(async () => {
  await p.stop();
});

const HOUR = 3_600_000;
const logs = (task: string) => p.count('SELECT count() FROM logs FINAL WHERE task = {task:String}', { task });

test('clear_task_log deletes the task\'s log lines older than threshold_sec, and nothing else', async () => {
  const task = uniqueName('clear "log" ü');
  const other = uniqueName('clear-other');
  const now = Date.now();
  const old = [3, 2.5, 2].map((h, i) => ({ type: 'log', task, msg: `old ${i}`, timestamp: now - h * HOUR }));
  const recent = [0.5, 0].map((h, i) => ({ type: 'log', task, msg: `recent ${i}`, timestamp: now - h * HOUR }));
  const scalar = { type: 'training_stats_scalar', task, metric: 'm', variant: 'v', iter: 1, value: 1, timestamp: now - 5 * HOUR };
  assert.equal((await p.addBatch([...old, ...recent, scalar, { type: 'log', task: other, msg: 'x', timestamp: now - 5 * HOUR }])).data.added, 7);
  // Called at once: the lines may still be in Kafka; the marker comes after them in the partition.
  const r = await p.call<{ deleted: number }>('events.clear_task_log', { task, threshold_sec: 3600, allow_locked: true }, { version: '2.19' });
  assert.equal(r.status, 200, r.meta.result_msg);
  assert.equal(r.data.deleted, old.length);
  assert.equal(await logs(task), recent.length);
  const kept = await (await p.clickhouse.query({ query: 'SELECT msg FROM logs FINAL WHERE task = {task:String} ORDER BY timestamp', query_params: { task }, format: 'JSONEachRow' })).json<{ msg: string }>();
  assert.deepEqual(kept.map((k) => k.msg), recent.map((e) => e.msg));
  assert.equal(await p.count('SELECT count() FROM scalars FINAL WHERE task = {task:String}', { task }), 1, 'other kinds are kept');
  // The other task's line is on its own partition, not ordered with the marker: waited for.
  assert.equal(await p.waitForCount('SELECT count() FROM logs FINAL WHERE task = {task:String}', 1, { task: other }), 1, 'other tasks are kept');

  // 2.30: include_metrics selects log events by metric, which ours have none of; exclude_metrics excludes none.
  const included = await p.call<{ deleted: number }>('events.clear_task_log', { task, include_metrics: ['m'] }, { version: '2.30' });
  assert.equal(included.data.deleted, 0);
  assert.equal(await logs(task), recent.length);
  const all = await p.call<{ deleted: number }>('events.clear_task_log', { task, exclude_metrics: ['m'] }, { version: '2.30' });
  assert.equal(all.data.deleted, recent.length, 'without threshold_sec: every line');
  assert.equal(await logs(task), 0);
  // Lines sent after the answer are kept.
  assert.equal((await p.addBatch([{ type: 'log', task, msg: 'after' }])).data.added, 1);
  await p.waitForCount('SELECT count() FROM logs FINAL WHERE task = {task:String}', 1, { task });
});

test('clear_task_log: bad input is a 400 in the envelope; include_metrics is 2.30\'s', async () => {
  const bad: Array<[unknown, string]> = [
    [{}, '2.19'],
    [{ task: '' }, '2.19'],
    [{ task: 7 }, '2.19'],
    [{ task: 't', threshold_sec: -1 }, '2.19'],
    [{ task: 't', threshold_sec: 1.5 }, '2.19'],
    [{ task: 't', threshold_sec: 'x' }, '2.19'],
    [{ task: 't', threshold_sec: 1e300 }, '2.19'],
    [{ task: 't', include_metrics: 'm' }, '2.30'],
    [{ task: 't', exclude_metrics: [1] }, '2.30'],
  ];
  for (const [body, version] of bad) {
    const r = await p.call('events.clear_task_log', body, { version });
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.meta.result_msg}`);
  }
  assert.equal((await p.call('events.clear_task_log', { task: 't' }, { version: '2.18' })).status, 404, 'no handler below 2.19');
  // Below 2.30 the metric lists are no fields of the request: ignored whatever they hold.
  const extra = await p.call<{ deleted: number }>('events.clear_task_log', { task: uniqueName('clear-extra'), include_metrics: null, exclude_metrics: 5 }, { version: '2.23' });
  assert.equal(extra.status, 200, extra.meta.result_msg);
  assert.equal(extra.data.deleted, 0);
});
