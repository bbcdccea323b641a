/**
 * Model events (API 2.22) through the real gateway, Kafka and writer: `model_event: true` stores
 * an event under its model, apart from a task of the same id; delete_for_model deletes only the
 * model's; the batch rules of the reference (no model log events, one owner per id).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_KEY_PREFIX } from '@trackstream/event-schema';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';

let p: Pipeline;
before(async () => {
  p = await startPipeline();
});
after(async () => {
  await p.stop();
});

const scalar = (id: string, iter: number, value: number, extra: Record<string, unknown> = {}) => ({ type: 'training_stats_scalar', task: id, metric: 'm', variant: 'v', iter, value, ...extra });
const stored = (id: string) => p.count('SELECT count() FROM scalars FINAL WHERE task = {task:String}', { task: id });

test('a model event is stored under its model, never mixed with the task of the same id', async () => {
  const id = uniqueName('shared id "q" ü');
  // One request may not use an id both as a task's and as a model's (the reference's rule): 400, nothing added.
  const r = await p.addBatch([scalar(id, 1, 1), scalar(id, 2, 2), scalar(id, 1, 10, { model_event: true })], { version: '2.22' });
  assert.equal(r.status, 400);
  assert.match(r.meta.result_msg, /Inconsistent model_event setting/);
  assert.equal(r.meta.result_subcode, 12);

  assert.equal((await p.addBatch([scalar(id, 1, 1), scalar(id, 2, 2)], { version: '2.22' })).data.added, 2);
  const model = await p.addBatch([scalar(id, 1, 10, { model_event: true }), { ...scalar('not this one', 3, 30, { model_event: true }), model: id }], { version: '2.22' });
  assert.equal(model.data.added, 2);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', 2, { task: MODEL_KEY_PREFIX + id });
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', 2, { task: id });
  const rows = await (
    await p.clickhouse.query({ query: 'SELECT task, iter, value FROM scalars FINAL WHERE task IN {ids:Array(String)} ORDER BY task, iter', query_params: { ids: [id, MODEL_KEY_PREFIX + id, 'not this one'] }, format: 'JSONEachRow' })
  ).json<{ task: string; iter: string; value: number }>();
  assert.equal(await stored('not this one'), 0, 'a model event named by `model` is not stored under its `task`');
  const byOwner = (x: { task: string }) => (x.task.startsWith(MODEL_KEY_PREFIX) ? 1 : 0);
  assert.deepEqual(
    rows.sort((a, b) => byOwner(a) - byOwner(b) || Number(a.iter) - Number(b.iter)).map((x) => [x.task, Number(x.iter), x.value]),
    [
      [id, 1, 1],
      [id, 2, 2],
      [MODEL_KEY_PREFIX + id, 1, 10],
      [MODEL_KEY_PREFIX + id, 3, 30],
    ],
    'iteration 1 of the model did not replace the task\'s, and `model` named the model',
  );
});

test('model events: a log event is refused with the reference\'s reason, a non-boolean model_event is a validation error', async () => {
  const id = uniqueName('model-bad');
  const r = await p.addBatch([{ type: 'log', task: id, msg: 'x', model_event: true }, scalar(id, 1, 1, { model_event: 'yes' }), scalar(id, 2, 2, { model_event: true })], { version: '2.22' });
  assert.equal(r.status, 200);
  assert.equal(r.data.added, 1);
  assert.deepEqual(r.data.errors_info, { 'Task log events are not supported for models': 1, 'Validation error: model_event must be boolean': 1 });
});

test('delete_for_model deletes the model\'s events and keeps the task\'s of the same id; delete_for_task the reverse', async () => {
  const id = uniqueName('del-model');
  assert.equal((await p.addBatch([scalar(id, 1, 1), scalar(id, 2, 2), scalar(id, 3, 3)])).data.added, 3);
  assert.equal((await p.addBatch([scalar(id, 1, 1, { model_event: true }), scalar(id, 2, 2, { model_event: true })], { version: '2.22' })).data.added, 2);
  const del = await p.call<{ deleted: number }>('events.delete_for_model', { model: id }, { version: '2.22' });
  assert.equal(del.status, 200, del.meta.result_msg);
  assert.equal(del.data.deleted, 2);
  assert.equal(await stored(MODEL_KEY_PREFIX + id), 0);
  assert.equal(await stored(id), 3, 'the task of the same id keeps its events');

  assert.equal((await p.addBatch([scalar(id, 7, 7, { model_event: true })], { version: '2.22' })).data.added, 1);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', 1, { task: MODEL_KEY_PREFIX + id });
  const delTask = await p.call<{ deleted: number }>('events.delete_for_task', { task: id, allow_locked: true });
  assert.equal(delTask.data.deleted, 3);
  assert.equal(await stored(id), 0);
  assert.equal(await stored(MODEL_KEY_PREFIX + id), 1, 'the model of the same id keeps its events');
});

test('delete_for_model: bad input is a 400 in the envelope, and the endpoint is 2.22 only', async () => {
  for (const body of [{}, { model: '' }, { model: 5 }, { model: 'x\u0001y' }, { model: 'm', allow_locked: 'no' }]) {
    const r = await p.call('events.delete_for_model', body, { version: '2.22' });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.ok([11, 12, 101].includes(r.meta.result_subcode), `${JSON.stringify(body)}: ${r.meta.result_subcode}`);
  }
  const old = await p.call('events.delete_for_model', { model: 'm' }, { version: '2.21' });
  assert.notEqual(old.status, 200, 'no handler below 2.22');
});
