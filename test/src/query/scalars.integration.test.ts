/**
 * Scalar and vector reads through the whole pipeline: histograms (down-sampling computed here
 * as the contract states it), latest values, metric lists, one metric's events paged while
 * more arrive, vectors, last write wins, bad parameters and unknown tasks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { assertSeries, expectedSeries as expected, range, type Series as SeriesOf } from './scalar-series';
import { T0, api, assertError, mean, scalar, tamper, vector, type Api } from './support';

let p: Pipeline;
let c: Api;
const A = 'task-a';
const B = 'task-b';
const SUMMARY = -2147483648;
/** What this file tests is the 2.1 API: the current versions are tested in scalars-current. */
const V21 = { version: '2.1' };

const lossTrain = (i: number): number => Math.sin(i / 7) * 10 - i / 10; // negatives, zero-crossings
const accTop1 = (i: number): number => (i === 42 ? NaN : i % 17 === 0 ? 1000 : i / 150); // a NaN and spikes
const lossB = (i: number): number => 100 - i;

before(async () => {
  p = await startPipeline();
  c = api(p);
  const events = [
    ...Array.from({ length: 100 }, (_, i) => scalar(A, 'loss', 'train', i, lossTrain(i))),
    ...[0, 25, 50, 75, 99].map((i) => scalar(A, 'loss', 'val', i, i / 100)),
    scalar(A, 'loss', 'train', SUMMARY, 999, T0 - 1),
    ...Array.from({ length: 150 }, (_, i) => scalar(A, 'acc', 'top1', i, accTop1(i))),
    scalar(A, 'neg', 'x', 0, -3),
    scalar(A, 'neg', 'x', 1, 0),
    scalar(A, 'neg', 'x', 2, -1),
    scalar(A, 'summary', 'score', SUMMARY, 0.5, T0 + 500),
    ...Array.from({ length: 30 }, (_, i) => scalar(B, 'loss', 'train', i * 3, lossB(i * 3))),
    vector(A, 'hist', 'w', 0, [1, 2, 3]),
    vector(A, 'hist', 'w', 1, [NaN, Infinity, -Infinity]),
    vector(A, 'hist', 'w', 2, []),
    vector(A, 'hist', 'b', 0, [0.5]),
    vector(A, 'other', 'z', 7, [7]),
  ];
  await c.ingest(events);
});

after(async () => {
  await p?.stop();
});

type Series = SeriesOf<number>;

test('scalar_metrics_iter_histogram: 100 iterations at samples 10 in 7 buckets of 16 (the power of two at or above 10), means and extremes', async () => {
  const r = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: A, samples: 10 }, V21);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.data).sort(), ['acc', 'loss', 'neg']);
  const train = r.data['loss']?.['train'];
  assert.deepEqual(train?.x, [0, 16, 32, 48, 64, 80, 96]);
  // Written out once for the first bucket, then compared with the reference computation.
  assert.ok(Math.abs((train?.y[0] ?? NaN) - mean(Array.from({ length: 16 }, (_, i) => lossTrain(i)))) < 1e-9);
  assertSeries(train, expected(range(100, lossTrain), 10, 'train'), 'loss/train');
  // Fewer points than samples: every point; the Summary iteration is not one of them.
  assertSeries(r.data['loss']?.['val'], expected([0, 25, 50, 75, 99].map((i) => [i, i / 100]), 10, 'val'), 'loss/val');
  assertSeries(r.data['neg']?.['x'], expected([[0, -3], [1, 0], [2, -1]], 10, 'x'), 'neg/x');
  assert.equal(r.data['summary'], undefined, 'a metric with only the Summary iteration has no curve');
});

test('scalar_metrics_iter_histogram: a NaN is never averaged away, spikes stay visible', async () => {
  const r = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: A, samples: 10 }, V21);
  const top1 = r.data['acc']?.['top1'];
  // 150 iterations, width 16: the bucket [32, 48) holds iteration 42's NaN and iteration 34's spike.
  assert.deepEqual(top1?.x, [0, 16, 32, 48, 64, 80, 96, 112, 128, 144]);
  assert.ok(Number.isNaN(top1?.y[2] ?? 0), 'y of the bucket holding a NaN is NaN');
  assert.equal(top1?.y_max[2], 1000, 'the spike next to the NaN');
  assert.equal(top1?.y_min[2], 32 / 150);
  assertSeries(top1, expected(range(150, accTop1), 10, 'top1'), 'acc/top1');
  // NaN travels as a bare NaN token, as Python writes it.
  const text = await (await c.fetch('events.scalar_metrics_iter_histogram', { task: A, samples: 10 }, V21)).text();
  assert.match(text, /[[,]NaN[,\]]/);
});

test('scalar_metrics_iter_histogram: defaults (samples 2000, key iter), every sample count, key timestamp', async () => {
  const all = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: A }, V21);
  assertSeries(all.data['loss']?.['train'], expected(range(100, lossTrain), 2000, 'train'), 'default samples');
  for (const samples of [1, 3, 99, 100, 101, 149, 150, 6000]) {
    const r = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: A, samples }, V21);
    assertSeries(r.data['loss']?.['train'], expected(range(100, lossTrain), samples, 'train'), `samples ${samples}`);
    assertSeries(r.data['acc']?.['top1'], expected(range(150, accTop1), samples, 'top1'), `samples ${samples}`);
  }
  // Timestamps are T0 + iter (ms); the Summary value's timestamp is not a point either.
  for (const samples of [7, 2000]) {
    const r = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: A, samples, key: 'timestamp' }, V21);
    assertSeries(r.data['loss']?.['train'], expected(range(100, lossTrain).map(([i, v]) => [T0 + i, v]), samples, 'train'), `timestamp, samples ${samples}`);
  }
});

test('multi_task_scalar_metrics_iter_histogram: per task, name = task id, unknown tasks absent', async () => {
  const r = await c.call<{ metrics: Record<string, Record<string, Record<string, Series>>> }>('events.multi_task_scalar_metrics_iter_histogram', {
    tasks: [A, B, 'no-such-task', A],
    samples: 10,
  }, V21);
  assert.equal(r.status, 200);
  const train = r.data.metrics['loss']?.['train'];
  assert.deepEqual(Object.keys(train ?? {}).sort(), [A, B]);
  assertSeries(train?.[A], expected(range(100, lossTrain), 10, A), 'task a');
  assertSeries(train?.[B], expected(Array.from({ length: 30 }, (_, i) => [i * 3, lossB(i * 3)]), 10, B), 'task b');
  assert.deepEqual(Object.keys(r.data.metrics['acc']?.['top1'] ?? {}), [A]);
  const byTime = await c.call<{ metrics: Record<string, Record<string, Record<string, Series>>> }>('events.multi_task_scalar_metrics_iter_histogram', {
    tasks: [B],
    key: 'timestamp',
  }, V21);
  assertSeries(byTime.data.metrics['loss']?.['train']?.[B], expected(Array.from({ length: 30 }, (_, i) => [T0 + i * 3, lossB(i * 3)]), 2000, B), 'by timestamp');
});

test('get_task_latest_scalar_values: value at the highest iteration, mean of the last 100, every value counted', async () => {
  const r = await c.call<{ metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number; last_100_value: number }> }>; last_iter: number; last_timestamp: number }>(
    'events.get_task_latest_scalar_values',
    { task: A },
  );
  assert.equal(r.status, 200);
  const close = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) < 1e-9;
  const get = (m: string, v: string) => r.data.metrics.find((x) => x.name === m)?.variants.find((x) => x.name === v);
  assert.deepEqual(
    r.data.metrics.map((m) => [m.name, m.variants.map((v) => v.name)]),
    [
      ['acc', ['top1']],
      ['loss', ['train', 'val']],
      ['neg', ['x']],
      ['summary', ['score']],
    ],
  );
  // 101 values (100 iterations and the Summary one, the lowest): the 100 highest are 0..99.
  assert.ok(close(get('loss', 'train')?.last_value, lossTrain(99)));
  assert.ok(close(get('loss', 'train')?.last_100_value, mean(Array.from({ length: 100 }, (_, i) => lossTrain(i)))));
  // 150 iterations: the last 100 are 50..149, which leaves out iteration 42's NaN.
  assert.ok(close(get('acc', 'top1')?.last_100_value, mean(Array.from({ length: 100 }, (_, i) => accTop1(i + 50)))));
  assert.deepEqual(get('neg', 'x'), { name: 'x', last_value: -1, last_100_value: -4 / 3 });
  assert.deepEqual(get('summary', 'score'), { name: 'score', last_value: 0.5, last_100_value: 0.5 });
  assert.equal(r.data.last_iter, 149);
  assert.equal(r.data.last_timestamp, T0 + 500);
});

test('get_scalar_metrics_and_variants and get_vector_metrics_and_variants: sorted', async () => {
  const s = await c.call('events.get_scalar_metrics_and_variants', { task: A });
  assert.deepEqual(s.data, { metrics: { acc: ['top1'], loss: ['train', 'val'], neg: ['x'], summary: ['score'] } });
  const v = await c.call('events.get_vector_metrics_and_variants', { task: A });
  assert.deepEqual(v.data, {
    metrics: [
      { metric: 'hist', variants: ['b', 'w'] },
      { metric: 'other', variants: ['z'] },
    ],
  });
});

test('vector_metrics_iter_histogram: vectors by iteration, non-finite values kept', async () => {
  const r = await c.call<{ metric: string; variant: string; vectors: number[][]; iterations: number[] }>('events.vector_metrics_iter_histogram', {
    task: A,
    metric: 'hist',
    variant: 'w',
  });
  assert.equal(r.status, 200);
  assert.equal(r.data.metric, 'hist');
  assert.equal(r.data.variant, 'w');
  assert.deepEqual(r.data.iterations, [0, 1, 2]);
  assert.deepEqual(r.data.vectors, [[1, 2, 3], [NaN, Infinity, -Infinity], []]);
});

test('get_scalar_metric_data: newest iteration first, pages with no duplicate or gap while events arrive', async () => {
  const C = 'task-c';
  await c.ingest([...Array.from({ length: 50 }, (_, i) => scalar(C, 'loss', 'train', i, i)), ...Array.from({ length: 25 }, (_, i) => scalar(C, 'loss', 'val', i * 2, -i - 1)), scalar(C, 'other', 'x', 3, 3)]);
  const want = [...Array.from({ length: 50 }, (_, i) => ({ iter: i, variant: 'train', value: i })), ...Array.from({ length: 25 }, (_, i) => ({ iter: i * 2, variant: 'val', value: -i - 1 }))].sort(
    (a, b) => b.iter - a.iter || (a.variant < b.variant ? -1 : 1),
  );

  const whole = await c.call<{ events: Array<Record<string, unknown>>; returned: number; total: number; scroll_id: string }>('events.get_scalar_metric_data', { task: C, metric: 'loss' });
  assert.equal(whole.data.returned, 75);
  assert.equal(whole.data.total, 75);
  assert.deepEqual(whole.data.events[0], { type: 'training_stats_scalar', task: C, iter: 49, metric: 'loss', variant: 'train', value: 49, timestamp: T0 + 49 });
  assert.deepEqual(
    whole.data.events.map((e) => [e.iter, e.variant]),
    want.map((w) => [w.iter, w.variant]),
  );

  const seen: Array<Record<string, unknown>> = [];
  let scrollId: string | undefined;
  let round = 0;
  for (;;) {
    const r = await c.call<{ events: Array<Record<string, unknown>>; returned: number; total: number; scroll_id: string }>('events.get_scalar_metric_data', {
      task: C,
      metric: 'loss',
      batch_size: 20,
      ...(scrollId ? { scroll_id: scrollId } : {}),
    });
    assert.equal(r.status, 200, r.msg);
    assert.equal(r.data.returned, r.data.events.length);
    assert.ok(r.data.scroll_id);
    scrollId = r.data.scroll_id;
    if (r.data.returned === 0) break;
    seen.push(...r.data.events);
    // New, later iterations arrive while the scroll runs: they sort before it, so never show.
    round++;
    await c.ingest([scalar(C, 'loss', 'train', 100 + round, 0)]);
  }
  assert.deepEqual(
    seen.map((e) => [e.iter, e.variant, e.value]),
    want.map((w) => [w.iter, w.variant, w.value]),
  );
  // Exhausted: stays empty; total counts what matches now.
  const again = await c.call<{ events: unknown[]; total: number; scroll_id: string }>('events.get_scalar_metric_data', { task: C, metric: 'loss', scroll_id: scrollId });
  assert.deepEqual(again.data.events, []);
  assert.equal(again.data.total, 75 + round);
  assert.ok(again.data.scroll_id);

  assertError(await c.call('events.get_scalar_metric_data', { task: C, metric: 'loss', scroll_id: tamper(scrollId ?? '') }), 400, 1104, 'tampered');
  assertError(await c.call('events.get_scalar_metric_data', { task: C, metric: 'other', scroll_id: scrollId }), 400, 1104, 'other metric');
  assertError(await c.call('events.get_scalar_metric_data', { task: A, metric: 'loss', scroll_id: scrollId }), 400, 1104, 'other task');
});

test('last write wins: a re-reported value replaces the old one everywhere', async () => {
  const D = 'task-d';
  await c.ingest(Array.from({ length: 5 }, (_, i) => scalar(D, 'm', 'v', i, i)));
  await c.addBatch([scalar(D, 'm', 'v', 4, -40), scalar(D, 'm', 'v', 2, NaN)]);
  const latest = async () =>
    (await c.call<{ metrics: Array<{ variants: Array<{ last_value: number; last_100_value: number }> }> }>('events.get_task_latest_scalar_values', { task: D })).data.metrics[0]?.variants[0];
  const deadline = Date.now() + 30_000;
  while ((await latest())?.last_value !== -40 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  const l = await latest();
  assert.equal(l?.last_value, -40);
  assert.ok(Number.isNaN(l?.last_100_value), 'the NaN re-report is counted: the mean is NaN');
  const h = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: D }, V21);
  assertSeries(h.data['m']?.['v'], expected([[0, 0], [1, 1], [2, NaN], [3, 3], [4, -40]], 2000, 'v'), 'after re-report');
  const data = await c.call<{ events: Array<{ iter: number; value: number }>; total: number }>('events.get_scalar_metric_data', { task: D, metric: 'm' });
  assert.equal(data.data.total, 5);
  assert.deepEqual(
    data.data.events.map((e) => e.iter),
    [4, 3, 2, 1, 0],
  );
});

test('unknown tasks read empty', async () => {
  const task = 'never-reported';
  assert.deepEqual((await c.call('events.scalar_metrics_iter_histogram', { task })).data, {});
  assert.deepEqual((await c.call('events.multi_task_scalar_metrics_iter_histogram', { tasks: [task] })).data, { metrics: {} });
  assert.deepEqual((await c.call('events.get_task_latest_scalar_values', { task })).data, { metrics: [], last_iter: 0, last_timestamp: 0 });
  assert.deepEqual((await c.call('events.get_scalar_metrics_and_variants', { task })).data, { metrics: {} });
  assert.deepEqual((await c.call('events.get_vector_metrics_and_variants', { task })).data, { metrics: [] });
  assert.deepEqual((await c.call('events.vector_metrics_iter_histogram', { task, metric: 'm', variant: 'v' })).data, { metric: 'm', variant: 'v', vectors: [], iterations: [] });
  const data = await c.call<{ events: unknown[]; returned: number; total: number; scroll_id: string }>('events.get_scalar_metric_data', { task, metric: 'm' });
  assert.deepEqual([data.data.events, data.data.returned, data.data.total], [[], 0, 0]);
  assert.ok(data.data.scroll_id);
});

test('bad parameters: 400/12, missing fields 400/11, bad task ids 400/101', async () => {
  const cases: Array<[string, unknown, number]> = [
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 0 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 6001 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 'ten' }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, samples: 1.5 }, 12],
    ['events.scalar_metrics_iter_histogram', { task: A, key: 'epoch' }, 12],
    ['events.scalar_metrics_iter_histogram', { task: 5 }, 12],
    ['events.scalar_metrics_iter_histogram', {}, 11],
    ['events.scalar_metrics_iter_histogram', { task: '' }, 101],
    ['events.scalar_metrics_iter_histogram', { task: 'a\u0000b' }, 101],
    ['events.scalar_metrics_iter_histogram', { task: 'x'.repeat(257) }, 101],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [] }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: A }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A, 5] }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A], samples: -1 }, 12],
    ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [A, ''] }, 101],
    ['events.multi_task_scalar_metrics_iter_histogram', {}, 11],
    ['events.get_task_latest_scalar_values', {}, 11],
    ['events.get_task_latest_scalar_values', { task: ['a'] }, 12],
    ['events.get_scalar_metrics_and_variants', { task: '' }, 101],
    ['events.get_vector_metrics_and_variants', { task: null }, 12],
    ['events.vector_metrics_iter_histogram', { task: A, metric: 'hist' }, 11],
    ['events.vector_metrics_iter_histogram', { task: A, metric: 'hist', variant: 1 }, 12],
    ['events.get_scalar_metric_data', { task: A }, 11],
    ['events.get_scalar_metric_data', { task: A, metric: 'loss', batch_size: 0 }, 12],
    ['events.get_scalar_metric_data', { task: A, metric: 'loss', batch_size: 10_001 }, 12],
    ['events.get_scalar_metric_data', { task: A, metric: 'loss', scroll_id: 5 }, 12],
    ['events.get_scalar_metric_data', { task: A, metric: 'loss', scroll_id: 'garbage' }, 1104],
  ];
  for (const [endpoint, body, subcode] of cases) {
    const r = await c.call(endpoint, body, V21);
    assertError(r, 400, subcode, `${endpoint} ${JSON.stringify(body).slice(0, 80)}`);
  }
  // The query string works too (the SDK may send parameters there).
  const q = await c.call<Record<string, Record<string, Series>>>(`events.scalar_metrics_iter_histogram?task=${A}&samples=10`, {});
  assert.deepEqual(q.data['loss']?.['train']?.x, [0, 16, 32, 48, 64, 80, 96]);
});

test('curve statistics only guide the reads: unmerged re-reports, a re-reported first timestamp, an uneven curve', async () => {
  // Merges stopped: re-reported rows stay beside the rows they replace, so the curve_stats
  // projection counts both and keeps the replaced timestamp; answers must not change.
  await p.clickhouse.command({ query: `SYSTEM STOP MERGES ${p.database}.scalars` });
  try {
    const E = 'task-projection';
    const FEW = [0, 1, 2, 3, 10, 11, 12, 13];
    const first = [
      ...FEW.map((i) => scalar(E, 'few', 'v', i, i)),
      ...Array.from({ length: 20 }, (_, i) => scalar(E, 'moved', 'v', i, i)),
      ...Array.from({ length: 1000 }, (_, i) => scalar(E, 'dup', 'v', i, i)),
      ...Array.from({ length: 1000 }, (_, i) => scalar(E, 'uneven', 'v', i, i)),
      ...Array.from({ length: 50 }, (_, i) => scalar(E, 'uneven', 'v', 100_000 + i, -i)),
      // The most common range, read from iteration 998 on for every curve: too high for 'uneven'.
      ...['a', 'b', 'c'].flatMap((v) => Array.from({ length: 1200 }, (_, i) => scalar(E, 'dense', v, i, i))),
    ];
    const again = [
      // 8 points stored as 12 rows: the projection's count reaches samples = 10, the curve's doesn't
      // (taken for 10 or more, they would be buckets of width 2, two points in each).
      ...[0, 2, 10, 12].map((i) => scalar(E, 'few', 'v', i, 100 + i)),
      // The first point moves to a later timestamp: the range by timestamp starts at the second one.
      scalar(E, 'moved', 'v', 0, -5, T0 + 100),
      ...Array.from({ length: 100 }, (_, i) => scalar(E, 'dup', 'v', 900 + i, 2 * (900 + i))),
    ];
    // One after the other: re-reports inserted with the rows they replace collapse at once.
    await c.addBatch(first);
    await p.waitForCount('SELECT count() FROM scalars WHERE task = {task:String}', first.length, { task: E });
    await c.addBatch(again);
    await p.waitForCount('SELECT count() FROM scalars WHERE task = {task:String}', first.length + again.length, { task: E });

    const h = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: E, samples: 10 }, V21);
    assertSeries(h.data['few']?.['v'], expected(FEW.map((i) => [i, i % 2 === 0 ? 100 + i : i]), 10, 'v'), 'few points');
    // Curves of every range, read by one branch each; 'dense' holds most points, so its branch reads the task whole.
    assertSeries(h.data['dense']?.['b'], expected(Array.from({ length: 1200 }, (_, i) => [i, i]), 10, 'b'), 'dense');
    const uneven: Array<[number, number]> = [...Array.from({ length: 1000 }, (_, i): [number, number] => [i, i]), ...Array.from({ length: 50 }, (_, i): [number, number] => [100_000 + i, -i])];
    assertSeries(h.data['uneven']?.['v'], expected(uneven, 10, 'v'), 'uneven');
    assert.deepEqual(Object.keys(h.data).sort(), ['dense', 'dup', 'few', 'moved', 'uneven']);
    assert.deepEqual(Object.keys(h.data['dense'] ?? {}), ['a', 'b', 'c']);
    const byTime = await c.call<Record<string, Record<string, Series>>>('events.scalar_metrics_iter_histogram', { task: E, samples: 10, key: 'timestamp' }, V21);
    assertSeries(
      byTime.data['moved']?.['v'],
      expected(Array.from({ length: 20 }, (_, i) => (i === 0 ? [T0 + 100, -5] : [T0 + i, i])), 10, 'v'),
      'by timestamp, first point moved',
    );

    const r = await c.call<{ metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number; last_100_value: number }> }> }>(
      'events.get_task_latest_scalar_values',
      { task: E },
    );
    const get = (m: string) => r.data.metrics.find((x) => x.name === m)?.variants[0];
    assert.deepEqual(get('dup'), { name: 'v', last_value: 1998, last_100_value: mean(Array.from({ length: 100 }, (_, i) => 2 * (900 + i))) });
    // The last 100: iterations 950..999 and 100000..100049, far apart.
    const tail = [...Array.from({ length: 50 }, (_, i) => 950 + i), ...Array.from({ length: 50 }, (_, i) => -i)];
    assert.deepEqual(get('uneven'), { name: 'v', last_value: -49, last_100_value: mean(tail) });
    assert.deepEqual(get('dense'), { name: 'a', last_value: 1199, last_100_value: mean(Array.from({ length: 100 }, (_, i) => 1100 + i)) });
    assert.deepEqual(get('few'), { name: 'v', last_value: 13, last_100_value: mean(FEW.map((i) => (i % 2 === 0 ? 100 + i : i))) });
  } finally {
    await p.clickhouse.command({ query: `SYSTEM START MERGES ${p.database}.scalars` });
  }
});
