/**
 * Charts read from the pre-aggregated scalar buckets must equal the contract computed here from
 * the raw points, whatever happened to the rows: random curves (gaps, negative iterations, NaN
 * and infinities, sent out of order), re-reports and late writes into buckets already
 * aggregated, curves growing between two reads, merges stopped and running, a bucket row that
 * lands before its point, and a deleted task reported again. Each fallback of the read (dirty
 * buckets repaired from the points, stale repairs ignored, counts below `samples`, a repair
 * refused because the tables disagree) has a case here that fails if it is broken.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCALAR_BUCKETS, SCALAR_BUCKETS_VIEW } from '@trackstream/clickhouse';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { seededRandom } from '../helpers/random';
import { assertSeries, expectedSeries, type Series } from './scalar-series';
import { T0, api, scalar, type Api } from './support';

let p: Pipeline;
let c: Api;

const V21 = { version: '2.1' };
const V214 = { version: '2.14' };

before(async () => {
  p = await startPipeline();
  c = api(p);
});

after(async () => {
  await p?.stop();
});

/** What the store holds, point by point: per curve, iteration -> value (the last report wins). */
class Reference {
  readonly curves = new Map<string, Map<number, number>>();
  rows = 0;

  report(task: string, metric: string, variant: string, iter: number, value: number): ReturnType<typeof scalar> {
    const id = JSON.stringify([task, metric, variant]);
    const points = this.curves.get(id) ?? new Map<number, number>();
    points.set(iter, value);
    this.curves.set(id, points);
    this.rows++;
    return scalar(task, metric, variant, iter, value, timestampOf(iter));
  }

  points(task: string, metric: string, variant: string): Array<[number, number]> {
    return [...(this.curves.get(JSON.stringify([task, metric, variant])) ?? new Map<number, number>()).entries()];
  }

  names(): Array<[task: string, metric: string, variant: string]> {
    return [...this.curves.keys()].map((k) => JSON.parse(k) as [string, string, string]);
  }
}

/** Distinct timestamps, in iteration order: a chart by timestamp has no ties to break. */
const timestampOf = (iter: number): number => T0 + (iter + 100_000) * 10;

function value(rnd: () => number): number {
  const r = rnd();
  if (r < 0.004) return NaN;
  if (r < 0.005) return Infinity;
  if (r < 0.006) return -Infinity;
  return (rnd() - 0.5) * 1000;
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** add_batch in batches, then waits until the points and the widest buckets hold every row sent. */
async function send(ref: Reference, task: string, events: Array<ReturnType<typeof scalar>>, rowsBefore: number, batch = 5000): Promise<void> {
  for (let i = 0; i < events.length; i += batch) await c.addBatch(events.slice(i, i + batch));
  const rows = rowsBefore + events.length;
  await p.waitForCount('SELECT count() FROM scalars WHERE task = {task:String}', rows, { task }, 120_000);
  await p.waitForCount(`SELECT sum(rows) FROM ${SCALAR_BUCKETS} WHERE task = {task:String} AND width = 256`, rows, { task }, 120_000);
}

type Charts = Record<string, Record<string, Series>>;

/** Every curve of `task` at every sample count, by iteration, and one count by timestamp, against the reference. */
async function assertCharts(ref: Reference, task: string, what: string): Promise<void> {
  const names = ref.names().filter(([t]) => t === task);
  for (const [samples, version] of [[10, V21], [37, V21], [100, V21], [500, V21], [2000, V21], [6000, V214]] as const) {
    const r = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples }, version);
    assert.equal(r.status, 200, r.msg);
    assert.equal(Object.values(r.data).reduce((n, m) => n + Object.keys(m).length, 0), names.length, `${what}: curves at samples ${samples}`);
    for (const [, metric, variant] of names) {
      assertSeries(r.data[metric]?.[variant], expectedSeries(ref.points(task, metric, variant), samples, variant), `${what}: ${metric}/${variant} at samples ${samples}`);
    }
  }
  const byTime = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples: 500, key: 'timestamp' }, V21);
  for (const [, metric, variant] of names) {
    const points = ref.points(task, metric, variant).map(([i, v]): [number, number] => [timestampOf(i), v]);
    assertSeries(byTime.data[metric]?.[variant], expectedSeries(points, 500, variant), `${what}: ${metric}/${variant} by timestamp`);
  }
}

/** query_chart_curves_total by path, and the repairs counted so far. */
async function chartPaths(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of ['query_chart_curves_total', 'query_chart_bucket_repairs_total']) {
    for (const v of (await p.registry.getSingleMetric(name)?.get())?.values ?? []) out[String(v.labels['path'] ?? 'repairs')] = v.value;
  }
  return out;
}

async function setMerges(on: boolean): Promise<void> {
  for (const table of ['scalars', SCALAR_BUCKETS]) {
    await p.clickhouse.command({ query: `SYSTEM ${on ? 'START' : 'STOP'} MERGES ${p.database}.${table}` });
  }
}

test('random curves stay exact through re-reports, late writes, growth, repairs and merges', async () => {
  const rnd = seededRandom(20261204);
  const ref = new Reference();
  const task = 'task-random';
  const first: Array<ReturnType<typeof scalar>> = [];
  // Lengths that give every width from 1 to 4096 at the sample counts read.
  for (const [i, length] of [300, 1500, 5000, 20_000, 70_000].entries()) {
    for (let it = 0; it < length; it++) first.push(ref.report(task, 'dense', `n${i}`, it, value(rnd)));
  }
  const gaps: number[] = [];
  for (let it = 0; it < 40_000; it += 1 + Math.floor(rnd() * 40)) gaps.push(it);
  const gapSet = new Set(gaps);
  for (const it of gaps) first.push(ref.report(task, 'gaps', 'v', it, value(rnd)));
  for (let it = -5000; it < 5000; it++) first.push(ref.report(task, 'negative', 'v', it, value(rnd)));
  for (let it = 0; it < 3000; it++) first.push(ref.report(task, 'sparse', 'v', it * 997, value(rnd)));

  await setMerges(false);
  try {
    await send(ref, task, shuffle(first, rnd), 0);
    const before = await chartPaths();
    await assertCharts(ref, task, 'first read');
    const firstRead = await chartPaths();
    assert.ok((firstRead['buckets'] ?? 0) - (before['buckets'] ?? 0) >= 10, `clean curves read from the buckets: ${JSON.stringify(firstRead)}`);

    // Re-reports into aggregated buckets, late points filling gaps, a curve growing, a new curve.
    const rowsBefore = ref.rows;
    const second: Array<ReturnType<typeof scalar>> = [];
    for (const [, metric, variant] of ref.names()) {
      for (const [it] of ref.points(task, metric, variant)) if (rnd() < 0.02) second.push(ref.report(task, metric, variant, it, value(rnd)));
    }
    for (let it = 0; it < 40_000; it++) if (!gapSet.has(it) && rnd() < 0.01) second.push(ref.report(task, 'gaps', 'v', it, value(rnd)));
    for (let it = 20_000; it < 23_000; it++) second.push(ref.report(task, 'dense', 'n3', it, value(rnd)));
    for (let it = 0; it < 800; it++) second.push(ref.report(task, 'late', 'v', it, value(rnd)));
    await send(ref, task, shuffle(second, rnd), rowsBefore);
    await assertCharts(ref, task, 'after re-reports');
    const afterReports = await chartPaths();
    const repairs = await p.count('SELECT count() FROM scalar_bucket_repairs WHERE task = {task:String}', { task });
    assert.ok(repairs > 0, 'dirty buckets were repaired from the points');
    assert.ok((afterReports['repaired'] ?? 0) - (firstRead['repaired'] ?? 0) >= 10, `curves answered from repaired buckets: ${JSON.stringify(afterReports)}`);

    // Read again: the repairs stand for the dirty buckets now, nothing is repaired again.
    await assertCharts(ref, task, 'with repairs');
    const withRepairs = await chartPaths();
    assert.equal(withRepairs['repairs'], afterReports['repairs'], 'no bucket repaired twice');
    assert.ok((withRepairs['buckets'] ?? 0) - (afterReports['buckets'] ?? 0) >= 10, `repaired curves read as clean ones: ${JSON.stringify(withRepairs)}`);

    // Re-reports into repaired buckets: their repairs are stale and must be ignored.
    const rowsRepaired = ref.rows;
    const third: Array<ReturnType<typeof scalar>> = [];
    for (const [it] of ref.points(task, 'dense', 'n4')) if (rnd() < 0.01) third.push(ref.report(task, 'dense', 'n4', it, value(rnd)));
    for (const [it] of ref.points(task, 'gaps', 'v')) if (rnd() < 0.05) third.push(ref.report(task, 'gaps', 'v', it, value(rnd)));
    await send(ref, task, third, rowsRepaired);
    await assertCharts(ref, task, 'stale repairs');
    const stale = await chartPaths();
    assert.ok((stale['repaired'] ?? 0) > (withRepairs['repaired'] ?? 0), `buckets with stale repairs were repaired again: ${JSON.stringify(stale)}`);
  } finally {
    await setMerges(true);
  }
  for (const table of ['scalars', SCALAR_BUCKETS]) await p.clickhouse.command({ query: `OPTIMIZE TABLE ${p.database}.${table} FINAL` });
  await assertCharts(ref, task, 'after merges');
});

test('a bucket row that lands before its point is never taken for a repair', async () => {
  const ref = new Reference();
  const task = 'task-order';
  const events = Array.from({ length: 4000 }, (_, it) => ref.report(task, 'loss', 'v', it, it % 7));
  await send(ref, task, events, 0);
  // The 16-wide bucket of iterations 160..175 counts a re-report of iteration 165 whose point is not stored yet.
  await p.clickhouse.command({
    query: `INSERT INTO ${p.database}.${SCALAR_BUCKETS} (tenant, task, width, metric, variant, bucket, rows, mask, nans, total, low, high, max_version, received_at)
            VALUES ('default', '${task}', 16, 'loss', 'v', 10, 1, 32, 0, 1000, 1000, 1000, 18446744073709551000, now64(3))`,
  });
  const samples = 250; // width 16: the level read as it is
  const read = async (what: string) => {
    const r = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples }, V21);
    assertSeries(r.data['loss']?.['v'], expectedSeries(ref.points(task, 'loss', 'v'), samples, 'v'), what);
  };
  // Dirty, and its points disagree with it (no point has that version): read from the points, no repair stored.
  await read('bucket ahead of its point');
  assert.equal(await p.count('SELECT count() FROM scalar_bucket_repairs WHERE task = {task:String}', { task }), 0, 'no repair from points that disagree with the bucket');
  // The point arrives without its view (the bucket already counted it): now the charts must show it.
  await p.clickhouse.command({ query: `DETACH TABLE ${p.database}.${SCALAR_BUCKETS_VIEW}` });
  try {
    await p.clickhouse.command({
      query: `INSERT INTO ${p.database}.scalars (tenant, task, metric, variant, iter, value, timestamp, received_at, version)
              VALUES ('default', '${task}', 'loss', 'v', 165, 1000, now64(3), now64(3), 18446744073709551000)`,
    });
  } finally {
    await p.clickhouse.command({ query: `ATTACH TABLE ${p.database}.${SCALAR_BUCKETS_VIEW}` });
  }
  ref.report(task, 'loss', 'v', 165, 1000);
  await read('the point landed');
  assert.equal(await p.count('SELECT count() FROM scalar_bucket_repairs WHERE task = {task:String}', { task }), 1, 'repaired once the tables agree');
  await read('repaired');
});

test('counts below samples are every point even when the buckets count re-reports', async () => {
  const ref = new Reference();
  const task = 'task-few';
  // 40 points at iterations 0, 50, .., 1950, each reported three times: 120 rows, 40 points. Merges
  // stopped: the projection counts 120 (planned as buckets of 64), the buckets' masks 40.
  await setMerges(false);
  try {
    for (let round = 0; round < 3; round++) {
      const events = Array.from({ length: 40 }, (_, it) => ref.report(task, 'few', 'v', it * 50, round * 100 + it));
      await send(ref, task, events, round * 40);
    }
    // The first read finds every bucket dirty and repairs them; the second finds them clean.
    for (const what of ['dirty buckets', 'repaired buckets']) {
      const r = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples: 50 }, V21);
      assertSeries(r.data['few']?.['v'], expectedSeries(ref.points(task, 'few', 'v'), 50, 'v'), `every point, ${what}`);
      assert.equal(r.data['few']?.['v']?.x.length, 40, what);
    }
  } finally {
    await setMerges(true);
  }
});

test('dirty buckets of a curve whose names are too long to repair them are read from its points', async () => {
  const ref = new Reference();
  const task = 'task-long-names';
  // Names of 40,000 characters: a repair statement would carry them in its URL, too long for it.
  const metric = `loss-${'m'.repeat(40_000)}`;
  const variant = `train-${'v'.repeat(40_000)}`;
  await setMerges(false);
  try {
    // 80 KB an event: batches of 50 stay below the gateway's body limit.
    await send(ref, task, Array.from({ length: 400 }, (_, it) => ref.report(task, metric, variant, it, Math.sin(it))), 0, 50);
    // Re-reports: their buckets are dirty until repaired, which these names rule out.
    await send(ref, task, Array.from({ length: 20 }, (_, k) => ref.report(task, metric, variant, k * 7, -k)), 400, 50);
    for (const samples of [20, 400, 4000]) {
      const r = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples }, V21);
      assert.equal(r.status, 200, `samples ${samples}`);
      assertSeries(r.data[metric]?.[variant], expectedSeries(ref.points(task, metric, variant), samples, variant), `samples ${samples}`);
    }
  } finally {
    await setMerges(true);
  }
});

test('a deleted task reported again is charted from its new points only', async () => {
  const task = 'task-deleted';
  const old = new Reference();
  await send(old, task, Array.from({ length: 5000 }, (_, it) => old.report(task, 'loss', 'v', it, 1)), 0);
  const del = await c.call<{ deleted: number }>('events.delete_for_task', { task, allow_locked: true });
  assert.equal(del.status, 200, del.msg);
  assert.equal(await p.count(`SELECT count() FROM ${SCALAR_BUCKETS} WHERE task = {task:String}`, { task }), 0, 'its buckets deleted');
  const ref = new Reference();
  await send(ref, task, Array.from({ length: 3000 }, (_, it) => ref.report(task, 'loss', 'v', it, it)), 0);
  const r = await c.call<Charts>('events.scalar_metrics_iter_histogram', { task, samples: 100 }, V21);
  assertSeries(r.data['loss']?.['v'], expectedSeries(ref.points(task, 'loss', 'v'), 100, 'v'), 'new points only');
});

test('multi_task_scalar_metrics_iter_histogram reads each task from its buckets', async () => {
  const ref = new Reference();
  const tasks = ['task-multi-a', 'task-multi-b'];
  for (const [i, task] of tasks.entries()) {
    await send(ref, task, Array.from({ length: 9000 * (i + 1) }, (_, it) => ref.report(task, 'loss', 'v', it, Math.sin(it / (i + 3)))), 0);
  }
  const r = await c.call<{ metrics: Record<string, Record<string, Record<string, Series>>> }>('events.multi_task_scalar_metrics_iter_histogram', { tasks, samples: 300 }, V21);
  for (const task of tasks) {
    assertSeries(r.data.metrics['loss']?.['v']?.[task], expectedSeries(ref.points(task, 'loss', 'v'), 300, task), task);
  }
});
