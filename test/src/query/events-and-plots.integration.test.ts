/**
 * The newer versions of get_task_events (2.22: event_type, metrics, by iteration), get_task_plots
 * (2.14 metrics, 2.16 no_scroll, 2.22) and get_multi_task_plots (2.16 no_scroll and the window per
 * task metric, 2.26 last_iters_per_task_metric, 2.28 metrics) through the whole pipeline, with
 * the SDK's bodies at /v2.23/ (get_all_reported_scalars, get_reported_plots) and the web UI's at
 * /v999.0/ (plots tab, compare plots, each paged as the UI pages them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, image, log, plot, scalar, vector, type Api } from './support';

let p: Pipeline;
let c: Api;

const UI = { version: '999.0' };
const SDK = { version: '2.23' };

type Event = Record<string, unknown> & { type: string; task: string };

// ------------------------------------------------------------------------------ the events

const E = 'task-events';
const ITERS = 10;
// Validation scalars come after the training pass, and acc's timestamps run backwards: the
// order by iteration differs from the order by timestamp.
const SCALARS = [
  ...Array.from({ length: ITERS }, (_, i) => scalar(E, 'loss', 'train', i, 1 / (i + 1), T0 + i)),
  ...Array.from({ length: ITERS }, (_, i) => scalar(E, 'loss', 'val', i, 2 / (i + 1), T0 + 50 + i)),
  ...Array.from({ length: ITERS }, (_, i) => scalar(E, 'acc', 'train', i, i / 10, T0 + 100 - i)),
  scalar(E, '', '', 4, 0.5, T0 + 3),
];
const OTHERS: Event[] = [vector(E, 'hist', 'w', 3, [1, 2], T0 + 7), image(E, 'img', 'v', 2, 'k', T0 + 8), plot(E, 'roc', 'v', 5, T0 + 9), log(E, T0 + 1, 'log one'), log(E, T0 + 60, 'log two')];
const EVENTS: Event[] = [...SCALARS, ...OTHERS];

const KIND_ORDER = ['training_stats_scalar', 'training_stats_vector', 'training_debug_image', 'plot', 'log'];
/** 2.22's order: iteration, timestamp, kind, metric, variant, key (logs carry iteration 0). */
function byIteration(a: Event, b: Event): number {
  const key = (e: Event): Array<number | string> => [Number(e.iter ?? 0), Number(e.timestamp), KIND_ORDER.indexOf(e.type), String(e.metric ?? ''), String(e.variant ?? ''), String(e.key ?? '')];
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number | string) < (kb[i] as number | string) ? -1 : 1;
  return 0;
}
/** An event's identity as the answer shows it. */
const id = (e: Record<string, unknown>): string => JSON.stringify(e.type === 'log' ? [e.type, e.msg] : [e.type, e.metric, e.variant, e.iter, e.key ?? '']);

interface EventsPage {
  events: Array<Record<string, unknown>>;
  returned: number;
  total: number;
  scroll_id: string;
}

// ------------------------------------------------------------------------------ the plots

const P = 'task-plots';
const Q = 'task-plots-2';
const BIG = 'task-many-plots';
const MANY = 600;
const PLOTS: Event[] = [
  ...[0, 1, 2, 3, 4, 5].map((it) => plot(P, 'roc', 'v1', it)),
  ...[0, 2, 4].map((it) => plot(P, 'roc', 'v2', it)),
  plot(P, 'cm', 'x', 3),
  plot(Q, 'roc', 'v1', 10),
  plot(Q, 'roc', 'v1', 11),
  plot(Q, 'other', 'o', 0),
  ...[6, 7].flatMap((it) => Array.from({ length: MANY }, (_, i) => plot(BIG, `m${i % 3}`, `v${String(i).padStart(3, '0')}`, it))),
];

const plotId = (e: Record<string, unknown>): string => [e.task, e.metric, e.variant, e.iter].join('/');
/** The plot event of (task, metric, variant, iter) as written, in the answer's shape. */
function plotEvent(task: string, metric: string, variant: string, iter: number): Record<string, unknown> {
  const written = PLOTS.find((e) => e.task === task && e.metric === metric && e.variant === variant && e.iter === iter);
  assert.ok(written, `no plot ${task}/${metric}/${variant}/${iter} was written`);
  return { type: 'plot', task, iter, metric, variant, plot_str: written.plot_str, timestamp: written.timestamp };
}

interface Plots {
  plots: Array<Record<string, unknown>>;
  returned: number;
  total: number;
  scroll_id: string | null;
}
type Leaf = { name: string; plots: Array<Record<string, unknown>> };
type Tree = Record<string, Record<string, Record<string, Record<string, Leaf>>>>;
interface MultiPlots {
  plots: Tree;
  returned: number;
  total: number;
  scroll_id: string | null;
}

/** The tree of these plots, as the contract shapes it. */
function tree(ids: Array<[task: string, metric: string, variant: string, iter: number]>): Tree {
  const out: Tree = {};
  for (const [task, metric, variant, iter] of ids) {
    ((((out[metric] ??= {})[variant] ??= {})[task] ??= {})[String(iter)] ??= { name: task, plots: [] }).plots.push(plotEvent(task, metric, variant, iter));
  }
  return out;
}

/** Merges the trees of pages as the UI does (lodash merge: objects key by key, arrays by index). */
function merge(into: Tree, page: Tree): Tree {
  for (const [metric, variants] of Object.entries(page)) {
    for (const [variant, tasks] of Object.entries(variants)) {
      for (const [task, iters] of Object.entries(tasks)) {
        for (const [iter, leaf] of Object.entries(iters)) {
          const byIter = (((into[metric] ??= {})[variant] ??= {})[task] ??= {});
          const target = byIter[iter];
          if (!target) byIter[iter] = { name: leaf.name, plots: [...leaf.plots] };
          else leaf.plots.forEach((pl, i) => (target.plots[i] = pl));
        }
      }
    }
  }
  return into;
}

before(async () => {
  p = await startPipeline();
  c = api(p);
  await c.ingest([...EVENTS, ...PLOTS]);
});

after(async () => {
  await p?.stop();
});

// ------------------------------------------------------------------------------ get_task_events

async function events(body: Record<string, unknown>, opts = UI): Promise<EventsPage> {
  const r = await c.call<EventsPage>('events.get_task_events', body, opts);
  assert.equal(r.status, 200, r.msg);
  assert.equal(r.data.returned, r.data.events.length);
  return r.data;
}

/** Every page of a scroll until one shorter than `batch_size` (as the SDK stops), with `between` after each page. */
async function scrollEvents(body: Record<string, unknown>, batch: number, opts = UI, between?: (page: number) => Promise<void>): Promise<EventsPage[]> {
  const pages: EventsPage[] = [];
  let scrollId: string | undefined;
  for (;;) {
    const page = await events({ ...body, batch_size: batch, ...(scrollId ? { scroll_id: scrollId } : {}) }, opts);
    pages.push(page);
    if (page.returned < batch || !page.scroll_id) return pages;
    scrollId = page.scroll_id;
    await between?.(pages.length);
  }
}

/** Task.get_all_reported_scalars's fold of the events it reads: metric -> variant -> {name, x, y}. */
function reportedScalars(all: Array<Record<string, unknown>>): Record<string, Record<string, { name: string; x: unknown[]; y: unknown[] }>> {
  const out: Record<string, Record<string, { name: string; x: unknown[]; y: unknown[] }>> = {};
  for (const e of all) {
    const metric = e.metric as string;
    const variant = e.variant as string;
    const series = ((out[metric] ??= {})[variant] ??= { name: variant, x: [], y: [] });
    if (series.x.length === 0 || series.x.at(-1) !== e.iter) {
      series.x.push(e.iter);
      series.y.push(e.value);
    } else series.y[series.y.length - 1] = e.value;
  }
  return out;
}

test('the SDK: get_all_reported_scalars reads the scalars only, each series by iteration', async () => {
  const expected: Record<string, Record<string, { name: string; x: number[]; y: number[] }>> = {};
  for (const s of [...SCALARS].sort((a, b) => a.iter - b.iter)) {
    const series = ((expected[s.metric] ??= {})[s.variant] ??= { name: s.variant, x: [], y: [] });
    series.x.push(s.iter);
    series.y.push(s.value);
  }
  // The SDK's body (batch_size 1000; scroll_id from the second page on), then smaller pages.
  for (const batch of [1000, 7]) {
    const pages = await scrollEvents({ task: E, event_type: 'training_stats_scalar' }, batch, SDK);
    const all = pages.flatMap((pg) => pg.events);
    assert.ok(all.every((e) => e.type === 'training_stats_scalar'), 'only scalars');
    assert.equal(new Set(all.map(id)).size, SCALARS.length, `batch ${batch}: each scalar once`);
    assert.deepEqual(reportedScalars(all), expected, `batch ${batch}`);
    for (const pg of pages) assert.equal(pg.total, SCALARS.length);
  }
  const first = await events({ task: E, event_type: 'training_stats_scalar', batch_size: 1 }, SDK);
  // Iteration 0's scalars by timestamp: loss/train first.
  assert.deepEqual(first.events, [{ type: 'training_stats_scalar', task: E, iter: 0, metric: 'loss', variant: 'train', timestamp: T0, value: 1 }]);
});

test('event_type: one kind, or every kind by iteration (the default); order desc reverses', async () => {
  for (const type of KIND_ORDER) {
    const page = await events({ task: E, event_type: type });
    assert.deepEqual(page.events.map(id), EVENTS.filter((e) => e.type === type).sort(byIteration).map(id), type);
    assert.equal(page.total, EVENTS.filter((e) => e.type === type).length);
  }
  const sorted = [...EVENTS].sort(byIteration).map(id);
  for (const body of [{ task: E }, { task: E, event_type: '*' }]) {
    const page = await events(body);
    assert.deepEqual(page.events.map(id), sorted);
    assert.equal(page.total, EVENTS.length);
  }
  assert.deepEqual((await events({ task: E, order: 'desc' })).events.map(id), [...sorted].reverse());
  // 2.1 keeps its order by timestamp, and every kind.
  const old = await events({ task: E, event_type: 'log' }, { version: '2.21' });
  assert.deepEqual(
    old.events.map((e) => e.timestamp),
    EVENTS.map((e) => e.timestamp).sort((a, b) => Number(a) - Number(b)),
  );
});

test('metrics: the events of those metrics (and variants); log lines only for the metric ""', async () => {
  const only = (pred: (e: Event) => boolean) => EVENTS.filter(pred).sort(byIteration).map(id);
  const ask = async (metrics: unknown, eventType?: string) => (await events({ task: E, metrics, ...(eventType ? { event_type: eventType } : {}) })).events.map(id);
  assert.deepEqual(await ask([{ metric: 'loss', variants: ['val'] }]), only((e) => e.metric === 'loss' && e.variant === 'val'));
  assert.deepEqual(await ask([{ metric: 'loss' }, { metric: 'roc', variants: [] }]), only((e) => e.metric === 'loss' || e.metric === 'roc'));
  assert.deepEqual(await ask([{ metric: '' }]), only((e) => (e.metric ?? '') === ''));
  assert.deepEqual(await ask([{ metric: 'loss', variants: ['val'] }], 'training_debug_image'), []);
  assert.deepEqual(await ask([{ metric: 'img' }], 'training_debug_image'), only((e) => e.type === 'training_debug_image'));
  const none = await events({ task: E, metrics: [{ metric: 'loss' }], event_type: 'log' });
  assert.deepEqual([none.events, none.total], [[], 0]);
  assert.equal((await events({ task: E, metrics: [{ metric: 'acc' }] })).total, ITERS);
});

test('pages by iteration while events arrive: none twice, none lost; cursors belong to their selection', async () => {
  const task = 'task-events-live';
  const initial = Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? log(task, T0 + i, `log ${i}`) : scalar(task, 'm', `v${i % 3}`, i, i, T0 + 100 - i)));
  await c.ingest(initial);
  let round = 0;
  const pages = await scrollEvents({ task }, 4, UI, async (page) => {
    if (page > 2) return;
    round++;
    // A later iteration joins the scroll ahead of it; an earlier one is behind it, seen next time.
    await c.ingest([scalar(task, 'late', 'v', 100 + round, round), scalar(task, 'early', 'v', -round, round)]);
  });
  const seen = pages.flatMap((pg) => pg.events);
  assert.equal(new Set(seen.map(id)).size, seen.length, 'no duplicates');
  const iters = seen.map((e) => Number(e.iter ?? 0));
  assert.deepEqual(iters, [...iters].sort((a, b) => a - b), 'by iteration');
  for (const e of initial) assert.ok(seen.map(id).includes(id(e)), id(e));
  assert.deepEqual(seen.filter((e) => e.metric === 'late').map((e) => e.iter), [101, 102]);
  assert.equal(pages.at(-1)?.total, initial.length + 4);

  const first = await events({ task, batch_size: 2, event_type: 'training_stats_scalar' });
  const sid = first.scroll_id;
  assert.equal((await c.call('events.get_task_events', { task, batch_size: 2, event_type: 'training_stats_scalar', scroll_id: sid }, UI)).status, 200);
  for (const [body, opts, what] of [
    [{ task, event_type: 'log' }, UI, 'other event_type'],
    [{ task, event_type: 'training_stats_scalar', metrics: [{ metric: 'm' }] }, UI, 'other metrics'],
    [{ task, event_type: 'training_stats_scalar', order: 'desc' }, UI, 'other order'],
    [{ task }, { version: '2.1' }, '2.1 with a 2.22 cursor'],
  ] as Array<[Record<string, unknown>, { version: string }, string]>) {
    assertError(await c.call('events.get_task_events', { ...body, scroll_id: sid }, opts), 400, 1104, what);
  }
  const old = await c.call<EventsPage>('events.get_task_events', { task, batch_size: 2 }, { version: '2.1' });
  assertError(await c.call('events.get_task_events', { task, batch_size: 2, scroll_id: old.data.scroll_id }, UI), 400, 1104, '2.22 with a 2.1 cursor');
});

test('get_task_events: bad parameters are 400s', async () => {
  for (const [body, subcode] of [
    [{ task: E, event_type: 'scalar' }, 12],
    [{ task: E, event_type: 5 }, 12],
    [{ task: E, event_type: '' }, 12],
    [{ task: E, metrics: {} }, 12],
    [{ task: E, metrics: [{}] }, 11],
    [{ task: E, metrics: [{ metric: 'm', variants: [1] }] }, 12],
    [{ task: E, order: 'up' }, 12],
    [{ task: E, batch_size: 0 }, 12],
    [{ task: '' }, 101],
    [{}, 11],
  ] as Array<[Record<string, unknown>, number]>) {
    assertError(await c.call('events.get_task_events', body, UI), 400, subcode, JSON.stringify(body));
  }
  const unknown = await events({ task: 'no-such-task', event_type: 'plot', metrics: [{ metric: 'm' }] });
  assert.deepEqual([unknown.events, unknown.total], [[], 0]);
});

// ------------------------------------------------------------------------------ get_task_plots

test('the UI plots tab: pages of 500 by metric and variant while fewer than the total came', async () => {
  const all: Array<Record<string, unknown>> = [];
  let page = (await c.call<Plots>('events.get_task_plots', { task: BIG, iters: 1 }, UI)).data;
  all.push(...page.plots);
  while (all.length < page.total) {
    page = (await c.call<Plots>('events.get_task_plots', { task: BIG, iters: 1, scroll_id: page.scroll_id }, UI)).data;
    assert.ok(page.returned > 0, 'a page before the total');
    all.push(...page.plots);
  }
  const expected = PLOTS.filter((e) => e.task === BIG && e.iter === 7).sort((a, b) => (`${a.metric}/${a.variant}` < `${b.metric}/${b.variant}` ? -1 : 1));
  assert.equal(page.total, MANY);
  assert.deepEqual(all.map(plotId), expected.map(plotId));
  assert.deepEqual(all[0], plotEvent(BIG, 'm0', 'v000', 7));
});

test('the SDK: get_reported_plots (no_scroll) gets every plot in one answer, without a cursor', async () => {
  for (const iters of [1, 2]) {
    const r = await c.call<Plots>('events.get_task_plots', { task: BIG, iters, no_scroll: true }, SDK);
    assert.equal(r.status, 200, r.msg);
    assert.equal(r.data.scroll_id, null);
    assert.equal(r.data.returned, MANY * iters);
    assert.equal(r.data.total, MANY * iters);
    assert.deepEqual(new Set(r.data.plots.map(plotId)), new Set(PLOTS.filter((e) => e.task === BIG && (e.iter as number) >= 8 - iters).map(plotId)));
  }
  // batch_size, ours, still bounds it.
  const small = await c.call<Plots>('events.get_task_plots', { task: BIG, no_scroll: true, batch_size: 10 }, SDK);
  assert.deepEqual([small.data.returned, small.data.total, small.data.scroll_id], [10, MANY, null]);
});

test('get_task_plots 2.14: by metric, variant, newest iteration first; metrics selects some', async () => {
  const ids = async (body: Record<string, unknown>, version = '2.14') => {
    const r = await c.call<Plots>('events.get_task_plots', body, { version });
    assert.equal(r.status, 200, r.msg);
    assert.equal(r.data.total, r.data.returned);
    return r.data.plots.map(plotId);
  };
  assert.deepEqual(await ids({ task: P, iters: 2 }), [`${P}/cm/x/3`, `${P}/roc/v1/5`, `${P}/roc/v1/4`, `${P}/roc/v2/4`, `${P}/roc/v2/2`]);
  assert.deepEqual(await ids({ task: P, iters: 2, metrics: [{ metric: 'roc', variants: ['v2'] }] }), [`${P}/roc/v2/4`, `${P}/roc/v2/2`]);
  assert.deepEqual(await ids({ task: P, metrics: [{ metric: 'cm' }, { metric: 'roc', variants: ['v1'] }] }, '2.22'), [`${P}/cm/x/3`, `${P}/roc/v1/5`]);
  assert.deepEqual(await ids({ task: P, metrics: [{ metric: 'nope' }] }), []);
  // 2.14 has no no_scroll: ignored.
  const r = await c.call<Plots>('events.get_task_plots', { task: P, no_scroll: true }, { version: '2.14' });
  assert.equal(typeof r.data.scroll_id, 'string');
});

test('get_task_plots 2.16: pages while plots arrive; cursors belong to their version and filter', async () => {
  const task = 'task-plots-live';
  await c.ingest([...[0, 1, 2, 3].map((it) => plot(task, 'm', 'a', it)), ...[0, 1, 2].map((it) => plot(task, 'm', 'b', it))]);
  const seen: string[] = [];
  let scrollId: string | null | undefined;
  let last: Plots | undefined;
  for (let round = 0; ; round++) {
    const r = await c.call<Plots>('events.get_task_plots', { task, iters: 2, batch_size: 1, ...(scrollId ? { scroll_id: scrollId } : {}) }, { version: '2.16' });
    assert.equal(r.status, 200, r.msg);
    scrollId = r.data.scroll_id;
    last = r.data;
    if (r.data.returned === 0) break;
    seen.push(...r.data.plots.map(plotId));
    // A newer iteration doesn't move the window under the scroll; a plot of a new metric joins it.
    if (round < 2) await c.ingest([plot(task, 'm', 'a', 10 + round), plot(task, `z${round}`, 'v', 0)]);
  }
  assert.deepEqual(seen, [`${task}/m/a/3`, `${task}/m/a/2`, `${task}/m/b/2`, `${task}/m/b/1`, `${task}/z0/v/0`, `${task}/z1/v/0`]);
  assert.equal(last?.total, 6);
  const sid = (await c.call<Plots>('events.get_task_plots', { task, batch_size: 1 }, UI)).data.scroll_id;
  assertError(await c.call('events.get_task_plots', { task, batch_size: 1, scroll_id: sid, metrics: [{ metric: 'm' }] }, UI), 400, 1104, 'other metrics');
  assertError(await c.call('events.get_task_plots', { task, batch_size: 1, scroll_id: sid }, { version: '2.1' }), 400, 1104, '2.1');
  for (const [body, subcode] of [
    [{ task, no_scroll: 'yes' }, 12],
    [{ task, metrics: [{ metric: 5 }] }, 12],
    [{ task, metrics: [{ variants: [] }] }, 11],
    [{ task, iters: 0 }, 12],
    [{ task, batch_size: 10_001 }, 12],
  ] as Array<[Record<string, unknown>, number]>) {
    assertError(await c.call('events.get_task_plots', body, UI), 400, subcode, JSON.stringify(body));
  }
});

// ------------------------------------------------------------------------------ get_multi_task_plots

/** Pages as the compare view does: while the total is under 10,000 and a page returned plots. */
async function uiMultiPlots(body: Record<string, unknown>): Promise<{ plots: Tree; pages: MultiPlots[] }> {
  const pages: MultiPlots[] = [];
  let merged: Tree = {};
  let data = (await c.call<MultiPlots>('events.get_multi_task_plots', body, UI)).data;
  for (;;) {
    pages.push(data);
    merged = merge(merged, data.plots);
    if (!(data.total < 10_000 && data.returned > 0)) return { plots: merged, pages };
    data = (await c.call<MultiPlots>('events.get_multi_task_plots', { ...body, scroll_id: data.scroll_id }, UI)).data;
  }
}

test('the UI compare view: the last iteration of each task metric, with metrics, paged and merged', async () => {
  const body = {
    tasks: [P, Q],
    metrics: [
      { metric: 'roc', variants: ['v1', 'v2'] },
      { metric: 'cm', variants: ['x'] },
      { metric: 'other', variants: ['o'] },
    ],
    last_iters_per_task_metric: true,
    iters: 1,
  };
  // roc's last iteration in P is 5, where only v1 was reported: v2 (last at 4) does not show.
  const expected = tree([
    [P, 'cm', 'x', 3],
    [P, 'roc', 'v1', 5],
    [Q, 'other', 'o', 0],
    [Q, 'roc', 'v1', 11],
  ]);
  const whole = await uiMultiPlots(body);
  assert.deepEqual(whole.plots, expected);
  assert.deepEqual(
    whole.pages.map((pg) => [pg.returned, pg.total]),
    [
      [4, 4],
      [0, 4],
    ],
  );
  const paged = await uiMultiPlots({ ...body, batch_size: 1 });
  assert.deepEqual(paged.plots, expected);
  assert.equal(paged.pages.length, 5);
  // The older compare view: no_scroll, one answer.
  const once = await c.call<MultiPlots>('events.get_multi_task_plots', { tasks: [P, Q], iters: 1, no_scroll: true }, UI);
  assert.deepEqual([once.data.plots, once.data.returned, once.data.total, once.data.scroll_id], [expected, 4, 4, null]);
  assert.deepEqual((await c.call<MultiPlots>('events.get_multi_task_plots', { tasks: [P, Q] }, { version: '2.16' })).data.plots, expected);
});

test('get_multi_task_plots: last_iters_per_task_metric false takes the task\'s last iterations; metrics selects', async () => {
  const multi = async (body: Record<string, unknown>, version: string) => {
    const r = await c.call<MultiPlots>('events.get_multi_task_plots', body, { version });
    assert.equal(r.status, 200, r.msg);
    return r.data;
  };
  const perTask = await multi({ tasks: [P, Q], iters: 2, last_iters_per_task_metric: false }, '2.26');
  assert.deepEqual(
    perTask.plots,
    tree([
      [P, 'roc', 'v1', 5],
      [P, 'roc', 'v1', 4],
      [P, 'roc', 'v2', 4],
      [Q, 'roc', 'v1', 11],
      [Q, 'roc', 'v1', 10],
    ]),
  );
  assert.equal(perTask.total, 5);
  // Before 2.26 the field is unknown: the window is per task metric.
  assert.equal((await multi({ tasks: [P, Q], iters: 2, last_iters_per_task_metric: false }, '2.22')).total, 7);
  // metrics narrows what the window counts, too: roc's last v2 iteration is 4.
  assert.deepEqual((await multi({ tasks: [P, Q], metrics: [{ metric: 'roc', variants: ['v2'] }] }, '2.28')).plots, tree([[P, 'roc', 'v2', 4]]));
  assert.equal((await multi({ tasks: [P, Q], metrics: [{ metric: 'roc', variants: ['v2'] }] }, '2.26')).total, 4);
  // A cursor belongs to its window and filter.
  const sid = (await multi({ tasks: [P, Q], batch_size: 1, last_iters_per_task_metric: false }, '2.28')).scroll_id;
  assertError(await c.call('events.get_multi_task_plots', { tasks: [P, Q], batch_size: 1, scroll_id: sid }, UI), 400, 1104, 'other window');
  assertError(await c.call('events.get_multi_task_plots', { tasks: [P, Q], batch_size: 1, last_iters_per_task_metric: false, scroll_id: sid, metrics: [{ metric: 'roc' }] }, UI), 400, 1104, 'other metrics');
  assertError(await c.call('events.get_multi_task_plots', { tasks: [P, Q], batch_size: 1, scroll_id: sid }, { version: '2.1' }), 400, 1104, '2.1');
  for (const [body, subcode] of [
    [{ tasks: [P], last_iters_per_task_metric: 'no' }, 12],
    [{ tasks: [P], no_scroll: 1 }, 12],
    [{ tasks: [P], metrics: [{ metric: ['roc'] }] }, 12],
    [{ tasks: [] }, 12],
    [{ tasks: [P, ''] }, 101],
    [{}, 11],
  ] as Array<[Record<string, unknown>, number]>) {
    assertError(await c.call('events.get_multi_task_plots', body, UI), 400, subcode, JSON.stringify(body));
  }
  const unknown = await multi({ tasks: ['no-such-task'], metrics: [{ metric: 'roc' }], no_scroll: true }, '2.28');
  assert.deepEqual([unknown.plots, unknown.returned, unknown.total, unknown.scroll_id], [{}, 0, 0, null]);
});
