/**
 * The current API's debug image and plot reads through the whole pipeline: debug_images 2.7+ and
 * plots (iterations per task, the scroll's moves, URL reuse), the sample viewers
 * (get/next_debug_image_sample, get/next_plot_sample) and get_task_metrics /
 * get_multi_task_metrics. Bodies as the web UI sends them (at /v999.0/) and as the SDK does (at
 * /v2.23/). Every expectation is computed from the events written, by a model of the contract.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, plot, scalar, tamper, type Api } from './support';

let p: Pipeline;
let c: Api;
const UI = { version: '999.0' };
const SDK = { version: '2.23' };

const A = 'task-samples-a';
const B = 'task-samples-b';
const P = 'task-samples-plots';
const S = 'task-samples-scalars';

type Image = {
  type: string;
  task: string;
  metric: string;
  variant: string;
  iter: number;
  key: string;
  url: string;
  timestamp: number;
};
const img = (task: string, metric: string, variant: string, iter: number, url: string, key = 'k'): Image => ({ type: 'training_debug_image', task, metric, variant, iter, key, url, timestamp: T0 + iter });

/** What was written: `rec` reuses three file names (the SDK's history), so only its last uses are valid. */
const IMAGES: Image[] = [
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((it) => [img(A, 'img', 'v0', it, `u/v0/${it}`), img(A, 'img', 'v1', it, `u/v1/${it}`), img(A, 'img', 'rec', it, `u/rec-${it % 3}`)]),
  // A second key at the same iteration: the greater URL is the one shown.
  img(A, 'img', 'v0', 9, 'u/v0/9-zz', 'k2'),
  img(A, 'other', 'x', 0, 'u/x/0'),
  img(A, 'other', 'x', 5, 'u/x/5'),
  // No URL: never shown.
  img(A, 'img', 'v1', 11, ''),
  img(B, 'img', 'v0', 3, 'u/b/3'),
];

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const imageOf = (e: Image) => ({ type: e.type, task: e.task, iter: e.iter, metric: e.metric, variant: e.variant, key: e.key, url: e.url, timestamp: e.timestamp });

/** The model of debug_images' validity: per variant, the URL of its latest image; its previous use hides everything up to it. */
function visibleImages(images: readonly Image[]): Image[] {
  const withUrl = images.filter((e) => e.url !== '');
  const reusedAt = new Map<string, number>();
  const byVariant = groupBy(withUrl, (e) => JSON.stringify([e.task, e.metric, e.variant]));
  for (const [k, evs] of byVariant) {
    const latest = [...evs].sort((x, y) => y.iter - x.iter || cmp(x.url, y.url))[0] as Image;
    const uses = evs.filter((e) => e.url === latest.url).map((e) => e.iter).sort((x, y) => y - x);
    if (uses.length > 1) reusedAt.set(k, uses[1] as number);
  }
  const valid = withUrl.filter((e) => {
    const r = reusedAt.get(JSON.stringify([e.task, e.metric, e.variant]));
    return r === undefined || e.iter > r;
  });
  // One per (iteration, metric, variant): the greatest URL.
  const one = new Map<string, Image>();
  for (const e of valid) {
    const k = JSON.stringify([e.task, e.iter, e.metric, e.variant]);
    const had = one.get(k);
    if (!had || e.url > had.url) one.set(k, e);
  }
  return [...one.values()];
}

interface Iteration {
  iter: number;
  events: Array<Record<string, unknown>>;
}
interface Scroll {
  metrics: Array<{ task: string; iterations: Iteration[] }>;
  scroll_id: string;
}

/** Iterations of `events` (newest first), events by metric and variant. */
function iterationsOf(events: readonly Image[], iters: readonly number[]): Iteration[] {
  return [...iters]
    .sort((x, y) => y - x)
    .map((iter) => ({
      iter,
      events: events
        .filter((e) => e.iter === iter)
        .sort((x, y) => cmp(x.metric, y.metric) || cmp(x.variant, y.variant))
        .map(imageOf),
    }));
}

const distinctIters = (events: readonly { iter: number }[]) => [...new Set(events.map((e) => e.iter))].sort((x, y) => y - x);

before(async () => {
  p = await startPipeline();
  c = api(p);
  await c.ingest([
    ...IMAGES,
    ...[0, 1, 2, 3, 4].flatMap((it) => [plot(P, 'm1', 'a', it), plot(P, 'm1', 'b', it)]),
    ...[1, 3].map((it) => plot(P, 'm2', 'c', it)),
    scalar(S, 'loss', 'train', 0, 1),
    scalar(S, 'Summary', 'acc', -2147483648, 0.9),
  ]);
});

after(async () => {
  await p?.stop();
});

test('debug_images (UI, 2.22): the latest iters iterations per task, then earlier, later, and back to the latest with refresh', async () => {
  const visible = visibleImages(IMAGES).filter((e) => e.task === A);
  const all = distinctIters(visible);
  const body = { metrics: [{ task: A, metric: 'img' }, { task: A, metric: 'other' }], iters: 3, navigate_earlier: true, refresh: false };
  const first = await c.call<Scroll>('events.debug_images', body, UI);
  assert.equal(first.status, 200, first.msg);
  assert.deepEqual(first.data.metrics, [{ task: A, iterations: iterationsOf(visible, all.slice(0, 3)) }]);
  // The reused file names: rec shows at iterations 7, 8 and 9 only.
  assert.deepEqual(
    visible.filter((e) => e.variant === 'rec').map((e) => e.iter).sort(),
    [7, 8, 9],
  );
  const pages: number[][] = [first.data.metrics[0]!.iterations.map((i) => i.iter)];
  let scroll = first.data.scroll_id;
  for (;;) {
    const r = await c.call<Scroll>('events.debug_images', { ...body, scroll_id: scroll }, UI);
    assert.equal(r.status, 200, r.msg);
    const its = r.data.metrics[0]!.iterations;
    assert.deepEqual(its, iterationsOf(visible, its.map((i) => i.iter)));
    scroll = r.data.scroll_id;
    if (its.length === 0) break;
    pages.push(its.map((i) => i.iter));
  }
  assert.deepEqual(pages, [all.slice(0, 3), all.slice(3, 6), all.slice(6, 9), all.slice(9)]);
  // Past the earliest iteration: later iterations, oldest three after it, newest first.
  const later = await c.call<Scroll>('events.debug_images', { ...body, navigate_earlier: false, scroll_id: scroll }, UI);
  const lowest = Math.min(...(pages.at(-1) as number[]));
  assert.deepEqual(later.data.metrics[0]!.iterations.map((i) => i.iter), all.filter((i) => i > lowest).slice(-3));
  const refreshed = await c.call<Scroll>('events.debug_images', { ...body, refresh: true, scroll_id: later.data.scroll_id }, UI);
  assert.deepEqual(refreshed.data.metrics, first.data.metrics);
});

test('debug_images: several tasks in request order, unknown ones with no iterations, each scrolling on its own', async () => {
  const visible = visibleImages(IMAGES);
  const body = { metrics: [{ task: B }, { task: 'no-such-task', metric: 'img' }, { task: A, metric: 'img', variants: ['v1'] }], iters: 2 };
  const r = await c.call<Scroll>('events.debug_images', body, UI);
  const a = visible.filter((e) => e.task === A && e.variant === 'v1');
  assert.deepEqual(r.data.metrics, [
    { task: B, iterations: iterationsOf(visible.filter((e) => e.task === B), [3]) },
    { task: 'no-such-task', iterations: [] },
    { task: A, iterations: iterationsOf(a, distinctIters(a).slice(0, 2)) },
  ]);
  const next = await c.call<Scroll>('events.debug_images', { ...body, scroll_id: r.data.scroll_id }, UI);
  assert.deepEqual(next.data.metrics.map((m) => [m.task, m.iterations.map((i) => i.iter)]), [
    [B, []],
    ['no-such-task', []],
    [A, distinctIters(a).slice(2, 4)],
  ]);
  // The cursor is bound to the selection and the tenant's tasks; tampering shows.
  assertError(await c.call('events.debug_images', { ...body, metrics: [{ task: A, metric: 'img' }], scroll_id: r.data.scroll_id }, UI), 400, 1104, 'other selection');
  assertError(await c.call('events.debug_images', { ...body, scroll_id: tamper(r.data.scroll_id) }, UI), 400, 1104, 'tampered');
  assertError(await c.call('events.plots', { ...body, scroll_id: r.data.scroll_id }, UI), 400, 1104, 'plots');
  const old = await c.call<{ scroll_id: string }>('events.debug_images', { task: A }, { version: '2.1' });
  assertError(await c.call('events.debug_images', { ...body, scroll_id: old.data.scroll_id }, UI), 400, 1104, "a 2.1 cursor");
});

test('debug_images (SDK, 2.23): Task.get_debug_samples pages one variant until it has n_last_iterations', async () => {
  const visible = visibleImages(IMAGES);
  const getDebugSamples = async (title: string, series: string, n: number) => {
    // As clearml's Task._get_debug_samples does.
    const send = (scrollId?: string) => c.call<Scroll>('events.debug_images', { metrics: [{ task: A, metric: title, variants: [series] }], iters: n, ...(scrollId ? { scroll_id: scrollId } : {}) }, SDK);
    let response = await send();
    const samples: Array<Record<string, unknown>> = [];
    for (;;) {
      assert.equal(response.status, 200, response.msg);
      for (const m of response.data.metrics) samples.push(...m.iterations.flatMap((i) => i.events));
      response = await send(response.data.scroll_id);
      if (samples.length === n || response.data.metrics.every((m) => m.iterations.length === 0)) break;
    }
    return samples;
  };
  const of = (variant: string) => visible.filter((e) => e.task === A && e.metric === 'img' && e.variant === variant);
  assert.deepEqual(await getDebugSamples('img', 'v1', 4), iterationsOf(of('v1'), distinctIters(of('v1')).slice(0, 4)).flatMap((i) => i.events));
  // Fewer valid images than asked: what there is, then an empty page ends the loop.
  assert.deepEqual(await getDebugSamples('img', 'rec', 5), iterationsOf(of('rec'), [9, 8, 7]).flatMap((i) => i.events));
  assert.deepEqual(await getDebugSamples('img', 'nope', 3), []);
});

test('debug_images 2.7 selects metrics only (variants are 2.14); bad requests are 400s', async () => {
  const visible = visibleImages(IMAGES).filter((e) => e.task === A && e.metric === 'img');
  const r = await c.call<Scroll>('events.debug_images', { metrics: [{ task: A, metric: 'img', variants: ['v1'] }] }, { version: '2.7' });
  assert.deepEqual(r.data.metrics, [{ task: A, iterations: iterationsOf(visible, [9]) }]);
  for (const [body, subcode] of [
    [{}, 11],
    [{ task: A }, 11],
    [{ metrics: [] }, 12],
    [{ metrics: [{ metric: 'img' }] }, 11],
    [{ metrics: [{ task: '' }] }, 101],
    [{ metrics: [{ task: A }], iters: 0 }, 12],
    [{ metrics: [{ task: A }], navigate_earlier: 'yes' }, 12],
    [{ metrics: [{ task: A, variants: 'v1' }] }, 12],
    [{ metrics: [{ task: A }], scroll_id: 'x.y.z' }, 1104],
    [{ metrics: Array.from({ length: 101 }, (_, i) => ({ task: `t${i}` })) }, 12],
  ] as Array<[unknown, number]>) {
    assertError(await c.call('events.debug_images', body, UI), 400, subcode, JSON.stringify(body).slice(0, 100));
  }
});

test('plots (UI, 2.22): iterations of the selected plots, scrolled like debug images', async () => {
  const written = [0, 1, 2, 3, 4].flatMap((it) => ['a', 'b'].map((v) => ({ metric: 'm1', variant: v, iter: it }))).concat([1, 3].map((it) => ({ metric: 'm2', variant: 'c', iter: it })));
  const iterationsWith = (sel: (e: { metric: string; variant: string }) => boolean, iters: number[]) =>
    iters.map((iter) => ({
      iter,
      events: written
        .filter((e) => e.iter === iter && sel(e))
        .sort((x, y) => cmp(x.metric, y.metric) || cmp(x.variant, y.variant))
        .map((e) => ({ type: 'plot', task: P, iter, metric: e.metric, variant: e.variant, plot_str: plot(P, e.metric, e.variant, iter).plot_str, timestamp: T0 + iter })),
    }));
  const body = { metrics: [{ task: P }], iters: 2, navigate_earlier: true, refresh: false };
  const first = await c.call<Scroll>('events.plots', body, UI);
  assert.equal(first.status, 200, first.msg);
  assert.deepEqual(first.data.metrics, [{ task: P, iterations: iterationsWith(() => true, [4, 3]) }]);
  const second = await c.call<Scroll>('events.plots', { ...body, scroll_id: first.data.scroll_id }, UI);
  assert.deepEqual(second.data.metrics, [{ task: P, iterations: iterationsWith(() => true, [2, 1]) }]);
  const sel = await c.call<Scroll>('events.plots', { metrics: [{ task: P, metric: 'm1', variants: ['b'] }, { task: P, metric: 'm2' }], iters: 3 }, UI);
  assert.deepEqual(sel.data.metrics, [{ task: P, iterations: iterationsWith((e) => e.variant === 'b' || e.metric === 'm2', [4, 3, 2]) }]);
  assertError(await c.call('events.plots', { metrics: [{ task: P }] }, { version: '2.14' }), 404, 0, 'before 2.20');
});

// ------------------------------------------------------------------------------ sample viewers

interface ImageSample {
  scroll_id: string;
  event: Record<string, unknown> | null;
  min_iteration: number | null;
  max_iteration: number | null;
}

/** The viewer's model: per variant the lowest of its URLs' last iterations (valid from there) and its highest. */
function variantRanges(images: readonly Image[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  const byVariant = groupBy(
    images.filter((e) => e.url !== ''),
    (e) => JSON.stringify([e.task, e.metric, e.variant]),
  );
  for (const [k, evs] of byVariant) {
    const lastByUrl = new Map<string, number>();
    for (const e of evs) lastByUrl.set(e.url, Math.max(lastByUrl.get(e.url) ?? -Infinity, e.iter));
    out.set(k, [Math.min(...lastByUrl.values()), Math.max(...evs.map((e) => e.iter))]);
  }
  return out;
}

/** The images a viewer steps through, in (iteration, metric, variant) order: each step is the neighbour in this order. */
function viewerPositions(task: string, metric: string | null): Image[] {
  const ranges = variantRanges(IMAGES);
  const one = new Map<string, Image>();
  for (const e of IMAGES) {
    if (e.task !== task || e.url === '' || (metric !== null && e.metric !== metric)) continue;
    if (e.iter < (ranges.get(JSON.stringify([e.task, e.metric, e.variant]))?.[0] ?? Infinity)) continue;
    const k = JSON.stringify([e.iter, e.metric, e.variant]);
    const had = one.get(k);
    if (!had || e.url > had.url) one.set(k, e);
  }
  return [...one.values()].sort((x, y) => x.iter - y.iter || cmp(x.metric, y.metric) || cmp(x.variant, y.variant));
}

const expectSample = (e: Image) => {
  const [min, max] = variantRanges(IMAGES).get(JSON.stringify([e.task, e.metric, e.variant])) as [number, number];
  return { event: imageOf(e), min_iteration: min, max_iteration: max };
};
const withoutScroll = (r: ImageSample) => ({ event: r.event, min_iteration: r.min_iteration, max_iteration: r.max_iteration });

test('image viewer (UI): opens on a variant, steps back through every valid image of the metric, then forward', async () => {
  const positions = viewerPositions(A, 'img');
  const v1 = positions.filter((e) => e.variant === 'v1');
  const open = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'v1' }, UI);
  assert.equal(open.status, 200, open.msg);
  assert.deepEqual(withoutScroll(open.data), expectSample(v1.at(-1) as Image));
  let at = positions.indexOf(v1.at(-1) as Image);
  let scroll = open.data.scroll_id;
  const seen: Image[] = [];
  for (;;) {
    const r = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: scroll, navigate_earlier: true }, UI);
    assert.equal(r.status, 200, r.msg);
    scroll = r.data.scroll_id;
    if (r.data.event === null) break;
    at--;
    assert.deepEqual(withoutScroll(r.data), expectSample(positions[at] as Image), `step back ${seen.length}`);
    seen.push(positions[at] as Image);
  }
  assert.equal(at, 0, 'every image before the first one shown');
  assert.equal(seen.length, positions.indexOf(v1.at(-1) as Image));
  // At the start: forward again, image by image.
  for (let i = 1; i < 4; i++) {
    const r = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: scroll, navigate_earlier: false }, UI);
    assert.deepEqual(withoutScroll(r.data), expectSample(positions[i] as Image));
    scroll = r.data.scroll_id;
  }
  // next_iteration: the last variant of the next iteration (forward: the first).
  const cur = positions[3] as Image;
  const nextIt = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: scroll, navigate_earlier: false, next_iteration: true }, UI);
  assert.deepEqual(withoutScroll(nextIt.data), expectSample(positions.find((e) => e.iter > cur.iter) as Image));
  const prevIt = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: nextIt.data.scroll_id, navigate_earlier: true, next_iteration: true }, UI);
  const nextIter = (nextIt.data.event as { iter: number }).iter;
  assert.deepEqual(withoutScroll(prevIt.data), expectSample(positions.filter((e) => e.iter < nextIter).at(-1) as Image));
  // 2.12 has no next_iteration: it steps to the neighbouring variant.
  const old = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: nextIt.data.scroll_id, navigate_earlier: false, next_iteration: true }, { version: '2.12' });
  assert.deepEqual(withoutScroll(old.data), expectSample(positions[positions.findIndex((e) => e.iter === nextIter && e.variant === (nextIt.data.event as { variant: string }).variant) + 1] as Image));
});

test('image viewer: an iteration, the valid range, all metrics, refresh and cursors', async () => {
  const ranges = variantRanges(IMAGES);
  // rec is valid from its URLs' lowest last use: an iteration before it has no image.
  const recRange = ranges.get(JSON.stringify([A, 'img', 'rec'])) as [number, number];
  const before = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'rec', iteration: recRange[0] - 1 }, UI);
  assert.deepEqual(withoutScroll(before.data), { event: null, min_iteration: recRange[0], max_iteration: recRange[1] });
  const at8 = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'rec', iteration: 8, scroll_id: before.data.scroll_id }, UI);
  assert.deepEqual(withoutScroll(at8.data), expectSample(IMAGES.find((e) => e.task === A && e.variant === 'rec' && e.iter === 8) as Image));
  // Above every iteration (even past Int64): the latest.
  const huge = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'other', variant: 'x', iteration: 1e300 }, UI);
  assert.deepEqual(withoutScroll(huge.data), expectSample(IMAGES.find((e) => e.variant === 'x' && e.iter === 5) as Image));
  const none = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'no-such' }, UI);
  assert.deepEqual(withoutScroll(none.data), { event: null, min_iteration: null, max_iteration: null });
  assert.ok(none.data.scroll_id);

  // navigate_current_metric false: steps cross metrics, in (iteration, metric, variant) order.
  const positions = viewerPositions(A, null);
  const x5 = positions.findIndex((e) => e.variant === 'x' && e.iter === 5);
  const open = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'other', variant: 'x', iteration: 5, navigate_current_metric: false }, UI);
  const back = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: open.data.scroll_id }, UI);
  assert.deepEqual(withoutScroll(back.data), expectSample(positions[x5 - 1] as Image));
  const fwd = await c.call<ImageSample>('events.next_debug_image_sample', { task: A, scroll_id: open.data.scroll_id, navigate_earlier: false }, UI);
  assert.deepEqual(withoutScroll(fwd.data), expectSample(positions[x5 + 1] as Image));
  // The viewer's cursor is for its task, and for the metric (or all metrics) it was opened on.
  assertError(await c.call('events.next_debug_image_sample', { task: B, scroll_id: open.data.scroll_id }, UI), 400, 1104, 'other task');
  assertError(await c.call('events.get_debug_image_sample', { task: A, metric: 'other', variant: 'x', scroll_id: open.data.scroll_id }, UI), 400, 1104, 'now on one metric');
  assertError(await c.call('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'v1', scroll_id: tamper(at8.data.scroll_id) }, UI), 400, 1104, 'tampered');
  assertError(await c.call('events.get_debug_image_sample', { task: A, metric: 'other', variant: 'x', scroll_id: at8.data.scroll_id }, UI), 400, 1104, 'other metric');
  assertError(await c.call('events.next_plot_sample', { task: A, scroll_id: at8.data.scroll_id }, UI), 400, 1104, 'a plot viewer');
  assertError(await c.call('events.next_debug_image_sample', { task: A }, UI), 400, 11, 'no scroll_id');
  assertError(await c.call('events.get_debug_image_sample', { task: A, metric: 'img' }, UI), 400, 11, 'no variant');
  assertError(await c.call('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'v1', iteration: 1.5 }, UI), 400, 12, 'fractional iteration');
  assertError(await c.call('events.get_debug_image_sample', { task: '\u0000', metric: 'img', variant: 'v1' }, UI), 400, 101, 'bad task');

  // The ranges are fixed when the viewer opens: a new image shows only after refresh.
  await c.ingest([img(A, 'img', 'v1', 20, 'u/v1/20')]);
  const stale = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'v1', scroll_id: at8.data.scroll_id }, UI);
  assert.deepEqual([(stale.data.event as { iter: number }).iter, stale.data.max_iteration], [20, 9]);
  const fresh = await c.call<ImageSample>('events.get_debug_image_sample', { task: A, metric: 'img', variant: 'v1', refresh: true, scroll_id: at8.data.scroll_id }, UI);
  assert.deepEqual([(fresh.data.event as { iter: number }).iter, fresh.data.max_iteration], [20, 20]);
  IMAGES.push(img(A, 'img', 'v1', 20, 'u/v1/20'));
});

interface PlotSample {
  scroll_id: string;
  events: Array<Record<string, unknown>>;
  min_iteration: number | null;
  max_iteration: number | null;
}

test('plot viewer (UI): a metric\'s plots of one iteration, stepping by iteration or across metrics', async () => {
  const written: Record<string, number[]> = { m1: [0, 1, 2, 3, 4], m2: [1, 3] };
  const variants: Record<string, string[]> = { m1: ['a', 'b'], m2: ['c'] };
  const expectAt = (metric: string, iter: number) => ({
    events: (variants[metric] as string[]).map((v) => ({ type: 'plot', task: P, iter, metric, variant: v, plot_str: plot(P, metric, v, iter).plot_str, timestamp: T0 + iter })),
    min_iteration: Math.min(...(written[metric] as number[])),
    max_iteration: Math.max(...(written[metric] as number[])),
  });
  const strip = (r: PlotSample) => ({ events: r.events, min_iteration: r.min_iteration, max_iteration: r.max_iteration });
  const open = await c.call<PlotSample>('events.get_plot_sample', { task: P, metric: 'm1' }, UI);
  assert.equal(open.status, 200, open.msg);
  assert.deepEqual(strip(open.data), expectAt('m1', 4));
  // On its metric: iteration by iteration, down to the first, then nothing.
  let scroll = open.data.scroll_id;
  for (const it of [3, 2, 1, 0]) {
    const r = await c.call<PlotSample>('events.next_plot_sample', { task: P, scroll_id: scroll, navigate_earlier: true }, UI);
    assert.deepEqual(strip(r.data), expectAt('m1', it));
    scroll = r.data.scroll_id;
  }
  const end = await c.call<PlotSample>('events.next_plot_sample', { task: P, scroll_id: scroll, navigate_earlier: true }, UI);
  assert.deepEqual(strip(end.data), { events: [], min_iteration: null, max_iteration: null });
  // Across metrics: (iteration, metric) order.
  const order = Object.entries(written)
    .flatMap(([m, its]) => its.map((it) => [it, m] as const))
    .sort((x, y) => x[0] - y[0] || cmp(x[1], y[1]));
  const wide = await c.call<PlotSample>('events.get_plot_sample', { task: P, metric: 'm2', iteration: 3, navigate_current_metric: false }, UI);
  assert.deepEqual(strip(wide.data), expectAt('m2', 3));
  let pos = order.findIndex(([it, m]) => it === 3 && m === 'm2');
  scroll = wide.data.scroll_id;
  for (const dir of [true, true, true, false, false]) {
    const r = await c.call<PlotSample>('events.next_plot_sample', { task: P, scroll_id: scroll, navigate_earlier: dir }, UI);
    pos += dir ? -1 : 1;
    const [it, m] = order[pos] as readonly [number, string];
    assert.deepEqual(strip(r.data), expectAt(m, it), `step to ${m}@${it}`);
    scroll = r.data.scroll_id;
  }
  const [curIt] = order[pos] as readonly [number, string];
  const jump = await c.call<PlotSample>('events.next_plot_sample', { task: P, scroll_id: scroll, navigate_earlier: false, next_iteration: true }, UI);
  const target = order.find(([it]) => it > curIt) as readonly [number, string];
  assert.deepEqual(strip(jump.data), expectAt(target[1], target[0]));
  // An iteration asked for: the latest at or before it; an unknown metric: nothing.
  assert.deepEqual(strip((await c.call<PlotSample>('events.get_plot_sample', { task: P, metric: 'm2', iteration: 2 }, UI)).data), expectAt('m2', 1));
  assert.deepEqual(strip((await c.call<PlotSample>('events.get_plot_sample', { task: P, metric: 'nope' }, UI)).data), { events: [], min_iteration: null, max_iteration: null });
  assertError(await c.call('events.get_plot_sample', { task: P, metric: 'm2', scroll_id: open.data.scroll_id }, UI), 400, 1104, 'other metric');
  assertError(await c.call('events.next_debug_image_sample', { task: P, scroll_id: open.data.scroll_id }, UI), 400, 1104, 'an image viewer');
  assertError(await c.call('events.get_plot_sample', { task: P, metric: 'm1' }, { version: '2.14' }), 404, 0, 'before 2.20');
});

// ------------------------------------------------------------------------------ metric lists

test('get_task_metrics: per task in request order, the metrics of one event type; Summary values left out', async () => {
  const body = { tasks: [A, P, S, 'no-such-task', A], event_type: 'training_debug_image' };
  const names = (task: string, type: string): string[] => {
    const events: Array<{ task: string; type: string; metric: string; iter: number }> = [
      ...IMAGES,
      ...[0, 1, 2, 3, 4].flatMap((it) => [plot(P, 'm1', 'a', it)]),
      plot(P, 'm2', 'c', 1),
      scalar(S, 'loss', 'train', 0, 1),
      scalar(S, 'Summary', 'acc', -2147483648, 0.9),
    ];
    return [...new Set(events.filter((e) => e.task === task && e.type === type && e.iter > -2147483648).map((e) => e.metric))].sort();
  };
  for (const type of ['training_debug_image', 'plot', 'training_stats_scalar', 'training_stats_vector', 'log']) {
    const r = await c.call<{ metrics: Array<{ task: string; metrics: string[] }> }>('events.get_task_metrics', { ...body, event_type: type }, UI);
    assert.equal(r.status, 200, r.msg);
    assert.deepEqual(r.data.metrics, [A, P, S, 'no-such-task'].map((task) => ({ task, metrics: type === 'log' ? [] : names(task, type) })), type);
  }
  assert.deepEqual((await c.call('events.get_task_metrics', { tasks: [S], event_type: 'training_stats_scalar' }, { version: '2.7' })).data, { metrics: [{ task: S, metrics: ['loss'] }] });
  assertError(await c.call('events.get_task_metrics', { tasks: [A] }, UI), 400, 11, 'no event_type');
  assertError(await c.call('events.get_task_metrics', { tasks: [A], event_type: 'images' }, UI), 400, 12, 'bad event_type');
  assertError(await c.call('events.get_task_metrics', { tasks: [], event_type: 'plot' }, UI), 400, 12, 'no tasks');
  assertError(await c.call('events.get_task_metrics', { tasks: [''], event_type: 'plot' }, UI), 400, 101, 'bad task');
});

test('get_multi_task_metrics (2.28): the metrics and variants any of the tasks reported, of one type or all', async () => {
  const all = await c.call<{ metrics: Array<{ metric: string; variants: string[] }> }>('events.get_multi_task_metrics', { tasks: [A, P, S, 'no-such-task'] }, UI);
  assert.equal(all.status, 200, all.msg);
  const pairs = new Map<string, Set<string>>();
  const add = (m: string, v: string) => pairs.set(m, (pairs.get(m) ?? new Set()).add(v));
  for (const e of IMAGES) if (e.task === A) add(e.metric, e.variant);
  for (const [m, vs] of [['m1', ['a', 'b']], ['m2', ['c']]] as const) for (const v of vs) add(m, v);
  add('loss', 'train');
  add('Summary', 'acc');
  const expected = [...pairs].map(([metric, vs]) => ({ metric, variants: [...vs].sort() })).sort((x, y) => cmp(x.metric, y.metric));
  assert.deepEqual(all.data, { metrics: expected });
  const plotsOnly = await c.call('events.get_multi_task_metrics', { tasks: [A, P], event_type: 'plot' }, UI);
  assert.deepEqual(plotsOnly.data, { metrics: [{ metric: 'm1', variants: ['a', 'b'] }, { metric: 'm2', variants: ['c'] }] });
  assert.deepEqual((await c.call('events.get_multi_task_metrics', { tasks: [A], event_type: 'log' }, UI)).data, { metrics: [] });
  assertError(await c.call('events.get_multi_task_metrics', {}, UI), 400, 11, 'no tasks');
  assertError(await c.call('events.get_multi_task_metrics', { tasks: [A] }, { version: '2.23' }), 404, 0, 'before 2.28');
});
