/**
 * Debug images and plots through the whole pipeline: the last `iters` iterations (per task,
 * per metric and variant for plots), their order, paging while events keep arriving, the
 * multi-task plot tree, last write wins, cursors, bad parameters and unknown tasks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, image, plot, tamper, type Api } from './support';

/** debug_images' 2.1 form (`task`, answer `images`); newer versions take `metrics` (samples.integration.test.ts). */
const DEBUG_IMAGES_2_1 = 'v2.1/events.debug_images';

let p: Pipeline;
let c: Api;
const I = 'task-images';
const P = 'task-plots';
const Q = 'task-plots-2';

interface Images {
  task: string;
  images: Array<Record<string, unknown>>;
  returned: number;
  total: number;
  scroll_id: string;
}
interface Plots {
  plots: Array<Record<string, unknown>>;
  returned: number;
  total: number;
  scroll_id: string;
}
type Tree = Record<string, Record<string, Record<string, Record<string, { name: string; plots: Array<Record<string, unknown>> }>>>>;
interface MultiPlots {
  plots: Tree;
  returned: number;
  total: number;
  scroll_id: string;
}

const imageIds = (iters: number[], extra: Array<[number, string, string, string]> = []): string[] => {
  const ids: Array<[number, string, string, string]> = [...extra];
  for (const it of iters) for (const m of ['a', 'b']) for (const v of ['x', 'y']) for (const k of ['k0', 'k1']) ids.push([it, m, v, k]);
  return ids.sort((l, r) => r[0] - l[0] || (l.slice(1).join('\u0000') < r.slice(1).join('\u0000') ? -1 : 1)).map((x) => x.join('/'));
};
const imageId = (e: Record<string, unknown>): string => [e.iter, e.metric, e.variant, e.key].join('/');
const plotId = (e: Record<string, unknown>): string => [e.task, e.metric, e.variant, e.iter].join('/');
/** The plot endpoints' first version, which these tests were written for (newer ones: plots.integration.test.ts). */
const V21 = { version: '2.1' };

before(async () => {
  p = await startPipeline();
  c = api(p);
  const images = [];
  for (let it = 0; it < 10; it++) for (const m of ['a', 'b']) for (const v of ['x', 'y']) for (const k of ['k0', 'k1']) images.push(image(I, m, v, it, k));
  await c.ingest([
    ...images,
    ...[0, 1, 2, 3, 4, 5].map((it) => plot(P, 'roc', 'v1', it)),
    ...[0, 2, 4].map((it) => plot(P, 'roc', 'v2', it)),
    plot(P, 'cm', 'x', 3),
    plot(Q, 'roc', 'v1', 10),
    plot(Q, 'roc', 'v1', 11),
    plot(Q, 'other', 'o', 0),
  ]);
});

after(async () => {
  await p?.stop();
});

test('debug_images: the last iteration by default, newest first, the documented shape', async () => {
  const r = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I });
  assert.equal(r.status, 200);
  assert.equal(r.data.task, I);
  assert.equal(r.data.total, 8);
  assert.equal(r.data.returned, 8);
  assert.deepEqual(r.data.images.map(imageId), imageIds([9]));
  assert.deepEqual(r.data.images[0], { type: 'training_debug_image', task: I, iter: 9, metric: 'a', variant: 'x', key: 'k0', url: image(I, 'a', 'x', 9, 'k0').url, timestamp: T0 + 9 });
  const three = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I, iters: 3 });
  assert.deepEqual(three.data.images.map(imageId), imageIds([9, 8, 7]));
  assert.equal(three.data.total, 24);
  const all = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I, iters: 1000 });
  assert.equal(all.data.returned, 80);
});

test('debug_images: pages while images arrive: the iterations stay those of the first page', async () => {
  const pages: Images[] = [];
  let scrollId: string | undefined;
  for (let round = 0; ; round++) {
    const r = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I, iters: 3, batch_size: 5, ...(scrollId ? { scroll_id: scrollId } : {}) });
    assert.equal(r.status, 200, r.msg);
    scrollId = r.data.scroll_id;
    pages.push(r.data);
    if (r.data.returned === 0) break;
    if (round < 2) {
      // A newer iteration (outside the scroll's iterations), and a new image at its oldest one (ahead of the scroll).
      await c.ingest([image(I, 'a', 'x', 10 + round, 'k0'), image(I, 'z', 'z', 7, `late${round}`)]);
    }
  }
  assert.deepEqual(
    pages.flatMap((pg) => pg.images).map(imageId),
    imageIds(
      [9, 8, 7],
      [
        [7, 'z', 'z', 'late0'],
        [7, 'z', 'z', 'late1'],
      ],
    ),
  );
  assert.equal(pages.at(-1)?.total, 26);
  // The next scroll starts from the iterations there are now.
  const now = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I });
  assert.deepEqual(now.data.images.map(imageId), ['11/a/x/k0']);
  assertError(await c.call(DEBUG_IMAGES_2_1, { task: I, iters: 3, scroll_id: tamper(scrollId ?? '') }), 400, 1104, 'tampered');
  assertError(await c.call(DEBUG_IMAGES_2_1, { task: I, iters: 2, scroll_id: scrollId }), 400, 1104, 'other iters');
});

test('debug_images: last write wins', async () => {
  await c.addBatch([{ ...image(I, 'b', 'y', 11, 'k9'), url: 'first' }]);
  await c.addBatch([{ ...image(I, 'b', 'y', 11, 'k9'), url: 'second' }]);
  const r = await waitFor(
    async () => {
      const x = await c.call<Images>(DEBUG_IMAGES_2_1, { task: I });
      return x.data.images.some((e) => e.url === 'second') ? x : undefined;
    },
    { what: 'the re-reported image' },
  );
  assert.deepEqual(r.data.images.map((e) => [imageId(e), e.url]), [
    ['11/a/x/k0', image(I, 'a', 'x', 11, 'k0').url],
    ['11/b/y/k9', 'second'],
  ]);
});

test('get_task_plots: per metric and variant, its last iters iterations, newest first', async () => {
  const one = await c.call<Plots>('events.get_task_plots', { task: P }, V21);
  assert.equal(one.status, 200);
  assert.deepEqual(one.data.plots.map(plotId), [`${P}/roc/v1/5`, `${P}/roc/v2/4`, `${P}/cm/x/3`]);
  assert.deepEqual(one.data.plots[0], { type: 'plot', task: P, iter: 5, metric: 'roc', variant: 'v1', plot_str: plot(P, 'roc', 'v1', 5).plot_str, timestamp: T0 + 5 });
  assert.equal(one.data.total, 3);
  const two = await c.call<Plots>('events.get_task_plots', { task: P, iters: 2 }, V21);
  assert.deepEqual(two.data.plots.map(plotId), [`${P}/roc/v1/5`, `${P}/roc/v1/4`, `${P}/roc/v2/4`, `${P}/cm/x/3`, `${P}/roc/v2/2`]);
  assert.equal(two.data.total, 5);
});

test('get_task_plots: pages while plots arrive', async () => {
  const task = 'task-plots-live';
  await c.ingest([...[0, 1, 2, 3].map((it) => plot(task, 'm', 'a', it)), ...[0, 1, 2].map((it) => plot(task, 'm', 'b', it))]);
  const seen: string[] = [];
  let scrollId: string | undefined;
  let last: Plots | undefined;
  for (let round = 0; ; round++) {
    const r = await c.call<Plots>('events.get_task_plots', { task, iters: 2, batch_size: 1, ...(scrollId ? { scroll_id: scrollId } : {}) }, V21);
    assert.equal(r.status, 200, r.msg);
    scrollId = r.data.scroll_id;
    last = r.data;
    if (r.data.returned === 0) break;
    seen.push(...r.data.plots.map(plotId));
    // Newer iterations don't move the windows under the scroll; a new variant's plots join it.
    if (round < 2) await c.ingest([plot(task, 'm', 'a', 10 + round), plot(task, 'm', `new${round}`, 0)]);
  }
  assert.deepEqual(seen, [`${task}/m/a/3`, `${task}/m/a/2`, `${task}/m/b/2`, `${task}/m/b/1`, `${task}/m/new0/0`, `${task}/m/new1/0`]);
  assert.equal(last?.total, 6);
});

test('get_multi_task_plots: the plot tree of several tasks, paged', async () => {
  const tree = (await c.call<MultiPlots>('events.get_multi_task_plots', { tasks: [P, Q, 'no-such-task'] }, V21)).data;
  const ev = (task: string, metric: string, variant: string, it: number) => ({
    type: 'plot',
    task,
    iter: it,
    metric,
    variant,
    plot_str: plot(task, metric, variant, it).plot_str,
    timestamp: T0 + it,
  });
  const slot = (task: string, metric: string, variant: string, it: number) => ({ [String(it)]: { name: task, plots: [ev(task, metric, variant, it)] } });
  assert.deepEqual(tree.plots, {
    cm: { x: { [P]: slot(P, 'cm', 'x', 3) } },
    other: { o: { [Q]: slot(Q, 'other', 'o', 0) } },
    roc: { v1: { [P]: slot(P, 'roc', 'v1', 5), [Q]: slot(Q, 'roc', 'v1', 11) }, v2: { [P]: slot(P, 'roc', 'v2', 4) } },
  });
  assert.equal(tree.returned, 5);
  assert.equal(tree.total, 5);

  const seen: string[] = [];
  let scrollId: string | undefined;
  for (let round = 0; ; round++) {
    const r = await c.call<MultiPlots>('events.get_multi_task_plots', { tasks: [Q, P], iters: 2, batch_size: 2, ...(scrollId ? { scroll_id: scrollId } : {}) }, V21);
    assert.equal(r.status, 200, r.msg);
    scrollId = r.data.scroll_id;
    if (r.data.returned === 0) break;
    for (const variants of Object.values(r.data.plots)) for (const tasks of Object.values(variants)) for (const iters of Object.values(tasks)) for (const s of Object.values(iters)) seen.push(...s.plots.map(plotId));
    if (round < 2) await c.ingest([plot(Q, 'roc', 'v1', 20 + round)]);
  }
  assert.deepEqual(seen.sort(), [`${P}/cm/x/3`, `${P}/roc/v1/4`, `${P}/roc/v1/5`, `${P}/roc/v2/2`, `${P}/roc/v2/4`, `${Q}/other/o/0`, `${Q}/roc/v1/10`, `${Q}/roc/v1/11`].sort());
  // The task list is a set: order and duplicates don't matter; another list refuses the cursor.
  assert.equal((await c.call('events.get_multi_task_plots', { tasks: [P, Q, P], iters: 2, scroll_id: scrollId }, V21)).status, 200);
  assertError(await c.call('events.get_multi_task_plots', { tasks: [P], iters: 2, scroll_id: scrollId }, V21), 400, 1104, 'other tasks');
  assertError(await c.call('events.get_multi_task_plots', { tasks: [P, Q], iters: 2, scroll_id: tamper(scrollId ?? '') }, V21), 400, 1104, 'tampered');
});

test('unknown tasks read empty; bad parameters are 400/12', async () => {
  const img = await c.call<Images>(DEBUG_IMAGES_2_1, { task: 'no-such-task' });
  assert.deepEqual([img.data.task, img.data.images, img.data.returned, img.data.total], ['no-such-task', [], 0, 0]);
  assert.ok(img.data.scroll_id);
  const again = await c.call<Images>(DEBUG_IMAGES_2_1, { task: 'no-such-task', scroll_id: img.data.scroll_id });
  assert.deepEqual(again.data.images, []);
  const pl = await c.call<Plots>('events.get_task_plots', { task: 'no-such-task' }, V21);
  assert.deepEqual([pl.data.plots, pl.data.returned, pl.data.total], [[], 0, 0]);
  const multi = await c.call<MultiPlots>('events.get_multi_task_plots', { tasks: ['no-such-task'] }, V21);
  assert.deepEqual([multi.data.plots, multi.data.returned, multi.data.total], [{}, 0, 0]);
  for (const [endpoint, body, subcode] of [
    [DEBUG_IMAGES_2_1, { task: I, iters: 0 }, 12],
    [DEBUG_IMAGES_2_1, { task: I, iters: 'all' }, 12],
    [DEBUG_IMAGES_2_1, { task: I, batch_size: 0 }, 12],
    [DEBUG_IMAGES_2_1, {}, 11],
    [DEBUG_IMAGES_2_1, { task: '' }, 101],
    ['events.get_task_plots', { task: P, iters: -1 }, 12],
    ['events.get_task_plots', { task: P, scroll_id: 'x.y' }, 1104],
    ['events.get_task_plots', {}, 11],
    ['events.get_multi_task_plots', { tasks: [] }, 12],
    ['events.get_multi_task_plots', { tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 12],
    ['events.get_multi_task_plots', { tasks: [P], iters: 0 }, 12],
    ['events.get_multi_task_plots', { tasks: [P, '\u0007'] }, 101],
    ['events.get_multi_task_plots', {}, 11],
  ] as Array<[string, unknown, number]>) {
    assertError(await c.call(endpoint, body), 400, subcode, `${endpoint} ${JSON.stringify(body)}`);
  }
});
