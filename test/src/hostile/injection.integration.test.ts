/**
 * Injection through every string parameter of every read endpoint. Tasks whose ids, metric,
 * variant, key, message and worker names are quotes, backslashes, `{braces}`, `{x:String}`
 * placeholders, SQL fragments, NUL and control characters and unicode are stored through the
 * gateway by two tenants; each reads back exactly, through every endpoint, with only its own
 * rows. The same strings in parameters that name nothing (metric, variant, tasks[] entries,
 * scroll_id, line_format, order/from/key/line_type) give empty results or clear 400s: never a
 * 5xx, never a storage error text, never another task's or tenant's row. Deletes with such ids
 * delete the caller's rows only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJson, stringifyJson } from '@trackstream/api';
import { isValidTaskId } from '@trackstream/event-schema';
import type { Pipeline } from '../helpers/pipeline';
import {
  agent,
  assertAlive,
  checkReply,
  CONTROL_STRINGS,
  Findings,
  forceGc,
  HOSTILE_STRINGS,
  pool,
  RSS_GROWTH_LIMIT_MB,
  rssMb,
  send,
  startAuthPipeline,
  TENANT_A,
  TENANT_B,
  type Envelope,
  type RawReply,
} from './support';

const SEED = Number(process.env['HOSTILE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const T0 = Date.UTC(2024, 0, 1);
const B_MARK = 'B-secret';
const VICTIM = 'victim-task';
const VICTIM_METRIC = 'victim-metric';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The hostile names: the fixed list, control characters and random unicode (seeded). */
const NAMES: string[] = (() => {
  const random = fc.sample(
    fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 12 })),
    { numRuns: 10, seed: SEED },
  );
  const all = [...HOSTILE_STRINGS, ...CONTROL_STRINGS, 'tab\tand\nnewline\r\n', '\u0000', '\\', "'", '"', '{', '}', '{{', '}}', ...random];
  return [...new Set(all)].filter((s) => s !== '' && !LONE_SURROGATE.test(s) && !s.startsWith('ctl-') && s !== VICTIM);
})();

interface Seeded {
  name: string;
  task: string;
  index: number;
}
/** Each name's task: the name itself when it is a valid task id, `ctl-<i>` otherwise. */
const SEEDED: Seeded[] = NAMES.map((name, index) => ({ name, index, task: isValidTaskId(name) ? name : `ctl-${index}` }));

/** Tenant A's events of a name; tenant B's are the same identities with other content. */
function eventsOf(s: Seeded, tenantB: boolean): Array<Record<string, unknown>> {
  const { name, task, index } = s;
  const t = T0 + index * 10;
  const v = (k: number) => (tenantB ? 1000 + index : index + k / 4);
  const text = (x: string) => (tenantB ? `${B_MARK} ${x}` : x);
  return [
    { type: 'training_stats_scalar', task, iter: 0, timestamp: t, metric: name, variant: name, value: v(1) },
    { type: 'training_stats_scalar', task, iter: 1, timestamp: t + 1, metric: name, variant: name, value: v(2) },
    { type: 'training_stats_vector', task, iter: 0, timestamp: t + 2, metric: name, variant: name, values: [v(1), v(3)] },
    { type: 'training_debug_image', task, iter: 0, timestamp: t + 3, metric: name, variant: name, key: name, url: text(`s3://b/${index}`) },
    { type: 'plot', task, iter: 0, timestamp: t + 4, metric: name, variant: name, plot_str: text(`{"i":${index}}`) },
    { type: 'log', task, timestamp: t + 5, level: 'info', worker: tenantB ? B_MARK : name, msg: tenantB ? B_MARK : name },
  ];
}

let p: Pipeline;
let cleanup: () => Promise<void>;
let rss0 = 0;
const runs: Findings[] = [];

async function addAll(events: Array<Record<string, unknown>>, headers: Record<string, string>): Promise<void> {
  const r = await send(p.url, { path: '/events.add_batch', headers: { 'content-type': 'application/json-lines', ...headers }, body: events.map((e) => stringifyJson(e)).join('\n') });
  const e = parseJson(r.body.toString(), 100) as Envelope;
  assert.equal(r.status, 200, e.meta.result_msg);
  assert.deepEqual(e.data, { added: events.length, errors: 0, errors_info: {} });
}

before(async () => {
  console.log(`[hostile] seed ${SEED}: ${NAMES.length} hostile names, ${SEEDED.filter((s) => s.task === s.name).length} of them task ids`);
  ({ p, cleanup } = await startAuthPipeline());
  const victim = [
    { type: 'training_stats_scalar', task: VICTIM, iter: 0, timestamp: T0, metric: VICTIM_METRIC, variant: VICTIM_METRIC, value: -1 },
    { type: 'training_stats_vector', task: VICTIM, iter: 0, timestamp: T0, metric: VICTIM_METRIC, variant: VICTIM_METRIC, values: [-1] },
    { type: 'training_debug_image', task: VICTIM, iter: 0, timestamp: T0, metric: VICTIM_METRIC, variant: VICTIM_METRIC, key: VICTIM_METRIC, url: VICTIM_METRIC },
    { type: 'plot', task: VICTIM, iter: 0, timestamp: T0, metric: VICTIM_METRIC, variant: VICTIM_METRIC, plot_str: VICTIM_METRIC },
    { type: 'log', task: VICTIM, timestamp: T0, msg: VICTIM_METRIC },
  ];
  await addAll([...victim, ...SEEDED.flatMap((s) => eventsOf(s, false))], TENANT_A.headers);
  await addAll(SEEDED.flatMap((s) => eventsOf(s, true)), TENANT_B.headers);
  for (const [table, per] of [
    ['scalars', 2],
    ['vectors', 1],
    ['images', 1],
    ['plots', 1],
    ['logs', 1],
  ] as const) {
    await p.waitForCount(`SELECT count() FROM ${table} FINAL`, (SEEDED.length * 2 + 1) * per - (per === 2 ? 1 : 0), {}, 60_000);
  }
  await assertAlive(p, TENANT_A.headers, 'after seeding');
  forceGc();
  rss0 = rssMb();
});

after(async () => {
  for (const f of runs) console.log(`[hostile] ${f.summary()}`);
  agent.destroy();
  await cleanup?.();
});

/** A read as tenant A (or `headers`): the checked envelope (or raw text for downloads). */
async function read(f: Findings, category: string, endpoint: string, body: Record<string, unknown>, headers: Record<string, string> = TENANT_A.headers): Promise<{ r?: RawReply; e?: Envelope }> {
  f.count(category);
  const path = `/${endpoint}`;
  let r: RawReply;
  try {
    r = await send(p.url, { path, headers: { 'content-type': 'application/json', ...headers }, body: stringifyJson(body) });
  } catch (err) {
    f.add(`connection failed: ${String(err)}`, `${endpoint} ${JSON.stringify(body)}`);
    return {};
  }
  const { problem, envelope } = checkReply(r, { download: endpoint === 'events.download_task_log' });
  f.code(envelope ? `${envelope.meta.result_code}/${envelope.meta.result_subcode}` : String(r.status));
  if (problem) f.add(problem, `${endpoint} ${JSON.stringify(body).slice(0, 300)} -> ${r.status} ${r.body.toString().slice(0, 300)}`);
  // Whatever the request, tenant A never sees tenant B's rows, nor the victim's unless asking for it.
  const text = r.body.toString('utf8');
  if (headers === TENANT_A.headers && text.includes(B_MARK)) f.add("tenant B's rows in tenant A's answer", `${endpoint} ${JSON.stringify(body).slice(0, 300)}`);
  const asksVictim = JSON.stringify(body).includes(VICTIM);
  if (!asksVictim && text.includes(VICTIM_METRIC)) f.add("the victim task's rows in an answer about another task", `${endpoint} ${JSON.stringify(body).slice(0, 300)}`);
  return { r, ...(envelope ? { e: envelope } : {}) };
}

function expectEqual(f: Findings, what: string, actual: unknown, expected: unknown): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch {
    f.add(`${what.split(':')[0]}: not read back exactly`, `${what}: got ${stringifyJson(actual).slice(0, 400)} expected ${stringifyJson(expected).slice(0, 400)}`);
  }
}

test('hostile task, metric, variant, key, message and worker names read back exactly through every endpoint, own rows only', async () => {
  const f = new Findings();
  runs.push(f);
  await pool(SEEDED, 6, async (s) => {
    const { name, task, index } = s;
    const v1 = index + 0.25;
    const v2 = index + 0.5;
    const cat = 'stored-names';
    const ok = async (endpoint: string, body: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
      const { e } = await read(f, cat, endpoint, body);
      if (!e || e.meta.result_code !== 200) {
        f.add(`${endpoint}: not 200 for a stored name`, `${JSON.stringify(body).slice(0, 200)} -> ${e?.meta.result_code}/${e?.meta.result_subcode} ${e?.meta.result_msg}`);
        return undefined;
      }
      return e.data;
    };
    const w = `[name ${JSON.stringify(name)}]`;

    const images = await ok('v2.1/events.debug_images', { task });
    if (images) {
      expectEqual(f, `debug_images: ${w}`, [images['task'], (images['images'] as Array<Record<string, unknown>>).map((i) => [i['task'], i['metric'], i['variant'], i['key'], i['url']])], [task, [[task, name, name, name, `s3://b/${index}`]]]);
    }
    // The current forms: names in the request select, and come back, exactly.
    const img = (i: Record<string, unknown>) => [i['task'], i['metric'], i['variant'], i['key'], i['url']];
    const stored = [task, name, name, name, `s3://b/${index}`];
    const imageScroll = await ok('events.debug_images', { metrics: [{ task, metric: name, variants: [name] }], iters: 3 });
    if (imageScroll) expectEqual(f, `debug_images 2.22: ${w}`, (imageScroll['metrics'] as Array<{ task: string; iterations: Array<{ iter: number; events: Array<Record<string, unknown>> }> }>).map((m) => [m.task, m.iterations.map((it) => [it.iter, it.events.map(img)])]), [[task, [[0, [stored]]]]]);
    const plotScroll = await ok('events.plots', { metrics: [{ task, metric: name, variants: [name] }] });
    if (plotScroll) expectEqual(f, `plots: ${w}`, (plotScroll['metrics'] as Array<{ iterations: Array<{ events: Array<Record<string, unknown>> }> }>).flatMap((m) => m.iterations.flatMap((it) => it.events.map((x) => [x['metric'], x['variant'], x['plot_str']]))), [[name, name, `{"i":${index}}`]]);
    const sample = await ok('events.get_debug_image_sample', { task, metric: name, variant: name });
    if (sample) expectEqual(f, `get_debug_image_sample: ${w}`, [img(sample['event'] as Record<string, unknown>), sample['min_iteration'], sample['max_iteration']], [stored, 0, 0]);
    const plotSample = await ok('events.get_plot_sample', { task, metric: name });
    if (plotSample) expectEqual(f, `get_plot_sample: ${w}`, (plotSample['events'] as Array<Record<string, unknown>>).map((x) => [x['metric'], x['variant']]), [[name, name]]);
    const tm = await ok('events.get_task_metrics', { tasks: [task], event_type: 'training_debug_image' });
    if (tm) expectEqual(f, `get_task_metrics: ${w}`, tm, { metrics: [{ task, metrics: [name] }] });
    const mtm = await ok('events.get_multi_task_metrics', { tasks: [task], event_type: 'plot' });
    if (mtm) expectEqual(f, `get_multi_task_metrics: ${w}`, mtm, { metrics: [{ metric: name, variants: [name] }] });
    const log = await ok('events.get_task_log', { task });
    if (log) expectEqual(f, `get_task_log: ${w}`, (log['events'] as Array<Record<string, unknown>>).map((e) => [e['task'], e['msg'], e['worker']]), [[task, name, name]]);
    const all = await ok('events.get_task_events', { task });
    if (all) {
      const events = all['events'] as Array<Record<string, unknown>>;
      expectEqual(f, `get_task_events: ${w}`, [all['total'], events.length, events.every((e) => e['task'] === task)], [6, 6, true]);
    }
    // The name as a metric filter: its events of every metric kind, by iteration (the log has no metric).
    const named = await ok('events.get_task_events', { task, metrics: [{ metric: name, variants: [name] }] });
    if (named) {
      const expected = eventsOf(s, false)
        .filter((e) => e['type'] !== 'log')
        .sort((a, b) => Number(a['iter']) - Number(b['iter']) || Number(a['timestamp']) - Number(b['timestamp']))
        .map((e) => [e['type'], e['task'], e['metric'], e['variant'], e['iter']]);
      const events = named['events'] as Array<Record<string, unknown>>;
      expectEqual(f, `get_task_events metrics: ${w}`, [named['total'], events.map((e) => [e['type'], e['task'], e['metric'], e['variant'], e['iter']])], [expected.length, expected]);
    }
    const { r: dl } = await read(f, cat, 'events.download_task_log', { task, line_type: 'text', line_format: '{msg}|{worker}' });
    if (dl) expectEqual(f, `download_task_log: ${w}`, [dl.status, dl.body.toString('utf8')], [200, `${name}|${name}\n`]);
    const { r: dlJson } = index % 3 === 0 ? await read(f, cat, 'events.download_task_log', { task }) : {};
    if (dlJson) {
      const lines = dlJson.body.toString('utf8').split('\n').filter((l) => l !== '');
      expectEqual(f, `download_task_log json: ${w}`, lines.map((l) => (JSON.parse(l) as { msg: string }).msg), [name]);
    }
    const plots = await ok('events.get_task_plots', { task });
    if (plots) expectEqual(f, `get_task_plots: ${w}`, (plots['plots'] as Array<Record<string, unknown>>).map((x) => [x['task'], x['metric'], x['variant'], x['plot_str']]), [[task, name, name, `{"i":${index}}`]]);
    const namedPlots = await ok('events.get_task_plots', { task, metrics: [{ metric: name, variants: [name] }], no_scroll: true });
    if (namedPlots) expectEqual(f, `get_task_plots metrics: ${w}`, (namedPlots['plots'] as Array<Record<string, unknown>>).map((x) => [x['task'], x['metric'], x['variant']]), [[task, name, name]]);
    const namedMulti = await ok('events.get_multi_task_plots', { tasks: [task, VICTIM], metrics: [{ metric: name }] });
    if (namedMulti) expectEqual(f, `get_multi_task_plots metrics: ${w}`, [Object.keys(namedMulti['plots'] as object), namedMulti['total']], [[name], 1]);
    const multi = await ok('events.get_multi_task_plots', { tasks: [task, VICTIM] });
    if (multi) {
      const tree = multi['plots'] as Record<string, Record<string, Record<string, Record<string, { name: string; plots: Array<Record<string, unknown>> }>>>>;
      expectEqual(f, `get_multi_task_plots: ${w}`, [Object.keys(tree).sort(), tree[name]?.[name]?.[task]?.['0']?.name, tree[name]?.[name]?.[task]?.['0']?.plots.length, multi['total']], [[name, VICTIM_METRIC].sort(), task, 1, 2]);
    }
    const vm = await ok('events.get_vector_metrics_and_variants', { task });
    if (vm) expectEqual(f, `get_vector_metrics_and_variants: ${w}`, vm, { metrics: [{ metric: name, variants: [name] }] });
    const vh = await ok('events.vector_metrics_iter_histogram', { task, metric: name, variant: name });
    if (vh) expectEqual(f, `vector_metrics_iter_histogram: ${w}`, vh, { metric: name, variant: name, vectors: [[v1, index + 0.75]], iterations: [0] });
    const hist = await ok('events.scalar_metrics_iter_histogram', { task });
    if (hist) {
      const series = (hist as Record<string, Record<string, { name: string; x: number[]; y: number[] }>>)[name]?.[name];
      expectEqual(f, `scalar_metrics_iter_histogram: ${w}`, [Object.keys(hist), series?.name, series?.x, series?.y], [[name], name, [0, 1], [v1, v2]]);
    }
    const mh = await ok('events.multi_task_scalar_metrics_iter_histogram', { tasks: [task] });
    if (mh) {
      const m = (mh['metrics'] as Record<string, Record<string, Record<string, { name: string; y: number[] }>>>)[name]?.[name];
      expectEqual(f, `multi_task_scalar_metrics_iter_histogram: ${w}`, [Object.keys(mh['metrics'] as object), m && Object.keys(m), m?.[task]?.name, m?.[task]?.y], [[name], [task], task, [v1, v2]]);
    }
    const latest = await ok('events.get_task_latest_scalar_values', { task });
    if (latest) expectEqual(f, `get_task_latest_scalar_values: ${w}`, latest['metrics'], [{ name, variants: [{ name, last_value: v2, last_100_value: (v1 + v2) / 2 }] }]);
    const mv = await ok('events.get_scalar_metrics_and_variants', { task });
    if (mv) expectEqual(f, `get_scalar_metrics_and_variants: ${w}`, mv, { metrics: { [name]: [name] } });
    const data = await ok('events.get_scalar_metric_data', { task, metric: name });
    if (data) expectEqual(f, `get_scalar_metric_data: ${w}`, (data['events'] as Array<Record<string, unknown>>).map((e) => [e['task'], e['metric'], e['variant'], e['value']]), [
      [task, name, name, v2],
      [task, name, name, v1],
    ]);
    const raw = await ok('events.scalar_metrics_iter_raw', { task, metric: { metric: name, variants: [name] }, count_total: true });
    if (raw) expectEqual(f, `scalar_metrics_iter_raw: ${w}`, raw, { variants: { [name]: { y: [v1, v2], iter: [0, 1] } }, returned: 2, total: 2, scroll_id: raw['scroll_id'] });
    if (index % 3 === 2) {
      // Streamed answers (every point), the names as keys and filters.
      const iso = (ms: number) => new Date(ms).toISOString();
      const t = T0 + index * 10;
      const every = await ok('events.scalar_metrics_iter_histogram', { task, samples: 0, key: 'iso_time', metrics: [{ metric: name, variants: [name] }] });
      if (every) {
        const series = (every as Record<string, Record<string, { name: string; x: string[]; y: number[] }>>)[name]?.[name];
        expectEqual(f, `scalar_metrics_iter_histogram samples 0: ${w}`, [Object.keys(every), series?.name, series?.x, series?.y], [[name], name, [iso(t), iso(t + 1)], [v1, v2]]);
      }
      const everyMulti = await ok('events.multi_task_scalar_metrics_iter_histogram', { tasks: [task], samples: 0 });
      if (everyMulti) {
        const m = (everyMulti['metrics'] as Record<string, Record<string, Record<string, { name: string; x: number[]; y: number[] }>>>)[name]?.[name];
        expectEqual(f, `multi_task_scalar_metrics_iter_histogram samples 0: ${w}`, [m && Object.keys(m), m?.[task]?.name, m?.[task]?.x, m?.[task]?.y], [[task], task, [0, 1], [v1, v2]]);
      }
    }
    // Paging with hostile names inside the cursor (for a third of the names): one row per page, every row once.
    if (index % 3 !== 1) return;
    const rawPages: unknown[] = [];
    let rawScroll: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await ok('events.scalar_metrics_iter_raw', { task, metric: { metric: name }, batch_size: 1, ...(rawScroll ? { scroll_id: rawScroll } : {}) });
      const variants = (page?.['variants'] as Record<string, { y: number[]; iter: number[] }> | undefined) ?? {};
      if (Object.keys(variants).length === 0) break;
      rawPages.push(...Object.entries(variants).map(([v, cols]) => [v, cols.iter, cols.y]));
      rawScroll = page?.['scroll_id'] as string;
    }
    expectEqual(f, `scalar_metrics_iter_raw pages: ${w}`, rawPages, [
      [name, [0], [v1]],
      [name, [1], [v2]],
    ]);
    let scroll: string | undefined;
    const paged: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const page = await ok('events.get_task_events', { task, batch_size: 1, ...(scroll ? { scroll_id: scroll } : {}) });
      const evs = (page?.['events'] as unknown[] | undefined) ?? [];
      if (evs.length === 0) break;
      paged.push(...evs);
      scroll = page?.['scroll_id'] as string;
    }
    expectEqual(f, `get_task_events pages: ${w}`, paged.length, 6);
  });
  await assertAlive(p, TENANT_A.headers, 'after reading the hostile names');
  f.assertNone(`stored hostile names (seed ${SEED})`);
});

test('hostile strings in every string parameter: empty results or clear 400s, never a 5xx or a leak', async () => {
  const f = new Findings();
  runs.push(f);
  const requests: Array<{ endpoint: string; body: Record<string, unknown>; expect: 'empty' | 'task' | 'enum' | 'scroll' | 'format' | 'victim-only' }> = [];
  // Each name tries every parameter; where a parameter is on many endpoints, a rotating few of them.
  const rotate = <T>(list: readonly T[], i: number, n: number): T[] => Array.from({ length: Math.min(n, list.length) }, (_, k) => list[(i * n + k) % list.length] as T);
  for (const [i, h] of NAMES.entries()) {
    const unknownTask = `${h}-unknown`;
    // Names that name nothing stored: empty results.
    requests.push({ endpoint: 'events.vector_metrics_iter_histogram', body: { task: VICTIM, metric: h, variant: VICTIM_METRIC }, expect: 'empty' });
    requests.push({ endpoint: 'events.vector_metrics_iter_histogram', body: { task: VICTIM, metric: VICTIM_METRIC, variant: h }, expect: 'empty' });
    requests.push({ endpoint: 'events.get_scalar_metric_data', body: { task: VICTIM, metric: h }, expect: 'empty' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_raw', body: { task: VICTIM, metric: { metric: h }, count_total: true }, expect: 'empty' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_raw', body: { task: VICTIM, metric: { metric: VICTIM_METRIC, variants: [h] } }, expect: 'empty' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_histogram', body: { task: VICTIM, samples: i % 2 === 0 ? 0 : 10, metrics: [{ metric: h }, { metric: VICTIM_METRIC, variants: [h] }] }, expect: 'empty' });
    requests.push({ endpoint: 'events.multi_task_scalar_metrics_iter_histogram', body: { tasks: [VICTIM], samples: i % 2 === 0 ? 10 : 0, metrics: [{ metric: h }] }, expect: 'empty' });
    requests.push({ endpoint: 'events.get_task_single_value_metrics', body: { tasks: [VICTIM], metrics: [{ metric: h, variants: [h] }] }, expect: 'empty' });
    // Unknown (or invalid) task ids, alone or beside the victim in tasks[].
    for (const endpoint of rotate(['v2.1/events.debug_images', 'events.get_task_log', 'events.get_task_events', 'events.get_task_plots', 'events.get_vector_metrics_and_variants', 'events.scalar_metrics_iter_histogram', 'events.get_task_latest_scalar_values', 'events.get_scalar_metrics_and_variants', 'events.download_task_log'], i, 4)) {
      requests.push({ endpoint, body: { task: unknownTask }, expect: 'task' });
    }
    requests.push({ endpoint: 'events.get_scalar_metric_data', body: { task: unknownTask, metric: h }, expect: 'task' });
    requests.push({ endpoint: 'events.vector_metrics_iter_histogram', body: { task: unknownTask, metric: h, variant: h }, expect: 'task' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_raw', body: { task: unknownTask, metric: { metric: h } }, expect: 'task' });
    requests.push({ endpoint: 'events.get_multi_task_plots', body: { tasks: [VICTIM, unknownTask] }, expect: 'victim-only' });
    requests.push({ endpoint: 'events.multi_task_scalar_metrics_iter_histogram', body: { tasks: [VICTIM, unknownTask] }, expect: 'victim-only' });
    // Enumerations never match a hostile string.
    requests.push({ endpoint: 'events.get_task_log', body: { task: VICTIM, order: h }, expect: 'enum' });
    // `from` and cursors are get_task_log 1.7's; 2.9 on navigates by timestamp.
    requests.push({ endpoint: 'v1.7/events.get_task_log', body: { task: VICTIM, from: h }, expect: 'enum' });
    requests.push({ endpoint: 'events.get_task_events', body: { task: VICTIM, order: h }, expect: 'enum' });
    requests.push({ endpoint: 'events.get_task_events', body: { task: VICTIM, event_type: h }, expect: 'enum' });
    // A hostile metric filter names nothing stored.
    requests.push({ endpoint: 'events.get_task_events', body: { task: VICTIM, metrics: [{ metric: h }, { metric: VICTIM_METRIC, variants: [h] }] }, expect: 'empty' });
    requests.push({ endpoint: 'events.get_task_plots', body: { task: VICTIM, metrics: [{ metric: h, variants: [VICTIM_METRIC] }] }, expect: 'empty' });
    requests.push({ endpoint: 'events.get_multi_task_plots', body: { tasks: [VICTIM], metrics: [{ metric: h }] }, expect: 'empty' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_histogram', body: { task: VICTIM, key: h }, expect: 'enum' });
    requests.push({ endpoint: 'events.multi_task_scalar_metrics_iter_histogram', body: { tasks: [VICTIM], key: h }, expect: 'enum' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_raw', body: { task: VICTIM, metric: { metric: VICTIM_METRIC }, key: h }, expect: 'enum' });
    requests.push({ endpoint: 'events.download_task_log', body: { task: VICTIM, line_type: h }, expect: 'enum' });
    // Cursors: a hostile string is never a valid one.
    for (const endpoint of rotate(['v2.1/events.debug_images', 'v1.7/events.get_task_log', 'events.get_task_events', 'events.get_task_plots', 'events.get_scalar_metric_data', 'events.next_debug_image_sample', 'events.next_plot_sample'], i, 2)) {
      requests.push({ endpoint, body: { task: VICTIM, metric: VICTIM_METRIC, scroll_id: h }, expect: 'scroll' });
    }
    requests.push({ endpoint: 'events.get_multi_task_plots', body: { tasks: [VICTIM], scroll_id: h }, expect: 'scroll' });
    requests.push({ endpoint: 'events.scalar_metrics_iter_raw', body: { task: VICTIM, metric: { metric: VICTIM_METRIC }, scroll_id: h }, expect: 'scroll' });
    // A line format is literal text with {placeholders}: rendered as such, or 400/12.
    requests.push({ endpoint: 'events.download_task_log', body: { task: VICTIM, line_type: 'text', line_format: h }, expect: 'format' });
    requests.push({ endpoint: 'events.download_task_log', body: { task: VICTIM, line_type: 'text', line_format: `${h}{msg}${h}` }, expect: 'format' });
  }
  const emptyData = (endpoint: string, d: Record<string, unknown>): boolean => {
    switch (endpoint) {
      case 'events.vector_metrics_iter_histogram':
        return (d['vectors'] as unknown[]).length === 0 && (d['iterations'] as unknown[]).length === 0;
      case 'v2.1/events.debug_images':
        return (d['images'] as unknown[]).length === 0;
      case 'events.get_task_log':
      case 'events.get_task_events':
      case 'events.get_scalar_metric_data':
        return (d['events'] as unknown[]).length === 0 && d['total'] === 0;
      case 'events.get_task_plots':
        return (d['plots'] as unknown[]).length === 0;
      case 'events.get_multi_task_plots':
        return Object.keys(d['plots'] as object).length === 0 && d['total'] === 0;
      case 'events.get_vector_metrics_and_variants':
      case 'events.get_task_latest_scalar_values':
        return (d['metrics'] as unknown[]).length === 0;
      case 'events.scalar_metrics_iter_raw':
        return Object.keys(d['variants'] as object).length === 0 && d['returned'] === 0;
      case 'events.get_task_single_value_metrics':
        return (d['tasks'] as unknown[]).length === 0;
      default:
        return Object.keys((d['metrics'] as object | undefined) ?? d).length === 0;
    }
  };
  await pool(requests, 8, async (q) => {
    const { r, e } = await read(f, `param-${q.expect}`, q.endpoint, q.body);
    if (!r) return;
    const what = `${q.endpoint} ${JSON.stringify(q.body).slice(0, 200)}`;
    const code = e ? `${e.meta.result_code}/${e.meta.result_subcode}` : String(r.status);
    switch (q.expect) {
      case 'empty':
        if (code !== '200/0' || !emptyData(q.endpoint, e?.data ?? {})) f.add(`${q.endpoint}: an unknown name did not read as empty`, `${what} -> ${code} ${r.body.toString().slice(0, 300)}`);
        break;
      case 'task': {
        const task = (q.body['task'] as string) ?? '';
        const valid = isValidTaskId(task);
        if (q.endpoint === 'events.download_task_log') {
          if (valid ? r.status !== 200 || r.body.length !== 0 : code !== '400/101') f.add('download of an unknown task: not empty / not 400/101', `${what} -> ${code}`);
        } else if (valid ? code !== '200/0' || !emptyData(q.endpoint, e?.data ?? {}) : code !== '400/101') {
          f.add(`${q.endpoint}: an unknown task id did not read as empty (or 400/101 when invalid)`, `${what} -> ${code} ${r.body.toString().slice(0, 300)}`);
        }
        break;
      }
      case 'victim-only': {
        const task = (q.body['tasks'] as string[])[1] as string;
        if (!isValidTaskId(task)) {
          if (code !== '400/101') f.add(`${q.endpoint}: invalid task id in tasks[] not 400/101`, `${what} -> ${code}`);
          break;
        }
        const text = r.body.toString('utf8');
        if (code !== '200/0' || !text.includes(VICTIM_METRIC)) f.add(`${q.endpoint}: the victim's rows missing beside an unknown task`, `${what} -> ${code}`);
        const data = e?.data ?? {};
        const tasksSeen = new Set<string>();
        const tree = (q.endpoint === 'events.get_multi_task_plots' ? data['plots'] : data['metrics']) as Record<string, Record<string, Record<string, unknown>>>;
        for (const byVariant of Object.values(tree ?? {})) for (const byTask of Object.values(byVariant)) for (const t of Object.keys(byTask)) tasksSeen.add(t);
        expectEqual(f, `${q.endpoint} tasks[]: ${what}`, [...tasksSeen], [VICTIM]);
        break;
      }
      case 'enum':
        if (code !== '400/12') f.add(`${q.endpoint}: a hostile enum value not 400/12`, `${what} -> ${code}`);
        break;
      case 'scroll':
        if (code !== '400/1104') f.add(`${q.endpoint}: a hostile scroll_id not 400/1104`, `${what} -> ${code}`);
        break;
      case 'format': {
        if (code === '400/12') break;
        if (r.status !== 200) {
          f.add('line_format: neither rendered nor 400/12', `${what} -> ${code}`);
          break;
        }
        // Rendered: the format's literal text, `{{`/`}}` as braces, {msg} as the message, trailing newlines cut, one added.
        const format = q.body['line_format'] as string;
        const literal = (s: string) => s.replaceAll('{{', '{').replaceAll('}}', '}');
        const [before = '', after = ''] = format.includes('{msg}') ? format.split('{msg}') : [format, ''];
        const expected = `${(format.includes('{msg}') ? literal(before) + VICTIM_METRIC + literal(after) : literal(before)).replace(/\n+$/, '')}\n`;
        expectEqual(f, `line_format: ${what}`, r.body.toString('utf8'), expected);
        break;
      }
    }
  });
  await assertAlive(p, TENANT_A.headers, 'after hostile parameters');
  f.assertNone(`hostile parameters (seed ${SEED})`);
});

test('hostile strings as query-string parameters', async () => {
  const f = new Findings();
  runs.push(f);
  await pool(NAMES, 8, async (h) => {
    const q = encodeURIComponent(h);
    for (const [path, expectEmpty] of [
      [`/events.get_scalar_metric_data?task=${encodeURIComponent(VICTIM)}&metric=${q}`, true],
      [`/events.vector_metrics_iter_histogram?task=${encodeURIComponent(VICTIM)}&metric=${q}&variant=${q}`, true],
      [`/events.get_task_log?task=${q}&order=${q}`, false],
      [`/v2.23/events.multi_task_scalar_metrics_iter_histogram?tasks[]=${q}&tasks[]=${encodeURIComponent(VICTIM)}`, false],
      [`/events.get_scalar_metrics_and_variants?task=${q}`, false],
    ] as const) {
      f.count('query-string');
      const r = await send(p.url, { method: 'GET', path, headers: TENANT_A.headers });
      const { problem, envelope } = checkReply(r);
      f.code(envelope ? `${envelope.meta.result_code}/${envelope.meta.result_subcode}` : String(r.status));
      if (problem) f.add(problem, `${path} -> ${r.body.toString().slice(0, 300)}`);
      if (r.body.toString().includes(B_MARK)) f.add("tenant B's rows", path);
      if (expectEmpty && envelope?.meta.result_code === 200 && r.body.toString().includes(`"${VICTIM_METRIC}"`) && !h.includes(VICTIM_METRIC)) {
        const d = envelope.data;
        if (((d['events'] as unknown[]) ?? (d['vectors'] as unknown[])).length > 0) f.add('rows for a name that was not asked for', path);
      }
    }
  });
  f.assertNone(`query-string parameters (seed ${SEED})`);
});

test('lone surrogates are stored as U+FFFD, and asking with them finds those rows', async () => {
  const metric = 'lone\ud800surrogate';
  await addAll([{ type: 'training_stats_scalar', task: VICTIM, iter: 5, timestamp: T0 + 5, metric, variant: 'v', value: 5 }], TENANT_A.headers);
  await p.waitForCount("SELECT count() FROM scalars FINAL WHERE task = {t:String} AND metric = 'lone\uFFFDsurrogate'", 1, { t: VICTIM }, 30_000);
  const r = await send(p.url, { path: '/events.get_scalar_metric_data', headers: { 'content-type': 'application/json', ...TENANT_A.headers }, body: stringifyJson({ task: VICTIM, metric }) });
  const e = parseJson(r.body.toString(), 100) as Envelope;
  assert.equal(r.status, 200);
  assert.deepEqual((e.data['events'] as Array<{ metric: string; value: number }>).map((x) => [x.metric, x.value]), [['lone\ufffdsurrogate', 5]]);
});

test('hostile names as single values read back exactly, own tenant only', async () => {
  const f = new Findings();
  runs.push(f);
  const single = (s: Seeded, tenantB: boolean) => ({
    type: 'training_stats_scalar',
    task: `single-${s.index}`,
    iter: -2147483648,
    timestamp: T0 + s.index,
    metric: s.name,
    variant: tenantB ? `${B_MARK} ${s.name}` : s.name,
    value: tenantB ? -1 : s.index + 0.125,
  });
  await addAll(SEEDED.map((s) => single(s, false)), TENANT_A.headers);
  await addAll(SEEDED.map((s) => single(s, true)), TENANT_B.headers);
  await p.waitForCount("SELECT count() FROM scalars FINAL WHERE startsWith(task, 'single-')", SEEDED.length * 2, {}, 60_000);
  const groups: Seeded[][] = [];
  for (let i = 0; i < SEEDED.length; i += 50) groups.push(SEEDED.slice(i, i + 50));
  await pool(groups, 4, async (group) => {
    const tasks = group.map((s) => `single-${s.index}`);
    const { e } = await read(f, 'single-values', 'events.get_task_single_value_metrics', { tasks: [...tasks].reverse() });
    const want = [...group].reverse().map((s) => ({ task: `single-${s.index}`, task_name: `single-${s.index}`, values: [{ metric: s.name, variant: s.name, value: s.index + 0.125, timestamp: T0 + s.index }] }));
    expectEqual(f, `get_task_single_value_metrics: ${tasks[0]}..`, e?.data, { tasks: want });
  });
  f.assertNone(`hostile single values (seed ${SEED})`);
});

test("deletes with hostile task ids remove the caller's rows only", async () => {
  // The ids most likely to break out of a statement (each delete waits for the writer: a dozen).
  const tasks = SEEDED.filter((s) => s.task === s.name && /['"\\{}`;]/.test(s.name))
    .map((s) => s.task)
    .slice(0, 12);
  const f = new Findings();
  runs.push(f);
  // Tenant B deletes every hostile task of its own; tenant A's stay whole.
  await pool(tasks, 8, async (task) => {
    f.count('delete');
    const r = await send(p.url, { path: '/events.delete_for_task', headers: { 'content-type': 'application/json', ...TENANT_B.headers }, body: stringifyJson({ task }) });
    const { problem, envelope } = checkReply(r);
    if (problem) f.add(problem, `delete ${JSON.stringify(task)} -> ${r.body.toString().slice(0, 200)}`);
    else expectEqual(f, `delete_for_task: ${JSON.stringify(task)}`, envelope?.data, { deleted: 6 });
  });
  f.assertNone('deletes');
  await pool(tasks, 8, async (task) => {
    const mine = await read(f, 'after-delete', 'events.get_task_events', { task });
    expectEqual(f, `tenant A after B's delete: ${JSON.stringify(task)}`, mine.e?.data['total'], 6);
    const theirs = await read(f, 'after-delete', 'events.get_task_events', { task }, TENANT_B.headers);
    expectEqual(f, `tenant B after its delete: ${JSON.stringify(task)}`, theirs.e?.data['total'], 0);
  });
  f.assertNone('after deletes');
});

test('memory stays bounded', async () => {
  await assertAlive(p, TENANT_A.headers, 'at the end');
  forceGc();
  const growth = rssMb() - rss0;
  console.log(`[hostile] rss ${rss0.toFixed(0)} MB -> ${rssMb().toFixed(0)} MB`);
  assert.ok(growth < RSS_GROWTH_LIMIT_MB, `RSS grew by ${growth.toFixed(0)} MB`);
});
