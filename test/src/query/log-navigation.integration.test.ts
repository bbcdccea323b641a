/**
 * get_task_log 2.9 and 2.30 through the whole pipeline: navigation by timestamp without a cursor,
 * with the web UI's console-tab bodies (at /v999.0/: pages of 1000 back and forth by
 * `from_timestamp`) and the SDK's `get_reported_console_output(n)` body (at /v2.23/: the last n
 * lines, oldest first). Lines sharing a millisecond are never lost nor repeated across pages,
 * even a millisecond of more lines than a page and its completion can hold. 2.30's `metrics`;
 * clear_scroll; bad parameters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, log, type Api } from './support';

let p: Pipeline;
let c: Api;

interface LogEvent {
  type: string;
  task: string;
  timestamp: number;
  msg: string;
  level: string;
  worker: string;
  iter: number;
}
interface Page {
  events: LogEvent[];
  returned: number;
  total: number;
}

/** The UI's path: every endpoint at /v999.0/, so the newest handler. */
const UI = { version: '999.0' };
/** The SDK's path with the 2.23 token. */
const SDK = { version: '2.23' };
const UI_BATCH = 1000;

// A console log of 3,000 lines, three to a millisecond: pages of 1000 end inside a millisecond.
const CONSOLE = 'task-console';
const CONSOLE_LINES = Array.from({ length: 3000 }, (_, i) => log(CONSOLE, T0 + Math.floor(i / 3), `line ${i}`, i % 2 ? 'info' : 'warning', `w${i % 3}`));
// A millisecond of more lines than a page plus its completion (BOUNDARY_LINES = 10,000) can hold,
// between 50 older and 50 newer lines.
const CROWDED = 'task-crowded';
const CROWD = 10_100;
const CROWD_TS = T0 + 1000;
const CROWDED_LINES = [
  ...Array.from({ length: 50 }, (_, i) => log(CROWDED, T0 + i, `old ${i}`)),
  ...Array.from({ length: CROWD }, (_, i) => log(CROWDED, CROWD_TS, `crowd ${i}`)),
  ...Array.from({ length: 50 }, (_, i) => log(CROWDED, CROWD_TS + 1 + i, `new ${i}`)),
];
// What the SDK reads: one report per millisecond.
const REPORTS = 'task-reports';
const REPORT_LINES = Array.from({ length: 20 }, (_, i) => log(REPORTS, T0 + i * 1000, `report ${i}`));

before(async () => {
  p = await startPipeline();
  c = api(p);
  await c.ingest([...CONSOLE_LINES, ...REPORT_LINES]);
  await c.ingest(CROWDED_LINES);
});

after(async () => {
  await p?.stop();
});

const msgs = (events: readonly { msg: string }[]): string[] => events.map((e) => e.msg);

/**
 * The page the contract defines, from the lines as written (oldest first; lines of one
 * millisecond in the order they were sent): `batch` lines beyond the bound in the direction,
 * then the rest of the last line's millisecond.
 */
function expectedPage(lines: ReturnType<typeof log>[], batch: number, earlier: boolean, from?: number): string[] {
  const inDirection = (earlier ? [...lines].reverse() : lines).filter((l) => from === undefined || (earlier ? l.timestamp < from : l.timestamp > from));
  const page = inDirection.slice(0, batch);
  const edge = page.at(-1)?.timestamp;
  const rest = inDirection.slice(batch).filter((l) => l.timestamp === edge);
  return msgs([...page, ...rest]);
}

async function navigate(body: Record<string, unknown>, opts = UI): Promise<Page> {
  const r = await c.call<Page>('events.get_task_log', body, opts);
  assert.equal(r.status, 200, r.msg);
  assert.deepEqual(Object.keys(r.data).sort(), ['events', 'returned', 'total'], 'no scroll_id: 2.9 navigates by timestamp');
  assert.equal(r.data.returned, r.data.events.length);
  return r.data;
}

test('the UI console tab: the newest 1000 lines, then pages back by from_timestamp, every line once', async () => {
  // The first request of the tab (and its refresh): from_timestamp null.
  const first = await navigate({ task: CONSOLE, batch_size: UI_BATCH, navigate_earlier: true, from_timestamp: null });
  assert.equal(first.total, CONSOLE_LINES.length);
  assert.deepEqual(msgs(first.events), expectedPage(CONSOLE_LINES, UI_BATCH, true));
  // Line 2000 shares its millisecond with 1998 and 1999: the page holds them too.
  assert.equal(first.returned, 1002);
  const newest = CONSOLE_LINES.at(-1);
  assert.deepEqual(first.events[0], { type: 'log', task: CONSOLE, timestamp: newest?.timestamp, level: newest?.level, worker: newest?.worker, msg: newest?.msg, iter: 0 });

  // "prev": from the oldest line shown, until a page shorter than the batch (the UI's start of log).
  const pages = [first];
  while ((pages.at(-1)?.returned ?? 0) >= UI_BATCH) {
    const from = pages.at(-1)?.events.at(-1)?.timestamp;
    const page = await navigate({ task: CONSOLE, batch_size: UI_BATCH, navigate_earlier: true, from_timestamp: from });
    assert.deepEqual(msgs(page.events), expectedPage(CONSOLE_LINES, UI_BATCH, true, from));
    pages.push(page);
  }
  assert.deepEqual(
    pages.map((pg) => pg.returned),
    [1002, 1002, 996],
  );
  assert.deepEqual(msgs(pages.flatMap((pg) => pg.events)), msgs(CONSOLE_LINES).reverse());
  // Before the first line: nothing, with the total (the UI marks the start of the log).
  const start = await navigate({ task: CONSOLE, batch_size: UI_BATCH, navigate_earlier: true, from_timestamp: T0 });
  assert.deepEqual([start.events, start.total], [[], CONSOLE_LINES.length]);

  // "next": from the newest line shown, oldest first.
  const from = T0 + 500;
  const next = await navigate({ task: CONSOLE, batch_size: UI_BATCH, navigate_earlier: false, from_timestamp: from });
  assert.deepEqual(msgs(next.events), expectedPage(CONSOLE_LINES, UI_BATCH, false, from));
  assert.equal(next.events[0]?.msg, 'line 1503');
  const end = await navigate({ task: CONSOLE, batch_size: UI_BATCH, navigate_earlier: false, from_timestamp: T0 + 999 });
  assert.deepEqual(end.events, []);
});

test('a line newer than the page shown comes with the next "next" page', async () => {
  const task = 'task-console-live';
  await c.ingest(Array.from({ length: 5 }, (_, i) => log(task, T0 + i, `first ${i}`)));
  const shown = await navigate({ task, batch_size: UI_BATCH });
  assert.deepEqual(msgs(shown.events), ['first 4', 'first 3', 'first 2', 'first 1', 'first 0']);
  await c.ingest([log(task, T0 + 10, 'later')]);
  const next = await navigate({ task, batch_size: UI_BATCH, navigate_earlier: false, from_timestamp: shown.events[0]?.timestamp });
  assert.deepEqual([msgs(next.events), next.total], [['later'], 6]);
});

test('the SDK: get_reported_console_output(n) reads the last n reports, oldest first', async () => {
  // Task.get_reported_console_output's body for API 2.9 and later.
  for (const n of [1, 5, 20, 50]) {
    const page = await navigate({ task: REPORTS, order: 'asc', navigate_earlier: true, batch_size: n }, SDK);
    const last = REPORT_LINES.slice(-n);
    assert.deepEqual(msgs(page.events), msgs(last), `n = ${n}`);
    assert.equal(page.total, REPORT_LINES.length);
  }
  // The same at 2.9 itself; and with the default page (5000).
  assert.deepEqual(msgs((await navigate({ task: REPORTS, order: 'asc', batch_size: 2 }, { version: '2.9' })).events), ['report 18', 'report 19']);
  assert.equal((await navigate({ task: REPORTS }, SDK)).returned, REPORT_LINES.length);
});

test('order reverses a page whose direction it contradicts', async () => {
  const newestFirst = msgs(REPORT_LINES.slice(-3)).reverse();
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3 })).events), newestFirst);
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3, order: 'desc' })).events), newestFirst);
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3, order: 'asc' })).events), [...newestFirst].reverse());
  const oldestFirst = msgs(REPORT_LINES.slice(0, 3));
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3, navigate_earlier: false })).events), oldestFirst);
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3, navigate_earlier: false, order: 'asc' })).events), oldestFirst);
  assert.deepEqual(msgs((await navigate({ task: REPORTS, batch_size: 3, navigate_earlier: false, order: 'desc' })).events), [...oldestFirst].reverse());
});

test('from_timestamp: strictly before or after; fractions, 0 and bounds beyond any stored time', async () => {
  const at = (i: number): number => T0 + i * 1000;
  const page = async (from: unknown, earlier: boolean, batch = 2) => msgs((await navigate({ task: REPORTS, batch_size: batch, navigate_earlier: earlier, from_timestamp: from })).events);
  assert.deepEqual(await page(at(10), true), ['report 9', 'report 8']);
  assert.deepEqual(await page(at(10), false), ['report 11', 'report 12']);
  assert.deepEqual(await page(at(10) + 0.5, true), ['report 10', 'report 9']);
  assert.deepEqual(await page(at(10) - 0.5, false), ['report 10', 'report 11']);
  // 0 is "not set", as on the reference server.
  assert.deepEqual(await page(0, true), ['report 19', 'report 18']);
  assert.deepEqual(await page(0, false), ['report 0', 'report 1']);
  assert.deepEqual(await page(1e300, true), ['report 19', 'report 18']);
  assert.deepEqual(await page(1e300, false), []);
  assert.deepEqual(await page(-1e300, true), []);
  assert.deepEqual(await page(-1e300, false), ['report 0', 'report 1']);
  assert.deepEqual(await page(-1, false), ['report 0', 'report 1']);
  // A bare Infinity token (Python's json.dumps writes them).
  const inf = await c.call<Page>('events.get_task_log', `{"task":"${REPORTS}","batch_size":1,"from_timestamp":Infinity}`, UI);
  assert.deepEqual(msgs(inf.data.events), ['report 19']);
});

test('a millisecond of more lines than a page can be completed with is paged whole', async () => {
  const batch = 100;
  const pages: Page[] = [];
  let from: number | undefined;
  for (;;) {
    const page = await navigate({ task: CROWDED, batch_size: batch, ...(from === undefined ? {} : { from_timestamp: from }) });
    if (page.returned === 0) break;
    pages.push(page);
    from = page.events.at(-1)?.timestamp;
  }
  // The newest 50 lines and 50 of the crowd would leave 10,050 of the crowd to complete the page:
  // it stops before the crowd instead, and the next page holds the crowd whole.
  assert.deepEqual(
    pages.map((pg) => pg.returned),
    [50, CROWD, 50],
  );
  assert.deepEqual(msgs(pages[0]?.events ?? []), Array.from({ length: 50 }, (_, i) => `new ${49 - i}`));
  const crowd = pages[1]?.events ?? [];
  assert.ok(crowd.every((e) => e.timestamp === CROWD_TS));
  // The crowd came in three requests, ordered within the millisecond by seq: compared as a set.
  assert.deepEqual(new Set(msgs(crowd)), new Set(Array.from({ length: CROWD }, (_, i) => `crowd ${i}`)));
  assert.equal(crowd.length, CROWD);
  assert.deepEqual(msgs(pages[2]?.events ?? []), Array.from({ length: 50 }, (_, i) => `old ${49 - i}`));
  for (const pg of pages) assert.equal(pg.total, CROWDED_LINES.length);
  // Forward, the same lines once each.
  const forward: string[] = [];
  from = undefined;
  for (;;) {
    const page = await navigate({ task: CROWDED, batch_size: batch, navigate_earlier: false, ...(from === undefined ? {} : { from_timestamp: from }) });
    if (page.returned === 0) break;
    forward.push(...msgs(page.events));
    from = page.events.at(-1)?.timestamp;
  }
  assert.equal(forward.length, CROWDED_LINES.length);
  assert.deepEqual(new Set(forward), new Set(msgs(CROWDED_LINES)));
});

test('2.30 metrics: log lines carry no metric, so only the metric "" selects them', async () => {
  const ask = async (metrics: unknown, version = UI) => (await navigate({ task: REPORTS, batch_size: 100, metrics }, version)).events.length;
  assert.equal(await ask([{ metric: 'loss' }]), 0);
  assert.equal(await ask([{ metric: 'loss', variants: ['train'] }, { metric: '', variants: ['x'] }]), 0);
  assert.equal(await ask([{ metric: 'loss' }, { metric: '' }]), REPORT_LINES.length);
  assert.equal(await ask([{ metric: '', variants: [''] }]), REPORT_LINES.length);
  assert.equal(await ask([]), REPORT_LINES.length);
  assert.equal(await ask(null), REPORT_LINES.length);
  const none = await navigate({ task: REPORTS, metrics: [{ metric: 'loss' }] });
  assert.deepEqual([none.events, none.returned, none.total], [[], 0, 0]);
  // 2.9 has no metrics: the field is ignored like any unknown one.
  assert.equal(await ask([{ metric: 'loss' }], { version: '2.29' }), REPORT_LINES.length);
});

test('old versions keep their cursors; unknown tasks read empty; bad parameters are 400s', async () => {
  const old = await c.call<Page & { scroll_id: string }>('events.get_task_log', { task: REPORTS, batch_size: 2 }, { version: '2.8' });
  assert.deepEqual([msgs(old.data.events), typeof old.data.scroll_id], [['report 0', 'report 1'], 'string']);
  const none = await navigate({ task: 'no-such-task', batch_size: UI_BATCH, from_timestamp: null });
  assert.deepEqual([none.events, none.returned, none.total], [[], 0, 0]);
  for (const [body, subcode] of [
    [{ task: REPORTS, batch_size: 0 }, 12],
    [{ task: REPORTS, batch_size: 10_001 }, 12],
    [{ task: REPORTS, batch_size: 1.5 }, 12],
    [{ task: REPORTS, navigate_earlier: 'yes' }, 12],
    [{ task: REPORTS, from_timestamp: '1700000000000' }, 12],
    [{ task: REPORTS, order: 'up' }, 12],
    [{ task: REPORTS, metrics: 'loss' }, 12],
    [{ task: REPORTS, metrics: [{ metric: 5 }] }, 12],
    [{ task: REPORTS, metrics: [{ metric: 'loss', variants: 'train' }] }, 12],
    [{ task: REPORTS, metrics: [{ variants: ['train'] }] }, 11],
    [{ task: REPORTS, metrics: [{ metric: 'x'.repeat(16_385) }] }, 12],
    [{ task: REPORTS, metrics: Array.from({ length: 8 }, (_, i) => ({ metric: `${i}${'é'.repeat(16_000)}` })) }, 12],
    [{ task: '' }, 101],
    [{}, 11],
  ] as Array<[Record<string, unknown>, number]>) {
    assertError(await c.call('events.get_task_log', body, UI), 400, subcode, JSON.stringify(body).slice(0, 100));
  }
  assertError(await c.call('events.get_task_log', `{"task":"${REPORTS}","from_timestamp":NaN}`, UI), 400, 12, 'NaN');
});

test('clear_scroll 2.18: nothing to release (cursors are stateless), the body is validated', async () => {
  const first = await c.call<Page & { scroll_id: string }>('events.get_task_log', { task: REPORTS, batch_size: 2 }, { version: '1.7' });
  for (const scrollId of [first.data.scroll_id, 'not-a-cursor', '']) {
    const r = await c.call('events.clear_scroll', { scroll_id: scrollId }, UI);
    assert.deepEqual([r.status, r.data], [200, {}]);
  }
  // The cursor still pages on.
  const next = await c.call<Page>('events.get_task_log', { task: REPORTS, batch_size: 2, scroll_id: first.data.scroll_id }, { version: '1.7' });
  assert.deepEqual(msgs(next.data.events), ['report 2', 'report 3']);
  assertError(await c.call('events.clear_scroll', {}, UI), 400, 11);
  assertError(await c.call('events.clear_scroll', { scroll_id: 5 }, UI), 400, 12);
  assertError(await c.call('events.clear_scroll', { scroll_id: null }, UI), 400, 12);
  assertError(await c.call('events.clear_scroll', { scroll_id: 'x' }, { version: '2.17' }), 404, 0);
  assert.equal((await c.call('events.clear_scroll', { scroll_id: 'x' })).status, 200);
});
