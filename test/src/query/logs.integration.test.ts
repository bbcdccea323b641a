/**
 * Log and all-kinds reads through the whole pipeline: get_task_log (1.5 and 1.7: order, head and
 * tail), get_task_events (2.1) across kinds, paging while events keep arriving, download_task_log
 * as json and text lines, cursors refused when tampered or foreign, bad parameters. (The newer
 * versions: log-navigation and events-and-plots.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, image, log, plot, pinVersions, scalar, tamper, vector, type Api } from './support';

let p: Pipeline;
let c: Api;
const L = 'task-logs';
const N = 1200;
// Pairs of lines share a timestamp: the order within one is the order of arrival.
const tsOf = (i: number): number => T0 + Math.floor(i / 2) * 10;
const LEVELS = ['debug', 'info', 'warning', 'error'];
const logLine = (i: number) => log(L, tsOf(i), `line ${i}${i % 100 === 0 ? ' with "quotes", \\back\\slashes, {braces}, ünïcødé 🚀\nand a second line' : ''}`, LEVELS[i % 4], `worker-${i % 3}`);
const lines = Array.from({ length: N }, (_, i) => logLine(i));

interface Page<E = Record<string, unknown>> {
  events: E[];
  returned: number;
  total: number;
  scroll_id: string;
}

before(async () => {
  p = await startPipeline();
  // Calls without a version read the versions these tests were written for.
  c = pinVersions(api(p), { 'events.get_task_log': '1.7', 'events.get_task_events': '2.1' });
  await c.ingest(lines);
});

after(async () => {
  await p?.stop();
});

/** Every page of a scroll until an empty one; `between` runs after each non-empty page. */
async function scroll(endpoint: string, body: Record<string, unknown>, opts: { version?: string; between?: (page: number) => Promise<void> } = {}): Promise<Page[]> {
  const pages: Page[] = [];
  let scrollId: string | undefined;
  for (;;) {
    const r = await c.call<Page>(endpoint, { ...body, ...(scrollId ? { scroll_id: scrollId } : {}) }, opts);
    assert.equal(r.status, 200, r.msg);
    assert.equal(r.data.returned, r.data.events.length);
    assert.equal(typeof r.data.scroll_id, 'string');
    scrollId = r.data.scroll_id;
    pages.push(r.data);
    if (r.data.returned === 0) return pages;
    await opts.between?.(pages.length);
  }
}

const msgs = (events: Array<Record<string, unknown>>): unknown[] => events.map((e) => e.msg);
const msgOf = (i: number): string => lines[i]?.msg ?? '';
const span = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => msgOf(from + k));

test('get_task_log: the documented shape, oldest first, pages of 500', async () => {
  const pages = await scroll('events.get_task_log', { task: L });
  assert.deepEqual(
    pages.map((pg) => pg.returned),
    [500, 500, 200, 0],
  );
  for (const pg of pages) assert.equal(pg.total, N);
  const all = pages.flatMap((pg) => pg.events);
  assert.deepEqual(msgs(all), span(0, N));
  assert.deepEqual(all[100], { type: 'log', task: L, timestamp: tsOf(100), level: 'debug', worker: 'worker-1', msg: msgOf(100), iter: 0 });
  // An exhausted cursor keeps answering empty pages.
  const again = await c.call<Page>('events.get_task_log', { task: L, scroll_id: pages.at(-1)?.scroll_id });
  assert.deepEqual([again.data.events, again.data.returned, again.data.total], [[], 0, N]);
});

test('get_task_log 1.5: order desc starts from the newest; batch_size', async () => {
  const pages = await scroll('events.get_task_log', { task: L, order: 'desc', batch_size: 250 }, { version: '1.5' });
  assert.deepEqual(
    pages.map((pg) => pg.returned),
    [250, 250, 250, 250, 200, 0],
  );
  assert.deepEqual(msgs(pages.flatMap((pg) => pg.events)), span(0, N).reverse());
  // 1.5 has no `from`: it is ignored like any unknown field.
  const tail = await c.call<Page>('events.get_task_log', { task: L, from: 'tail', batch_size: 3 }, { version: '1.5' });
  assert.deepEqual(msgs(tail.data.events), span(0, 3));
});

test('get_task_log 1.7: from tail pages back from the newest, each page in the requested order', async () => {
  const tailAsc = await scroll('events.get_task_log', { task: L, from: 'tail' }, { version: '1.7' });
  assert.deepEqual(
    tailAsc.map((pg) => msgs(pg.events)),
    [span(700, 1200), span(200, 700), span(0, 200), []],
  );
  const tailDesc = await scroll('events.get_task_log', { task: L, from: 'tail', order: 'desc', batch_size: 600 }, { version: '2.8' });
  assert.deepEqual(
    tailDesc.map((pg) => msgs(pg.events)),
    [span(600, 1200).reverse(), span(0, 600).reverse(), []],
  );
  const headDesc = await scroll('events.get_task_log', { task: L, from: 'head', order: 'desc', batch_size: 700 });
  assert.deepEqual(
    headDesc.map((pg) => msgs(pg.events)),
    [span(0, 700).reverse(), span(700, 1200).reverse(), []],
  );
});

test('get_task_log: no duplicate and no gap while new lines keep arriving', async () => {
  const task = 'task-live-log';
  await c.ingest(Array.from({ length: 30 }, (_, i) => log(task, T0 + i, `old ${i}`)));
  let added = 0;
  // Four newer lines after each of the first three pages of a scroll.
  const more = async (page: number): Promise<void> => {
    if (page > 3) return;
    await c.ingest(Array.from({ length: 4 }, (_, k) => log(task, T0 + 1000 + added + k, `new ${added + k}`)));
    added += 4;
  };
  const old = Array.from({ length: 30 }, (_, i) => `old ${i}`);
  const fresh = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `new ${from + i}`);
  // Oldest first: the new lines come after the old ones, in the same scroll.
  const asc = await scroll('events.get_task_log', { task, batch_size: 8 }, { between: more });
  assert.deepEqual(msgs(asc.flatMap((pg) => pg.events)), [...old, ...fresh(0, 12)]);
  assert.equal(asc.at(-1)?.total, 42);
  // Newest first: what arrives during the scroll is newer than where it started, so never shows.
  const desc = await scroll('events.get_task_log', { task, from: 'tail', order: 'desc', batch_size: 8 }, { between: more });
  assert.deepEqual(msgs(desc.flatMap((pg) => pg.events)), [...old, ...fresh(0, 12)].reverse());
  assert.equal(desc.at(-1)?.total, 54);
  // The ascending scroll, at its end, continues with the lines that arrived since.
  const resumed = await c.call<Page>('events.get_task_log', { task, batch_size: 1000, scroll_id: asc.at(-1)?.scroll_id });
  assert.deepEqual(msgs(resumed.data.events), fresh(12, 24));
});

test('get_task_events: every kind by timestamp, reference shapes, asc and desc', async () => {
  const task = 'task-all-kinds';
  const img = image(task, 'img', 'v', 3, 'k1', T0 + 3);
  const plt = plot(task, 'roc', 'v', 3, T0 + 2);
  await c.ingest([scalar(task, 'loss', 'train', 3, 0.25, T0 + 5), vector(task, 'hist', 'w', 3, [1, NaN], T0 + 1), img, plt, log(task, T0 + 4, 'hello', 'error', 'gpu'), scalar(task, 'loss', 'train', 2, -1, T0)]);
  const r = await c.call<Page>('events.get_task_events', { task });
  assert.equal(r.status, 200);
  assert.equal(r.data.total, 6);
  assert.deepEqual(r.data.events, [
    { type: 'training_stats_scalar', task, iter: 2, metric: 'loss', variant: 'train', timestamp: T0, value: -1 },
    { type: 'training_stats_vector', task, iter: 3, metric: 'hist', variant: 'w', timestamp: T0 + 1, value: [1, NaN] },
    { type: 'plot', task, iter: 3, metric: 'roc', variant: 'v', timestamp: T0 + 2, plot_str: plt.plot_str },
    { type: 'training_debug_image', task, iter: 3, metric: 'img', variant: 'v', timestamp: T0 + 3, key: 'k1', url: img.url },
    { type: 'log', task, timestamp: T0 + 4, level: 'error', worker: 'gpu', msg: 'hello', iter: 0 },
    { type: 'training_stats_scalar', task, iter: 3, metric: 'loss', variant: 'train', timestamp: T0 + 5, value: 0.25 },
  ]);
  const desc = await c.call<Page>('events.get_task_events', { task, order: 'desc' });
  assert.deepEqual(desc.data.events, [...r.data.events].reverse());
});

test('get_task_events: pages across kinds sharing timestamps, while events arrive', async () => {
  const task = 'task-mixed';
  const initial: Array<Record<string, unknown> & { type: string; task: string }> = Array.from({ length: 40 }, (_, i) => {
    const ts = T0 + Math.floor(i / 5); // five events per timestamp, of different kinds
    switch (i % 5) {
      case 0:
        return scalar(task, 'm', `v${i}`, i, i, ts);
      case 1:
        return image(task, 'm', 'v', i, `k${i}`, ts);
      case 2:
        return plot(task, 'm', `v${i}`, i, ts);
      case 3:
        return vector(task, 'm', `v${i}`, i, [i], ts);
      default:
        return log(task, ts, `log ${i}`);
    }
  });
  await c.ingest(initial);
  const id = (e: Record<string, unknown>): string => JSON.stringify(e.type === 'log' ? [e.type, e.msg] : [e.type, e.metric, e.variant, e.iter, e.key ?? '']);
  let round = 0;
  const asc = await scroll('events.get_task_events', { task, batch_size: 6 }, {
    between: async (page) => {
      if (page > 3) return;
      round++;
      await c.ingest([scalar(task, 'late', 'v', round, round, T0 + 100 + round), log(task, T0 + 100 + round, `late ${round}`)]);
    },
  });
  const seen = asc.flatMap((pg) => pg.events);
  const ids = seen.map(id);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  const ts = seen.map((e) => e.timestamp as number);
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'by timestamp');
  // Every initial event, and every one that arrived before the scroll reached its end.
  for (const e of initial) assert.ok(ids.includes(id(e)), id(e));
  assert.equal(seen.length, 40 + 2 * round);
  assert.equal(asc.at(-1)?.total, 40 + 2 * round);
});

test('download_task_log: json lines, oldest first, as an attachment', async () => {
  const res = await c.fetch('events.download_task_log', { task: L });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="task_${L}.log"`);
  assert.equal(res.headers.get('content-length'), null, 'streamed, not buffered');
  const text = await res.text();
  const out = text.split('\n');
  assert.equal(out.pop(), '', 'every line ends with a newline');
  assert.equal(out.length, N);
  const first = JSON.parse(out[0] ?? '') as Record<string, unknown>;
  assert.deepEqual(first, { asctime: '2024-01-01 00:00:00,000', timestamp: T0, level: 'debug', worker: 'worker-0', msg: msgOf(0) });
  assert.deepEqual(
    out.map((l) => (JSON.parse(l) as { msg: string }).msg),
    span(0, N),
  );
});

test('download_task_log: text lines with line_format', async () => {
  const text = await (await c.fetch('events.download_task_log', { task: L, line_type: 'text' })).text();
  const lines0 = text.split('\n');
  assert.equal(lines0[0], `2024-01-01 00:00:00,000 worker-0 debug line 0 with "quotes", \\back\\slashes, {braces}, ünïcødé 🚀`);
  assert.equal(lines0[1], 'and a second line');
  assert.equal(lines0[2], '2024-01-01 00:00:00,000 worker-1 info line 1');
  assert.equal(lines0[3], '2024-01-01 00:00:00,010 worker-2 warning line 2');
  const custom = await (await c.fetch('events.download_task_log', { task: L, line_type: 'text', line_format: '{timestamp}|{level}|{{{msg}}}\n' })).text();
  assert.ok(custom.startsWith(`${T0}|debug|{line 0 with`));
  assert.ok(custom.endsWith(`${tsOf(N - 1)}|${LEVELS[(N - 1) % 4]}|{line ${N - 1}}\n`));
  const empty = await c.fetch('events.download_task_log', { task: 'no-such-task', line_type: 'text' });
  assert.equal(empty.status, 200);
  assert.equal(await empty.text(), '');
  for (const body of [
    { task: L, line_type: 'text', line_format: '{asctime} {host} {msg}' },
    { task: L, line_type: 'text', line_format: '{msg:>20}' },
    { task: L, line_type: 'text', line_format: '{msg' },
    { task: L, line_type: 'text', line_format: '' },
    { task: L, line_type: 'xml' },
    { task: L, line_format: 5 },
  ]) {
    assertError(await c.call('events.download_task_log', body), 400, 12, JSON.stringify(body));
  }
  assertError(await c.call('events.download_task_log', {}), 400, 11);
  assertError(await c.call('events.download_task_log', { task: '' }), 400, 101);
});

test('cursors: tampered or foreign ones are 400/1104; bad parameters 400/12; unknown tasks read empty', async () => {
  const first = await c.call<Page>('events.get_task_log', { task: L, batch_size: 10 });
  const sid = first.data.scroll_id;
  assertError(await c.call('events.get_task_log', { task: L, scroll_id: tamper(sid) }), 400, 1104, 'tampered');
  assertError(await c.call('events.get_task_log', { task: L, scroll_id: `${sid}x` }), 400, 1104, 'bad signature');
  assertError(await c.call('events.get_task_log', { task: L, scroll_id: 'not-a-cursor' }), 400, 1104, 'garbage');
  assertError(await c.call('events.get_task_log', { task: 'task-live-log', scroll_id: sid }), 400, 1104, 'other task');
  assertError(await c.call('events.get_task_log', { task: L, order: 'desc', scroll_id: sid }), 400, 1104, 'other order');
  assertError(await c.call('events.get_task_log', { task: L, from: 'tail', scroll_id: sid }, { version: '1.7' }), 400, 1104, 'other direction');
  assertError(await c.call('events.get_task_events', { task: L, scroll_id: sid }), 400, 1104, 'other endpoint');
  const ev = await c.call<Page>('events.get_task_events', { task: L, batch_size: 2 });
  assertError(await c.call('events.get_task_events', { task: L, scroll_id: tamper(ev.data.scroll_id) }), 400, 1104, 'tampered events cursor');
  // The same cursor twice gives the same page (stateless); the next cursors carry the time they
  // were issued (their expiry) but resume at the same place.
  const a = await c.call<Page>('events.get_task_events', { task: L, batch_size: 2, scroll_id: ev.data.scroll_id });
  const b = await c.call<Page>('events.get_task_events', { task: L, batch_size: 2, scroll_id: ev.data.scroll_id });
  const { scroll_id: nextA, ...pageA } = a.data;
  const { scroll_id: nextB, ...pageB } = b.data;
  assert.deepEqual(pageA, pageB);
  assert.deepEqual(msgs(a.data.events), span(2, 4));
  for (const next of [nextA, nextB]) {
    assert.deepEqual(msgs((await c.call<Page>('events.get_task_events', { task: L, batch_size: 2, scroll_id: next })).data.events), span(4, 6));
  }

  for (const [endpoint, body, subcode] of [
    ['events.get_task_log', { task: L, order: 'up' }, 12],
    ['events.get_task_log', { task: L, batch_size: 0 }, 12],
    ['events.get_task_log', { task: L, batch_size: 10_001 }, 12],
    ['events.get_task_log', { task: L, batch_size: '5' }, 12],
    ['events.get_task_log', { task: L, from: 'middle' }, 12],
    ['events.get_task_log', { task: L, scroll_id: 7 }, 12],
    ['events.get_task_log', {}, 11],
    ['events.get_task_log', { task: 'tab\there' }, 101],
    ['events.get_task_events', { task: L, order: 'random' }, 12],
    ['events.get_task_events', { task: L, batch_size: -1 }, 12],
    ['events.get_task_events', { task: '' }, 101],
    ['events.get_task_events', {}, 11],
  ] as Array<[string, unknown, number]>) {
    assertError(await c.call(endpoint, body), 400, subcode, `${endpoint} ${JSON.stringify(body)}`);
  }
  for (const endpoint of ['events.get_task_log', 'events.get_task_events']) {
    const r = await c.call<Page>(endpoint, { task: 'no-such-task' });
    assert.deepEqual([r.status, r.data.events, r.data.returned, r.data.total], [200, [], 0, 0]);
    assert.ok(r.data.scroll_id);
  }
});
