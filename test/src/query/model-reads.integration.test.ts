/**
 * Model reads (API 2.22): `model_events: true` reads a model's events on every read endpoint that
 * defines it, never the task's of the same id (nor another tenant's model of that id); answers
 * name the model by its id; cursors of a model read don't serve a task read; versions before
 * 2.22 ignore the field; delete_for_model deletes the caller tenant's model events only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_KEY_PREFIX } from '@trackstream/event-schema';
import type { Pipeline } from '../helpers/pipeline';
import { T0, assertError, image, log, plot, scalar, vector, startTenantsPipeline, type Api } from './support';

let p: Pipeline;
let a: Api;
let b: Api;
/** One id, used by a task and a model of tenant A and by a model of tenant B. */
const ID = 'same-id "ü" {x}';
const MARKS = ['TASKMARK', 'MODELMARK', 'OTHERTENANT'] as const;
type Mark = (typeof MARKS)[number];

/** Every kind of event a model may have (all but logs), its names carrying `mark`; vectors hold `n`. */
const eventsOf = (mark: Mark, n: number, asModel: boolean) =>
  [
    ...[0, 1, 2].map((i) => scalar(ID, `loss-${mark}`, `v-${mark}`, i, n * 10 + i)),
    ...[1, 2].map((i) => image(ID, `img-${mark}`, `v-${mark}`, i)),
    ...[1, 2].map((i) => plot(ID, `plot-${mark}`, `v-${mark}`, i)),
    vector(ID, `vec-${mark}`, `v-${mark}`, 1, [n]),
    scalar(ID, 'Summary', `single-${mark}`, -2147483648, n),
  ].map((e) => (asModel ? { ...e, model_event: true } : e));

let stopTenants: () => Promise<void>;
before(async () => {
  ({ p, a, b, stop: stopTenants } = await startTenantsPipeline());
  // A task and a model can't share an id within one request (the reference's rule): two batches.
  await a.ingest([...eventsOf('TASKMARK', 1, false), log(ID, T0, 'log-TASKMARK')]);
  await a.ingest(eventsOf('MODELMARK', 2, true));
  await b.ingest(eventsOf('OTHERTENANT', 3, true));
});

after(async () => {
  await stopTenants?.();
});

type Call = (client: Api, modelEvents: boolean, mark: Mark) => Promise<{ status: number; msg: string; data: unknown }>;
const post =
  (endpoint: string, body: (mark: Mark) => Record<string, unknown>): Call =>
  (client, modelEvents, mark) =>
    client.call(endpoint, { ...body(mark), model_events: modelEvents }, { version: '999.0' });
/** A next_* step from the get_* answer's cursor (the get_* call of the same owner). */
const step =
  (first: string, next: string, body: (mark: Mark) => Record<string, unknown>): Call =>
  async (client, modelEvents, mark) => {
    const start = await client.call<{ scroll_id: string }>(first, { task: ID, ...body(mark), model_events: modelEvents }, { version: '999.0' });
    assert.equal(start.status, 200, `${first}: ${start.msg}`);
    return client.call(next, { task: ID, scroll_id: start.data.scroll_id, navigate_earlier: true, model_events: modelEvents }, { version: '999.0' });
  };

/** The 19 read endpoints defining model_events, with a body naming `mark`'s metrics where one must be named. */
const READS: Array<[string, Call]> = [
  ['debug_images', post('events.debug_images', () => ({ metrics: [{ task: ID }], iters: 2 }))],
  ['plots', post('events.plots', () => ({ metrics: [{ task: ID }], iters: 2 }))],
  ['get_debug_image_sample', post('events.get_debug_image_sample', (m) => ({ task: ID, metric: `img-${m}`, variant: `v-${m}` }))],
  ['next_debug_image_sample', step('events.get_debug_image_sample', 'events.next_debug_image_sample', (m) => ({ metric: `img-${m}`, variant: `v-${m}` }))],
  ['get_plot_sample', post('events.get_plot_sample', (m) => ({ task: ID, metric: `plot-${m}` }))],
  ['next_plot_sample', step('events.get_plot_sample', 'events.next_plot_sample', (m) => ({ metric: `plot-${m}` }))],
  ['get_task_metrics', post('events.get_task_metrics', () => ({ tasks: [ID], event_type: 'training_stats_scalar' }))],
  ['get_multi_task_metrics', post('events.get_multi_task_metrics', () => ({ tasks: [ID] }))],
  ['get_task_events', post('events.get_task_events', () => ({ task: ID }))],
  ['get_task_plots', post('events.get_task_plots', () => ({ task: ID }))],
  ['get_multi_task_plots', post('events.get_multi_task_plots', () => ({ tasks: [ID] }))],
  ['get_vector_metrics_and_variants', post('events.get_vector_metrics_and_variants', () => ({ task: ID }))],
  ['vector_metrics_iter_histogram', post('events.vector_metrics_iter_histogram', (m) => ({ task: ID, metric: `vec-${m}`, variant: `v-${m}` }))],
  ['scalar_metrics_iter_histogram', post('events.scalar_metrics_iter_histogram', () => ({ task: ID }))],
  ['scalar_metrics_iter_histogram samples 0', post('events.scalar_metrics_iter_histogram', () => ({ task: ID, samples: 0 }))],
  ['multi_task_scalar_metrics_iter_histogram', post('events.multi_task_scalar_metrics_iter_histogram', () => ({ tasks: [ID] }))],
  ['multi_task_scalar_metrics_iter_histogram samples 0', post('events.multi_task_scalar_metrics_iter_histogram', () => ({ tasks: [ID], samples: 0 }))],
  ['get_task_single_value_metrics', post('events.get_task_single_value_metrics', () => ({ tasks: [ID] }))],
  ['get_scalar_metrics_and_variants', post('events.get_scalar_metrics_and_variants', () => ({ task: ID }))],
  ['get_scalar_metric_data', post('events.get_scalar_metric_data', (m) => ({ task: ID, metric: `loss-${m}` }))],
  ['scalar_metrics_iter_raw', post('events.scalar_metrics_iter_raw', (m) => ({ task: ID, metric: { metric: `loss-${m}` }, count_total: true }))],
];

/** The answer as text, without its cursor (base64url, which may spell a mark by chance). */
const answerText = (data: unknown): string => JSON.stringify({ ...(data as object), scroll_id: undefined });

test('every read endpoint with model_events reads the model\'s events, without the task\'s or another tenant\'s', async () => {
  for (const [client, modelEvents, mine] of [
    [a, true, 'MODELMARK'],
    [a, false, 'TASKMARK'],
    [b, true, 'OTHERTENANT'],
  ] as const) {
    for (const [name, call] of READS) {
      const r = await call(client, modelEvents, mine);
      const what = `${name} (model_events ${modelEvents}, ${mine})`;
      assert.equal(r.status, 200, `${what}: ${r.msg}`);
      const text = answerText(r.data);
      assert.ok(text.includes(`-${mine}`), `${what} answers with the owner's events: ${text.slice(0, 300)}`);
      for (const other of MARKS.filter((m) => m !== mine)) assert.ok(!text.includes(other), `${what} shows ${other}'s events: ${text.slice(0, 300)}`);
      // Answers name the model by its id, never by the key it is stored under.
      assert.ok(!text.includes('\\u0001') && !text.includes('model:'), `${what}: ${text.slice(0, 300)}`);
    }
  }
});

test('model answers: events name the model by id with model_event: true; values are the model\'s', async () => {
  const events = await a.call<{ events: Array<Record<string, unknown>>; total: number }>('events.get_task_events', { task: ID, model_events: true }, { version: '999.0' });
  assert.equal(events.data.total, 9);
  assert.ok(events.data.events.every((e) => e.task === ID && e.model_event === true), JSON.stringify(events.data.events[0]));
  const taskEvents = await a.call<{ events: Array<Record<string, unknown>>; total: number }>('events.get_task_events', { task: ID, model_events: false }, { version: '999.0' });
  assert.equal(taskEvents.data.total, 10, 'the task\'s nine events and its log');
  assert.ok(taskEvents.data.events.every((e) => e.task === ID && !('model_event' in e)));

  const hist = await a.call<Record<string, Record<string, { y: number[] }>>>('events.scalar_metrics_iter_histogram', { task: ID, model_events: true }, { version: '999.0' });
  assert.deepEqual(hist.data['loss-MODELMARK']?.['v-MODELMARK']?.y, [20, 21, 22]);
  const multi = await a.call<{ metrics: Record<string, Record<string, Record<string, { name: string; y: number[] }>>> }>(
    'events.multi_task_scalar_metrics_iter_histogram',
    { tasks: [ID], model_events: true },
    { version: '999.0' },
  );
  assert.deepEqual(multi.data.metrics['loss-MODELMARK']?.['v-MODELMARK']?.[ID], { name: ID, x: [0, 1, 2], y: [20, 21, 22], y_min: [20, 21, 22], y_max: [20, 21, 22] });
  const vectors = await a.call('events.vector_metrics_iter_histogram', { task: ID, metric: 'vec-MODELMARK', variant: 'v-MODELMARK', model_events: true }, { version: '999.0' });
  assert.deepEqual(vectors.data, { metric: 'vec-MODELMARK', variant: 'v-MODELMARK', vectors: [[2]], iterations: [1] });
  const single = await a.call<{ tasks: Array<{ task: string; values: Array<{ value: number }> }> }>('events.get_task_single_value_metrics', { tasks: [ID], model_events: true }, { version: '999.0' });
  assert.deepEqual(single.data.tasks.map((t) => [t.task, t.values.map((v) => v.value)]), [[ID, [2]]]);
  const metrics = await a.call('events.get_task_metrics', { tasks: [ID], event_type: 'plot', model_events: true }, { version: '999.0' });
  assert.deepEqual(metrics.data, { metrics: [{ task: ID, metrics: ['plot-MODELMARK'] }] });
  const plots = await a.call<{ metrics: Array<{ task: string; iterations: Array<{ iter: number; events: Array<{ task: string; metric: string }> }> }> }>(
    'events.plots',
    { metrics: [{ task: ID }], iters: 2, model_events: true },
    { version: '999.0' },
  );
  assert.deepEqual(
    plots.data.metrics.map((m) => [m.task, m.iterations.map((i) => [i.iter, i.events.map((e) => [e.task, e.metric])])]),
    [[ID, [[2, [[ID, 'plot-MODELMARK']]], [1, [[ID, 'plot-MODELMARK']]]]]],
  );
});

test('versions before 2.22 ignore model_events and read the task\'s events', async () => {
  const hist = await a.call<Record<string, unknown>>('events.scalar_metrics_iter_histogram', { task: ID, model_events: true }, { version: '2.14' });
  assert.deepEqual(Object.keys(hist.data), ['loss-TASKMARK']);
  const plots = await a.call<{ plots: Array<{ metric: string }> }>('events.get_task_plots', { task: ID, model_events: true }, { version: '2.16' });
  assert.deepEqual([...new Set(plots.data.plots.map((x) => x.metric))], ['plot-TASKMARK']);
  const single = await a.call<{ tasks: Array<{ values: Array<{ value: number }> }> }>('events.get_task_single_value_metrics', { tasks: [ID], model_events: true }, { version: '2.20' });
  assert.deepEqual(single.data.tasks.map((t) => t.values.map((v) => v.value)), [[1]]);
});

test('a cursor of a model read does not serve the task\'s read of the same id (400/1104), nor the other way', async () => {
  const body = { task: ID, batch_size: 1 };
  const model = await a.call<{ scroll_id: string; plots: unknown[] }>('events.get_task_plots', { ...body, model_events: true }, { version: '999.0' });
  assert.equal(model.data.plots.length, 1);
  assertError(await a.call('events.get_task_plots', { ...body, model_events: false, scroll_id: model.data.scroll_id }, { version: '999.0' }), 400, 1104, 'model cursor, task read');
  const task = await a.call<{ scroll_id: string }>('events.scalar_metrics_iter_raw', { task: ID, metric: { metric: 'loss-TASKMARK' }, batch_size: 1 }, { version: '999.0' });
  assertError(
    await a.call('events.scalar_metrics_iter_raw', { task: ID, metric: { metric: 'loss-TASKMARK' }, batch_size: 1, model_events: true, scroll_id: task.data.scroll_id }, { version: '999.0' }),
    400,
    1104,
    'task cursor, model read',
  );
});

test('bad model_events is a 400 in the envelope', async () => {
  for (const value of ['yes', 1, {}, []]) {
    const r = await a.call('events.get_task_events', { task: ID, model_events: value }, { version: '999.0' });
    assertError(r, 400, 12, `model_events ${JSON.stringify(value)}`);
  }
});

test('delete_for_model deletes the caller tenant\'s model events only, never the task\'s of the same id', async () => {
  const stored = (tenant: string, task: string) => p.count('SELECT count() FROM scalars FINAL WHERE tenant = {tenant:String} AND task = {task:String}', { tenant, task });
  const del = await b.call<{ deleted: number }>('events.delete_for_model', { model: ID }, { version: '2.22' });
  assert.equal(del.status, 200, del.msg);
  assert.equal(await stored('tenant-b', MODEL_KEY_PREFIX + ID), 0);
  assert.equal(await stored('tenant-a', MODEL_KEY_PREFIX + ID), 4, 'tenant A\'s model keeps its events');
  assert.equal((await a.call<{ deleted: number }>('events.delete_for_model', { model: ID }, { version: '2.22' })).status, 200);
  assert.equal(await stored('tenant-a', MODEL_KEY_PREFIX + ID), 0);
  assert.equal(await stored('tenant-a', ID), 4, 'the task of the same id keeps its events');
  const read = await a.call<{ total: number }>('events.get_task_events', { task: ID, model_events: true }, { version: '999.0' });
  assert.equal(read.data.total, 0);
});
