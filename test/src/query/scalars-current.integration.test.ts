/**
 * The scalar and vector endpoints at the current API versions, through the whole pipeline: the
 * histograms' `metrics` filter, `iso_time` key and `samples` (default 6000, 0 = every point,
 * streamed) next to 2.1's rules; single values (`get_task_single_value_metrics`) and where they
 * stay out; every point of a metric paged with `scalar_metrics_iter_raw` (exact, stable while
 * events arrive and are re-reported, up to 200,000 points a page); the versions that only add
 * `model_events`. The UI's bodies go to /v999.0/, the SDK's to /v2.23/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { assertSeries, expectedSeries, range, type Series } from './scalar-series';
import { T0, api, assertError, scalar, tamper, vector, type Api } from './support';

let p: Pipeline;
let c: Api;
const UI = { version: '999.0' };
const SDK = { version: '2.23' };
const V21 = { version: '2.1' };
const SUMMARY = -2147483648;

const A = 'cur-a';
const B = 'cur-b';
/** 5,000 points: past 2.1's default of 2,000 samples, under the current 6,000, and more than one chunk of tokens. */
const LONG = 'cur-long';
const RAW = 'cur-raw';
const HOSTILE = 'cur-hostile';
const H_METRIC = `it's "q" \\ {x:String} __proto__ é中🚀`;
const H_VARIANTS = ['__proto__', 'a"b\\c', 'é中🚀'];

const lossTrain = (i: number): number => Math.sin(i / 7) * 10 - i / 10;
const accTop1 = (i: number): number => (i === 42 ? NaN : i % 17 === 0 ? 1000 : i / 150);
const lossB = (i: number): number => 100 - i;
const longCurve = (i: number): number => (i % 97) / 7 - 3;

/** The raw metric's points: three variants over different iterations, timestamps out of iteration order. */
interface Point {
  variant: string;
  iter: number;
  ts: number;
  value: number;
}
const RAW_VARIANTS = ['a', 'b', 'c'];
const rawTs = (variant: string, iter: number): number => T0 + ((iter * 37) % 41) * 100 + RAW_VARIANTS.indexOf(variant);
function rawPoints(): Point[] {
  const pts: Point[] = [];
  const add = (variant: string, iter: number, value: number) => pts.push({ variant, iter, ts: rawTs(variant, iter), value });
  for (let i = 0; i < 40; i++) add('a', i, i === 7 ? NaN : i / 4);
  for (let i = 0; i < 40; i += 2) add('b', i, i === 4 ? Infinity : -i - 1);
  for (let i = 10; i < 30; i++) add('c', i, i === 12 ? -Infinity : i * 1.5);
  // A single value among the points: scalar_metrics_iter_raw returns it, as the reference does.
  pts.push({ variant: 'a', iter: SUMMARY, ts: T0 - 1, value: 5 });
  return pts;
}
const toEvent = (task: string, metric: string, pt: Point) => scalar(task, metric, pt.variant, pt.iter, pt.value, pt.ts);

before(async () => {
  p = await startPipeline();
  c = api(p);
  await c.ingest([
    ...Array.from({ length: 100 }, (_, i) => scalar(A, 'loss', 'train', i, lossTrain(i))),
    ...[0, 25, 50, 75, 99].map((i) => scalar(A, 'loss', 'val', i, i / 100)),
    scalar(A, 'loss', 'train', SUMMARY, 999, T0 - 1),
    ...Array.from({ length: 150 }, (_, i) => scalar(A, 'acc', 'top1', i, accTop1(i))),
    // Single values; the accuracy reported twice in one batch: the later one wins.
    scalar(A, 'Summary', 'accuracy', SUMMARY, 0.9, T0 + 1000),
    scalar(A, 'Summary', 'accuracy', SUMMARY, 0.95, T0 + 2000),
    scalar(A, 'Summary', 'f1', SUMMARY, NaN, T0 + 1500),
    ...Array.from({ length: 30 }, (_, i) => scalar(B, 'loss', 'train', i * 3, lossB(i * 3))),
    scalar(B, 'Summary', 'accuracy', SUMMARY, 0.7, T0 + 3000),
    ...Array.from({ length: 5000 }, (_, i) => scalar(LONG, 'long', 'curve', i, longCurve(i))),
    ...rawPoints().map((pt) => toEvent(RAW, 'm', pt)),
    scalar(RAW, 'other', 'a', 1, 1),
    ...H_VARIANTS.flatMap((v, j) => [0, 1, 2].map((i) => scalar(HOSTILE, H_METRIC, v, i, i + j * 10))),
    scalar(HOSTILE, H_METRIC, H_VARIANTS[0] as string, SUMMARY, 42),
    vector(A, 'hist', 'w', 0, [1, 2, 3]),
    vector(A, 'hist', 'w', 1, [NaN, Infinity]),
  ]);
});

after(async () => {
  await p?.stop();
});

type Histogram<X = number> = Record<string, Record<string, Series<X>>>;
type MultiHistogram<X = number> = { metrics: Record<string, Record<string, Record<string, Series<X>>>> };

// ------------------------------------------------------------------------------ histograms

test('scalar_metrics_iter_histogram: the SDK body at 2.23 (no samples: 6000) returns every point under 6000; 2.1 keeps 2000', async () => {
  const sdk = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: LONG, key: 'iter' }, SDK);
  assert.equal(sdk.status, 200, sdk.msg);
  assertSeries(sdk.data['long']?.['curve'], expectedSeries(range(5000, longCurve), 6000, 'curve'), 'default samples at 2.23');
  assert.equal(sdk.data['long']?.['curve']?.x.length, 5000);
  const old = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: LONG }, V21);
  assertSeries(old.data['long']?.['curve'], expectedSeries(range(5000, longCurve), 2000, 'curve'), 'default samples at 2.1');
  assert.equal(old.data['long']?.['curve']?.x.length, Math.ceil(5000 / 4), '5,000 points in buckets of 4 (the power of two at or above 5,000 / 2,000)');
  // The same bucketing rule at every version for an explicit sample count.
  for (const version of [V21, SDK, UI]) {
    const r = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: A, samples: 10 }, version);
    assertSeries(r.data['loss']?.['train'], expectedSeries(range(100, lossTrain), 10, 'train'), `samples 10 at ${version.version}`);
    assertSeries(r.data['acc']?.['top1'], expectedSeries(range(150, accTop1), 10, 'top1'), `samples 10 at ${version.version}`);
    assert.deepEqual(Object.keys(r.data).sort(), ['acc', 'loss'], 'single values are no curve (the Summary metric is absent)');
  }
});

test('scalar_metrics_iter_histogram: samples 0 is every point of every curve, streamed; 2.1 refuses it', async () => {
  const r = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: A, samples: 0 }, UI);
  assert.equal(r.status, 200, r.msg);
  assert.deepEqual(Object.keys(r.data).sort(), ['acc', 'loss']);
  assertSeries(r.data['loss']?.['train'], expectedSeries(range(100, lossTrain), 0, 'train'), 'loss/train, Summary iteration left out');
  assertSeries(r.data['loss']?.['val'], expectedSeries([0, 25, 50, 75, 99].map((i) => [i, i / 100]), 0, 'val'), 'loss/val');
  assertSeries(r.data['acc']?.['top1'], expectedSeries(range(150, accTop1), 0, 'top1'), 'acc/top1, its NaN kept');
  // More points than one chunk of tokens, by timestamp.
  const long = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: LONG, samples: 0, key: 'timestamp' }, UI);
  assertSeries(long.data['long']?.['curve'], expectedSeries(range(5000, longCurve).map(([i, v]) => [T0 + i, v]), 0, 'curve'), 'long curve by timestamp');
  // The streamed answer is the same envelope, NaN a bare token.
  const res = await c.fetch('events.scalar_metrics_iter_histogram', { task: A, samples: 0 }, UI);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const text = await res.text();
  assert.match(text, /^\{"meta":\{"id":"[0-9a-f]{32}",.*"endpoint":\{"name":"events.scalar_metrics_iter_histogram","requested_version":"999.0","actual_version":"2.22"\},"result_code":200/);
  assert.match(text, /[[,]NaN[,\]]/);
  assertError(await c.call('events.scalar_metrics_iter_histogram', { task: A, samples: 0 }, V21), 400, 12, 'samples 0 at 2.1');
  // Nothing reported: an empty map, streamed or not.
  assert.deepEqual((await c.call('events.scalar_metrics_iter_histogram', { task: 'cur-nothing', samples: 0 }, UI)).data, {});
});

test('scalar_metrics_iter_histogram: key iso_time writes x as the UTC ISO time of the key', async () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  // Every point: x = each event's time.
  const all = await c.call<Histogram<string>>('events.scalar_metrics_iter_histogram', { task: A, key: 'iso_time' }, UI);
  const want = expectedSeries(range(100, lossTrain).map(([i, v]) => [T0 + i, v]), 6000, 'train');
  assertSeries(all.data['loss']?.['train'], { ...want, x: want.x.map(iso) }, 'every point');
  assert.equal(all.data['loss']?.['train']?.x[1], '2024-01-01T00:00:00.001Z');
  // Buckets: x = the bucket's start time.
  const buckets = await c.call<Histogram<string>>('events.scalar_metrics_iter_histogram', { task: A, key: 'iso_time', samples: 7 }, UI);
  const wantBuckets = expectedSeries(range(150, accTop1).map(([i, v]) => [T0 + i, v]), 7, 'top1');
  assertSeries(buckets.data['acc']?.['top1'], { ...wantBuckets, x: wantBuckets.x.map(iso) }, 'buckets');
  // Streamed.
  const streamed = await c.call<Histogram<string>>('events.scalar_metrics_iter_histogram', { task: B, key: 'iso_time', samples: 0 }, UI);
  assert.deepEqual(
    streamed.data['loss']?.['train']?.x,
    Array.from({ length: 30 }, (_, i) => iso(T0 + i * 3)),
  );
  assertError(await c.call('events.scalar_metrics_iter_histogram', { task: A, key: 'iso_time' }, V21), 400, 12, 'iso_time at 2.1');
});

test('scalar_metrics_iter_histogram: metrics selects whole metrics or some of their variants (2.14 on)', async () => {
  const body = { task: A, samples: 10, metrics: [{ metric: 'loss', variants: ['val'] }, { metric: 'acc' }, { metric: 'no-such' }] };
  for (const version of [{ version: '2.14' }, UI]) {
    const r = await c.call<Histogram>('events.scalar_metrics_iter_histogram', body, version);
    assert.deepEqual(Object.keys(r.data).sort(), ['acc', 'loss'], version.version);
    assert.deepEqual(Object.keys(r.data['loss'] ?? {}), ['val'], version.version);
    assertSeries(r.data['acc']?.['top1'], expectedSeries(range(150, accTop1), 10, 'top1'), version.version);
    const streamed = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { ...body, samples: 0 }, version);
    assert.deepEqual(Object.keys(streamed.data['loss'] ?? {}), ['val'], `${version.version}, samples 0`);
    assertSeries(streamed.data['loss']?.['val'], expectedSeries([0, 25, 50, 75, 99].map((i) => [i, i / 100]), 0, 'val'), 'streamed, filtered');
  }
  // An empty list filters nothing; 2.1 has no `metrics` and ignores it.
  assert.deepEqual(Object.keys((await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: A, metrics: [] }, UI)).data).sort(), ['acc', 'loss']);
  assert.deepEqual(Object.keys((await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: A, metrics: 'nonsense' }, V21)).data).sort(), ['acc', 'loss']);
  // Hostile names select and read back exactly.
  const h = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: HOSTILE, metrics: [{ metric: H_METRIC, variants: ['__proto__', 'é中🚀'] }] }, UI);
  assert.deepEqual(Object.keys(h.data), [H_METRIC]);
  assert.deepEqual(Object.keys(h.data[H_METRIC] ?? {}).sort(), ['__proto__', 'é中🚀']);
  assertSeries(h.data[H_METRIC]?.['é中🚀'], expectedSeries(range(3, (i) => i + 20), 0, 'é中🚀'), 'hostile names');
});

test('multi_task_scalar_metrics_iter_histogram: 2.22 samples/iso_time, 2.28 metrics, streamed samples 0', async () => {
  const tasks = [A, B, 'cur-unknown', A];
  const r = await c.call<MultiHistogram>('events.multi_task_scalar_metrics_iter_histogram', { tasks, samples: 10, metrics: [{ metric: 'loss', variants: ['train'] }] }, UI);
  assert.equal(r.status, 200, r.msg);
  assert.deepEqual(Object.keys(r.data.metrics), ['loss']);
  assert.deepEqual(Object.keys(r.data.metrics['loss'] ?? {}), ['train']);
  assertSeries(r.data.metrics['loss']?.['train']?.[A], expectedSeries(range(100, lossTrain), 10, A), 'task a');
  assertSeries(r.data.metrics['loss']?.['train']?.[B], expectedSeries(Array.from({ length: 30 }, (_, i) => [i * 3, lossB(i * 3)]), 10, B), 'task b');
  // 2.22 has no `metrics`: every curve.
  const v22 = await c.call<MultiHistogram>('events.multi_task_scalar_metrics_iter_histogram', { tasks, samples: 10, metrics: [{ metric: 'loss' }] }, { version: '2.22' });
  assert.deepEqual(Object.keys(v22.data.metrics).sort(), ['acc', 'loss']);
  // Every point, streamed, names = task ids; single values left out.
  const all = await c.call<MultiHistogram>('events.multi_task_scalar_metrics_iter_histogram', { tasks, samples: 0 }, UI);
  assert.deepEqual(Object.keys(all.data.metrics).sort(), ['acc', 'loss']);
  assert.deepEqual(Object.keys(all.data.metrics['loss']?.['train'] ?? {}), [A, B]);
  assertSeries(all.data.metrics['loss']?.['train']?.[A], expectedSeries(range(100, lossTrain), 0, A), 'streamed task a');
  assertSeries(all.data.metrics['loss']?.['train']?.[B], expectedSeries(Array.from({ length: 30 }, (_, i) => [i * 3, lossB(i * 3)]), 0, B), 'streamed task b');
  const iso = await c.call<MultiHistogram<string>>('events.multi_task_scalar_metrics_iter_histogram', { tasks: [B], key: 'iso_time' }, { version: '2.22' });
  assert.equal(iso.data.metrics['loss']?.['train']?.[B]?.x[2], new Date(T0 + 6).toISOString());
  // 2.1 as before: samples 0 refused, iso_time unknown.
  assertError(await c.call('events.multi_task_scalar_metrics_iter_histogram', { tasks, samples: 0 }, V21), 400, 12, 'samples 0 at 2.1');
  assertError(await c.call('events.multi_task_scalar_metrics_iter_histogram', { tasks, key: 'iso_time' }, V21), 400, 12, 'iso_time at 2.1');
  assert.deepEqual((await c.call('events.multi_task_scalar_metrics_iter_histogram', { tasks: ['cur-unknown'], samples: 0 }, UI)).data, { metrics: {} });
});

// ------------------------------------------------------------------------------ single values

interface SingleValues {
  tasks: Array<{ task: string; task_name: string; values: Array<{ metric: string; variant: string; value: number; timestamp: number }> }>;
}

test('get_task_single_value_metrics: per task in the order asked, the last report of each value, tasks without any absent', async () => {
  const r = await c.call<SingleValues>('events.get_task_single_value_metrics', { tasks: [B, 'cur-unknown', A, LONG] }, UI);
  assert.equal(r.status, 200, r.msg);
  assert.deepEqual(r.data, {
    tasks: [
      { task: B, task_name: B, values: [{ metric: 'Summary', variant: 'accuracy', value: 0.7, timestamp: T0 + 3000 }] },
      {
        task: A,
        task_name: A,
        values: [
          // Reported at the Summary iteration under a curve's metric: a single value too.
          { metric: 'loss', variant: 'train', value: 999, timestamp: T0 - 1 },
          { metric: 'Summary', variant: 'accuracy', value: 0.95, timestamp: T0 + 2000 },
          { metric: 'Summary', variant: 'f1', value: NaN, timestamp: T0 + 1500 },
        ].sort((x, y) => (x.metric < y.metric ? -1 : x.metric > y.metric ? 1 : x.variant < y.variant ? -1 : 1)),
      },
    ],
  });
  // The SDK's get_reported_single_values: {variant: value} of the first task.
  const sdk = await c.call<SingleValues>('events.get_task_single_value_metrics', { tasks: [A], model_events: false }, SDK);
  assert.deepEqual(Object.fromEntries(sdk.data.tasks[0]?.values.map((v) => [v.variant, v.value]) ?? []), { train: 999, accuracy: 0.95, f1: NaN });
  assert.deepEqual((await c.call('events.get_task_single_value_metrics', { tasks: ['cur-unknown'] }, UI)).data, { tasks: [] });
  // 2.28 filters by metrics; 2.20 and 2.22 have no `metrics`.
  const filtered = await c.call<SingleValues>('events.get_task_single_value_metrics', { tasks: [A, B], metrics: [{ metric: 'Summary', variants: ['accuracy'] }] }, UI);
  assert.deepEqual(
    filtered.data.tasks.map((t) => [t.task, t.values.map((v) => v.variant)]),
    [
      [A, ['accuracy']],
      [B, ['accuracy']],
    ],
  );
  for (const version of ['2.20', '2.22']) {
    const r2 = await c.call<SingleValues>('events.get_task_single_value_metrics', { tasks: [A], metrics: [{ metric: 'Summary', variants: ['accuracy'] }] }, { version });
    assert.equal(r2.data.tasks[0]?.values.length, 3, version);
  }
  const hostile = await c.call<SingleValues>('events.get_task_single_value_metrics', { tasks: [HOSTILE] }, UI);
  assert.deepEqual(hostile.data.tasks[0]?.values, [{ metric: H_METRIC, variant: '__proto__', value: 42, timestamp: T0 + SUMMARY }]);
  assertError(await c.call('events.get_task_single_value_metrics', { tasks: [A] }, V21), 404, 0, 'no such version below 2.20');
});

test('single values: out of every histogram, listed by metrics-and-variants, kept by latest values and metric data (as the reference)', async () => {
  for (const samples of [0, 1, 10, 6000]) {
    const h = await c.call<Histogram>('events.scalar_metrics_iter_histogram', { task: A, samples }, UI);
    assert.equal(h.data['Summary'], undefined, `samples ${samples}`);
    assert.ok(!(h.data['loss']?.['train']?.x as number[]).includes(SUMMARY), `samples ${samples}`);
  }
  const mv = await c.call<{ metrics: Record<string, string[]> }>('events.get_scalar_metrics_and_variants', { task: A }, UI);
  assert.deepEqual(mv.data.metrics['Summary'], ['accuracy', 'f1']);
  const latest = await c.call<{ metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number }> }> }>('events.get_task_latest_scalar_values', { task: A }, UI);
  assert.equal(latest.data.metrics.find((m) => m.name === 'Summary')?.variants.find((v) => v.name === 'accuracy')?.last_value, 0.95);
  const data = await c.call<{ events: Array<{ iter: number; value: number }> }>('events.get_scalar_metric_data', { task: A, metric: 'Summary' }, UI);
  assert.deepEqual(
    data.data.events.map((e) => [e.iter, e.value]),
    [
      [SUMMARY, 0.95],
      [SUMMARY, NaN],
    ],
  );
});

// ------------------------------------------------------------------------------ scalar_metrics_iter_raw

interface Raw<K extends string = 'iter'> {
  variants: Record<string, Record<K | 'y', number[]>>;
  returned: number;
  total: number | null;
  scroll_id: string;
}

const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The points in page order (key, iteration, variant), and a page of them as the answer groups it. */
function pageOrder(points: Point[], key: 'iter' | 'ts'): Point[] {
  return [...points].sort((x, y) => x[key] - y[key] || x.iter - y.iter || byteCompare(x.variant, y.variant));
}
function grouped(points: Point[], key: 'iter' | 'ts', name: string): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const v of [...new Set(points.map((pt) => pt.variant))].sort(byteCompare)) {
    const mine = points.filter((pt) => pt.variant === v);
    out[v] = { y: mine.map((pt) => pt.value), [name]: mine.map((pt) => pt[key]) };
  }
  return out;
}

test('scalar_metrics_iter_raw: the UI body pages every point of the metric in key order, exact and complete', async () => {
  const points = rawPoints();
  for (const [key, field] of [
    ['iter', 'iter'],
    ['timestamp', 'ts'],
  ] as const) {
    const order = pageOrder(points, field);
    let scrollId: string | undefined;
    for (let page = 0; ; page++) {
      const r = await c.call<Raw<typeof key>>(
        'events.scalar_metrics_iter_raw',
        { task: RAW, metric: { metric: 'm', variants: [] }, key, batch_size: 7, count_total: true, ...(scrollId ? { scroll_id: scrollId } : {}) },
        UI,
      );
      assert.equal(r.status, 200, r.msg);
      const want = order.slice(page * 7, page * 7 + 7);
      assert.equal(r.data.returned, want.length, `${key} page ${page}`);
      assert.equal(r.data.total, points.length, 'total counted once, kept for the scroll');
      assert.deepEqual(r.data.variants, grouped(want, field, key), `${key} page ${page}`);
      assert.deepEqual(Object.keys(r.data), ['variants', 'returned', 'total', 'scroll_id']);
      scrollId = r.data.scroll_id;
      if (want.length === 0) break;
    }
    // Exhausted: stays empty.
    const again = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm' }, key, scroll_id: scrollId }, UI);
    assert.deepEqual([again.data.variants, again.data.returned], [{}, 0]);
    // Another metric, key or variant list than the cursor's: refused, as a tampered cursor.
    assertError(await c.call('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'other' }, key, scroll_id: scrollId }, UI), 400, 1104, 'other metric');
    assertError(await c.call('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm', variants: ['a'] }, key, scroll_id: scrollId }, UI), 400, 1104, 'other variants');
    assertError(await c.call('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm' }, key: key === 'iter' ? 'timestamp' : 'iter', scroll_id: scrollId }, UI), 400, 1104, 'other key');
    assertError(await c.call('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm' }, key, scroll_id: tamper(scrollId ?? '') }, UI), 400, 1104, 'tampered');
  }
});

test('scalar_metrics_iter_raw: variants, iso_time, count_total off, defaults, and the SDK version', async () => {
  const points = rawPoints().filter((pt) => pt.variant !== 'b');
  const r = await c.call<Raw<'iso_time'>>('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm', variants: ['c', 'a'] }, key: 'iso_time' }, UI);
  assert.equal(r.status, 200, r.msg);
  // iso_time: the reference's x values are the events' epoch milliseconds, under "iso_time".
  assert.deepEqual(r.data.variants, grouped(pageOrder(points, 'ts'), 'ts', 'iso_time'));
  assert.equal(r.data.total, null, 'count_total is off by default');
  assert.equal(r.data.returned, points.length);
  // Default key iter, default batch 10,000; the same at 2.16 and 2.23.
  for (const version of [{ version: '2.16' }, SDK]) {
    const d = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm', variants: ['b'] }, batch_size: 0 }, version);
    assert.deepEqual(d.data.variants, grouped(pageOrder(rawPoints().filter((pt) => pt.variant === 'b'), 'iter'), 'iter', 'iter'), version.version);
  }
  // Hostile names read back exactly, the Summary iteration first.
  const h = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: HOSTILE, metric: { metric: H_METRIC } }, UI);
  assert.deepEqual(Object.keys(h.data.variants).sort(byteCompare), [...H_VARIANTS].sort(byteCompare));
  assert.deepEqual(h.data.variants['__proto__'], { y: [42, 0, 1, 2], iter: [SUMMARY, 0, 1, 2] });
  assert.deepEqual(h.data.variants['a"b\\c'], { y: [10, 11, 12], iter: [0, 1, 2] });
  const unknown = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: 'cur-unknown', metric: { metric: 'm' }, count_total: true }, UI);
  assert.deepEqual({ ...unknown.data, scroll_id: typeof unknown.data.scroll_id }, { variants: {}, returned: 0, total: 0, scroll_id: 'string' });
  assertError(await c.call('events.scalar_metrics_iter_raw', { task: RAW, metric: { metric: 'm' } }, { version: '2.15' }), 404, 0, 'below 2.16');
});

test('scalar_metrics_iter_raw: a scroll sees points that arrive after its position and the last write of each, once', async () => {
  const S = 'cur-raw-live';
  const base: Point[] = [];
  for (const v of ['a', 'b']) for (let i = 0; i < 20; i++) base.push({ variant: v, iter: i, ts: T0 + i, value: i });
  await c.ingest(base.map((pt) => toEvent(S, 'm', pt)));
  const body = { task: S, metric: { metric: 'm' }, key: 'iter', batch_size: 10 };
  const first = await c.call<Raw>('events.scalar_metrics_iter_raw', body, UI);
  assert.deepEqual(first.data.variants, grouped(pageOrder(base, 'iter').slice(0, 10), 'iter', 'iter'));
  // Behind the position: a re-report of a returned point (not returned again), then ahead of it:
  // a re-report of a point not returned yet (returned with its new value) and new iterations.
  await c.addBatch([scalar(S, 'm', 'a', 1, -100), scalar(S, 'm', 'b', 15, -150)]);
  await c.ingest([scalar(S, 'm', 'a', 25, 25), scalar(S, 'm', 'b', 30, 30)]);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String} AND value < -99', 2, { task: S });
  const rest: Array<[string, number, number]> = [];
  let scrollId = first.data.scroll_id;
  for (;;) {
    const r = await c.call<Raw>('events.scalar_metrics_iter_raw', { ...body, scroll_id: scrollId }, UI);
    scrollId = r.data.scroll_id;
    if (r.data.returned === 0) break;
    for (const [v, cols] of Object.entries(r.data.variants)) cols.iter.forEach((it, i) => rest.push([v, it, cols.y[i] as number]));
  }
  rest.sort((x, y) => x[1] - y[1] || byteCompare(x[0], y[0]));
  const want: Array<[string, number, number]> = [
    ...pageOrder(base, 'iter')
      .slice(10)
      .map((pt): [string, number, number] => [pt.variant, pt.iter, pt.variant === 'b' && pt.iter === 15 ? -150 : pt.value]),
    ['a', 25, 25],
    ['b', 30, 30],
  ];
  assert.deepEqual(rest, want);
});

test('scalar_metrics_iter_raw: 200,000 points a page at most, larger batch sizes cut to it', async () => {
  const BIG = 'cur-raw-big';
  const n = 200_010;
  await c.ingest(Array.from({ length: n }, (_, i) => scalar(BIG, 'big', i % 2 === 0 ? 'even' : 'odd', i, i / 3)));
  const first = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: BIG, metric: { metric: 'big' }, batch_size: 1_000_000_000, count_total: true }, UI);
  assert.equal(first.status, 200, first.msg);
  assert.equal(first.data.returned, 200_000);
  assert.equal(first.data.total, n);
  const even = first.data.variants['even'];
  assert.equal(even?.iter.length, 100_000);
  assert.equal(even?.iter[99_999], 199_998);
  assert.equal(even?.y[12_345], (2 * 12_345) / 3);
  const odd = first.data.variants['odd'];
  assert.deepEqual([odd?.iter[0], odd?.iter.at(-1), odd?.y.at(-1)], [1, 199_999, 199_999 / 3]);
  const second = await c.call<Raw>('events.scalar_metrics_iter_raw', { task: BIG, metric: { metric: 'big' }, scroll_id: first.data.scroll_id }, UI);
  assert.equal(second.data.returned, 10, 'the next page continues at the first page batch size');
  assert.deepEqual(second.data.variants['even']?.iter, [200_000, 200_002, 200_004, 200_006, 200_008]);
  assert.equal(second.data.total, n);
});

// ------------------------------------------------------------------------------ versions adding model_events, and bad input

test('get_scalar_metric_data 2.16 no_scroll; the endpoints adding only model_events answer as 2.1', async () => {
  const once = await c.call<{ events: Array<{ iter: number }>; returned: number; total: number; scroll_id: string | null }>(
    'events.get_scalar_metric_data',
    { task: B, metric: 'loss', no_scroll: true, batch_size: 5 },
    UI,
  );
  assert.deepEqual(
    once.data.events.map((e) => e.iter),
    [87, 84, 81, 78, 75],
  );
  assert.equal(once.data.scroll_id, null);
  assert.equal(once.data.total, 30);
  const old = await c.call<{ scroll_id: string | null }>('events.get_scalar_metric_data', { task: B, metric: 'loss', no_scroll: true }, V21);
  assert.equal(typeof old.data.scroll_id, 'string', '2.1 has no no_scroll');
  for (const [endpoint, body] of [
    ['events.get_scalar_metrics_and_variants', { task: A }],
    ['events.get_vector_metrics_and_variants', { task: A }],
    ['events.vector_metrics_iter_histogram', { task: A, metric: 'hist', variant: 'w' }],
    ['events.get_scalar_metric_data', { task: B, metric: 'loss' }],
  ] as const) {
    const now = await c.call<Record<string, unknown>>(endpoint, { ...body, model_events: false }, UI);
    const then = await c.call<Record<string, unknown>>(endpoint, body, V21);
    assert.equal(now.status, 200, `${endpoint}: ${now.msg}`);
    const { scroll_id: _a, ...nowData } = now.data;
    const { scroll_id: _b, ...thenData } = then.data;
    assert.deepEqual(nowData, thenData, endpoint);
  }
  assert.deepEqual((await c.call('events.get_vector_metrics_and_variants', { task: A }, UI)).data, { metrics: [{ metric: 'hist', variants: ['w'] }] });
  assert.deepEqual((await c.call('events.vector_metrics_iter_histogram', { task: A, metric: 'hist', variant: 'w' }, UI)).data, {
    metric: 'hist',
    variant: 'w',
    vectors: [
      [1, 2, 3],
      [NaN, Infinity],
    ],
    iterations: [0, 1],
  });
});

test('bad parameters at the current versions: 400/11, 400/12, 400/101, 400/1104', async () => {
  const cases: Array<[string, unknown, number]> = [
    ['events.scalar_metrics_iter_histogram', { task: A, samples: -1 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 6001 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 0.5 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, key: 'epoch' }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: 'loss' }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: [{ metric: 5 }] }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: [{ metric: 'loss', variants: 'train' }] }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: [{ metric: 'loss', variants: [null] }] }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: [{ variants: ['train'] }] }, 11],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: [{ metric: 'x'.repeat(16_385) }] }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, metrics: Array.from({ length: 20 }, (_, i) => ({ metric: `${i}`.repeat(16_000) })) }, 12],
    ['events.scalar_metrics_iter_histogram', { task: '', samples: 0 }, 101],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A], samples: 6001 }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A], metrics: [{}] }, 11],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [] }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A, 'x'.repeat(257)], samples: 0 }, 101],
    ['events.get_task_single_value_metrics', {}, 11],
    ['events.get_task_single_value_metrics', { tasks: [] }, 12],
    ['events.get_task_single_value_metrics', { tasks: A }, 12],
    ['events.get_task_single_value_metrics', { tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 12],
    ['events.get_task_single_value_metrics', { tasks: [A, 'a\u0000b'] }, 101],
    ['events.get_task_single_value_metrics', { tasks: [A], metrics: [{ metric: null }] }, 12],
    ['events.scalar_metrics_iter_raw', { task: A }, 11],
    ['events.scalar_metrics_iter_raw', { metric: { metric: 'm' } }, 11],
    ['events.scalar_metrics_iter_raw', { task: A, metric: {} }, 11],
    ['events.scalar_metrics_iter_raw', { task: A, metric: 'm' }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm', variants: [1] } }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, batch_size: -1 }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, batch_size: 'all' }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, key: 'epoch' }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, count_total: 'yes' }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, scroll_id: 5 }, 12],
    ['events.scalar_metrics_iter_raw', { task: A, metric: { metric: 'm' }, scroll_id: 'garbage' }, 1104],
    ['events.scalar_metrics_iter_raw', { task: 'x'.repeat(300), metric: { metric: 'm' } }, 101],
    ['events.get_scalar_metric_data', { task: A, metric: 'loss', no_scroll: 'yes' }, 12],
    ['events.get_scalar_metric_data', { task: A }, 11],
    ['events.vector_metrics_iter_histogram', { task: A, metric: 'hist' }, 11],
    ['events.get_vector_metrics_and_variants', { task: '' }, 101],
    ['events.get_scalar_metrics_and_variants', { task: ['a'] }, 12],
  ];
  for (const [endpoint, body, subcode] of cases) {
    assertError(await c.call(endpoint, body, UI), 400, subcode, `${endpoint} ${JSON.stringify(body).slice(0, 80)}`);
  }
});
