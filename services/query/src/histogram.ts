import { chainChunks, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from './deps';
import { byteOrder, float } from './events';
import { chunkJoin, ColumnsWriter, isoTimeToken, valueToken } from './json-columns';
import { NO_METRIC_FILTER, type MetricFilter } from './metric-filter';
import { answerId } from './requests';

/** One variant's curve: `x` ascending; `y_min`/`y_max` are ours (the reference returns x/y only). */
export interface Series {
  name: string;
  x: number[];
  y: number[];
  y_min: number[];
  y_max: number[];
}

export type HistogramKey = 'iter' | 'timestamp';
const KEY_SQL: Record<HistogramKey, string> = { iter: 'iter', timestamp: 'toUnixTimestamp64Milli(timestamp)' };

/** The x axes a request may ask for: `iso_time` is the timestamp axis, its x written as ISO time. */
export type ScalarKey = HistogramKey | 'iso_time';

export function histogramKey(key: ScalarKey): HistogramKey {
  return key === 'iso_time' ? 'timestamp' : key;
}

/**
 * Epoch milliseconds as the reference's `iso_time` x values: Elasticsearch's `strict_date_time`
 * of the UTC time, `2024-01-01T00:00:00.000Z`.
 */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A series with its x written as ISO time. */
export function withIsoTime<S extends { x: number[] }>(series: S): Omit<S, 'x'> & { x: string[] } {
  return { ...series, x: series.x.map(isoTime) };
}

const NO_FILTER: MetricFilter = NO_METRIC_FILTER;

/** The SDK's single-value ("Summary") iteration: not a point of any curve. */
export const SUMMARY_ITERATION = -2147483648n;

/** A float column as JSON sends it: a number, or "nan"/"inf"/"-inf". */
type Float = number | string;

/** A curve's identity. */
interface Curve {
  task: string;
  metric: string;
  variant: string;
}

/**
 * A curve's size and key range as the `curve_stats` projection of `scalars` answers them, without
 * reading a point. min/max are exact (a re-reported point has the same iteration), but the count
 * also holds rows a merge has not replaced yet, so it is an upper bound; see `plan`.
 */
interface CurveStats extends Curve {
  n: string;
  first_iter: string;
  last_iter: string;
  first_ms: string;
  last_ms: string;
}

const statsSql = (filter: MetricFilter): string => `
  SELECT task, metric, variant, count() AS n, min(iter) AS first_iter, max(iter) AS last_iter,
         toUnixTimestamp64Milli(min(timestamp)) AS first_ms, toUnixTimestamp64Milli(max(timestamp)) AS last_ms
  FROM scalars WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} ${filter.sql}
  GROUP BY task, metric, variant`;

/** Buckets of `width` keys from `lo`, shared by every curve in `curves`. */
interface BucketGroup {
  lo: bigint;
  width: bigint;
  curves: Curve[];
  /** Projected points of its curves. */
  points: number;
}

/**
 * The contract's down-sampling, computed by ClickHouse. Per (task, metric, variant) with n points
 * over keys [lo, hi]: n < samples returns every point; otherwise buckets of width
 * ceil((hi - lo + 1) / samples) starting at lo, x = the bucket start.
 *
 * NaN: y is the mean, and a bucket holding a NaN has y = NaN (the loss went NaN: that must show,
 * never be averaged away); y_min/y_max are the extremes of the bucket's other values, so a spike
 * next to the NaN still shows, and NaN when every value is NaN. Every case is spelled out rather
 * than left to how avg/min/max treat NaN (ClickHouse's min/max skip it, avg returns it).
 *
 * The points are read once, with FINAL. Each curve's n, lo and hi come first from the projection;
 * the bucketed read also returns the exact n, lo and hi, and a curve where they differ from the
 * projection's (rows not merged yet, a Summary value among its points) is read again the slow,
 * always exact way. The answer never depends on which way a curve took.
 */
export async function scalarHistograms(
  deps: RouteDeps,
  ctx: RequestContext,
  tasks: readonly string[],
  samples: number,
  key: HistogramKey,
  add: (task: string, metric: string, variant: string, series: Series) => void,
  /** Only the curves it selects (the request's `metrics`). */
  filter: MetricFilter = NO_FILTER,
): Promise<void> {
  const stats = await deps.db.rows<CurveStats>(ctx, statsSql(filter), { tasks, ...filter.params });
  const { everyPoint, buckets, exact, wholeTasks } = plan(stats, samples, key);

  const out: Array<Curve & { series: Series }> = [];
  const reads: Array<Promise<void>> = [];
  if (everyPoint.length > 0) reads.push(readEveryPoint(deps, ctx, everyPoint, key).then((r) => void out.push(...r)));
  if (buckets.length > 0) {
    reads.push(
      readBuckets(deps, ctx, buckets, key, samples, wholeTasks ? { tasks, filter } : undefined).then(async ({ curves, recheck }) => {
        out.push(...curves);
        if (recheck.length > 0) out.push(...(await readExact(deps, ctx, recheck, key, samples)));
      }),
    );
  }
  if (exact.length > 0) reads.push(readExact(deps, ctx, exact, key, samples).then((r) => void out.push(...r)));
  await Promise.all(reads);

  out.sort((a, b) => byteOrder(a.task, b.task) || byteOrder(a.metric, b.metric) || byteOrder(a.variant, b.variant));
  for (const c of out) add(c.task, c.metric, c.variant, c.series);
}

/** Which way each curve is read. */
function plan(stats: readonly CurveStats[], samples: number, key: HistogramKey) {
  const everyPoint: Curve[] = [];
  const exact: Curve[] = [];
  const groups = new Map<string, BucketGroup>();
  for (const s of stats) {
    const curve: Curve = { task: s.task, metric: s.metric, variant: s.variant };
    if (BigInt(s.first_iter) === SUMMARY_ITERATION) {
      // The Summary value's key is part of the projection's range: the range of the rest is unknown.
      exact.push(curve);
    } else if (Number(s.n) < samples) {
      // An upper bound below samples: the exact count is below it too.
      everyPoint.push(curve);
    } else {
      const lo = BigInt(key === 'iter' ? s.first_iter : s.first_ms);
      const hi = BigInt(key === 'iter' ? s.last_iter : s.last_ms);
      const width = ceilWidth(lo, hi, samples);
      const id = `${lo}:${width}`;
      const group = groups.get(id) ?? { lo, width, curves: [], points: 0 };
      group.curves.push(curve);
      group.points += Number(s.n);
      groups.set(id, group);
    }
  }
  const buckets = [...groups.values()].sort((a, b) => b.points - a.points);
  const total = stats.reduce((sum, s) => sum + Number(s.n), 0);
  // Testing every point against a list of curves costs more than reading a few curves too many:
  // a group holding most of the points reads its tasks whole, and drops the other curves' buckets.
  const wholeTasks = buckets.length > 0 && (buckets[0] as BucketGroup).points * 2 >= total;
  return { everyPoint, buckets, exact, wholeTasks };
}

/** `(task, metric, variant) IN` the curves, as parameters `{prefix_t}`, `{prefix_m}`, `{prefix_v}`. */
function curvesIn(prefix: string, curves: readonly Curve[], params: Record<string, unknown>): string {
  params[`${prefix}_t`] = curves.map((c) => c.task);
  params[`${prefix}_m`] = curves.map((c) => c.metric);
  params[`${prefix}_v`] = curves.map((c) => c.variant);
  return `(task, metric, variant) IN arrayZip({${prefix}_t:Array(String)}, {${prefix}_m:Array(String)}, {${prefix}_v:Array(String)})`;
}

function points(key: HistogramKey, where: string): string {
  return `SELECT task, metric, variant, iter, value, ${KEY_SQL[key]} AS k FROM scalars FINAL
    WHERE tenant = {tenant:String} AND ${where} AND iter != ${SUMMARY_ITERATION}`;
}

interface ChunkRow {
  task: string;
  metric: string;
  variant: string;
  col: number;
  s: string;
}

/**
 * `samples` 0 (every point, newer versions): each curve whole, as JSON members streamed from
 * ClickHouse's rows (a task's curves may hold millions of points, which the service never holds).
 * `nest` 'variant' writes `"<metric>":{"<variant>":{name: variant, x, y, y_min, y_max}}` (one
 * task), 'task' `"<metric>":{"<variant>":{"<task>":{name: task, ...}}}`; y_min = y_max = y, one
 * value per point. The statement runs (and fails) before the first chunk is asked for.
 */
export async function streamEveryPoint(
  deps: RouteDeps,
  ctx: RequestContext,
  tasks: readonly string[],
  key: ScalarKey,
  nest: 'variant' | 'task',
  filter: MetricFilter = NO_FILTER,
): Promise<AsyncIterableIterator<string>> {
  const x = key === 'iso_time' ? isoTimeToken('p.1') : 'toString(p.1)';
  const chunks = chunkJoin('cols');
  const writer = new ColumnsWriter({ columns: ['x', 'y', 'y_min', 'y_max'], nameMember: true });
  const blocks = await deps.db.stream<ChunkRow, string>(
    ctx,
    `SELECT task, metric, variant, ${chunks.col} AS col, ${chunks.s} AS s
     FROM (
       SELECT task, metric, variant, arraySort(groupArray((k, iter, value))) AS pts,
              arrayMap(p -> ${valueToken('p.3')}, pts) AS ys, [arrayMap(p -> ${x}, pts), ys, ys, ys] AS cols
       FROM (${points(histogramKey(key), `task IN {tasks:Array(String)} ${filter.sql}`)})
       GROUP BY task, metric, variant
     )
     ${chunks.clauses}
     ORDER BY metric, variant, ${nest === 'task' ? 'task, ' : ''}col, part`,
    { tasks, ...filter.params },
    (rows) => {
      let out = '';
      for (const r of rows) out += writer.write({ path: nest === 'task' ? [r.metric, r.variant, answerId(r.task)] : [r.metric, r.variant], col: Number(r.col), s: r.s });
      return out;
    },
  );
  return chainChunks('', blocks, () => writer.end());
}

/** Every point of curves known to have fewer than `samples`: x = the key, y = y_min = y_max = the value. */
async function readEveryPoint(deps: RouteDeps, ctx: RequestContext, curves: readonly Curve[], key: HistogramKey) {
  const params: Record<string, unknown> = {};
  // Arrays per curve, in (key, iteration) order; keys as Float64, which JSON carries as numbers.
  const rows = await deps.db.rows<Curve & { xs: number[]; ys: Float[] }>(
    ctx,
    `SELECT task, metric, variant,
            arrayMap(k -> toFloat64(k), arraySort((k, i) -> (k, i), groupArray(k), groupArray(iter))) AS xs,
            arraySort((v, k, i) -> (k, i), groupArray(value), groupArray(k), groupArray(iter)) AS ys
     FROM (${points(key, curvesIn('c', curves, params))}) GROUP BY task, metric, variant`,
    params,
  );
  return rows.map((r) => {
    const y = r.ys.map(float);
    return { task: r.task, metric: r.metric, variant: r.variant, series: { name: r.variant, x: r.xs, y, y_min: y, y_max: y } };
  });
}

const BUCKET_STATS = `
  if(countIf(isNaN(value)) > 0, nan, avg(value)) AS y,
  if(countIf(NOT isNaN(value)) = 0, nan, minIf(value, NOT isNaN(value))) AS y_min,
  if(countIf(NOT isNaN(value)) = 0, nan, maxIf(value, NOT isNaN(value))) AS y_max`;

interface BucketRow extends Curve {
  /** Index of the group whose branch read the row. */
  branch: number;
  /** Per bucket, ascending: its start (the key as Float64), mean, extremes. */
  xs: number[];
  ys: Float[];
  mins: Float[];
  maxs: Float[];
  n: string;
  lo: string;
  hi: string;
}

/**
 * Curves whose projected n reaches `samples`, one branch of a UNION ALL per shared (lo, width),
 * grouping by a plain bucket number: a branch reads its curves' key ranges, or (the first, when
 * `firstReadsTasks`) its tasks whole. A row keeps the branch that read it, so a curve another
 * branch bucketed too is taken from its own. Key arithmetic runs in Int128: keys may span the
 * whole Int64 range.
 */
async function readBuckets(
  deps: RouteDeps,
  ctx: RequestContext,
  groups: readonly BucketGroup[],
  key: HistogramKey,
  samples: number,
  /** The first group reads these tasks whole (what the filter selects of them) rather than its list of curves. */
  firstReadsTasks?: { tasks: readonly string[]; filter: MetricFilter },
) {
  const params: Record<string, unknown> = {};
  const branches = groups.map((g, i) => {
    let where: string;
    if (i === 0 && firstReadsTasks) {
      Object.assign(params, firstReadsTasks.filter.params);
      params['g0_tasks'] = firstReadsTasks.tasks;
      where = `task IN {g0_tasks:Array(String)} ${firstReadsTasks.filter.sql}`;
    } else {
      where = curvesIn(`g${i}`, g.curves, params);
    }
    params[`g${i}_lo`] = g.lo.toString();
    params[`g${i}_w`] = g.width.toString();
    return `
      SELECT ${i} AS branch, task, metric, variant,
             arrayMap(b -> toFloat64({g${i}_lo:Int64} + toInt128(b) * {g${i}_w:Int64}), arraySort(groupArray(bucket))) AS xs,
             arraySort((v, b) -> b, groupArray(y), groupArray(bucket)) AS ys,
             arraySort((v, b) -> b, groupArray(y_min), groupArray(bucket)) AS mins,
             arraySort((v, b) -> b, groupArray(y_max), groupArray(bucket)) AS maxs,
             sum(c) AS n, min(k_min) AS lo, max(k_max) AS hi
      FROM (
        SELECT task, metric, variant, toInt64(intDiv(toInt128(k) - {g${i}_lo:Int64}, {g${i}_w:Int64})) AS bucket,
               count() AS c, min(k) AS k_min, max(k) AS k_max, ${BUCKET_STATS}
        FROM (${points(key, where)})
        GROUP BY task, metric, variant, bucket
      )
      GROUP BY task, metric, variant`;
  });
  const rows = await deps.db.rows<BucketRow>(ctx, branches.join('\nUNION ALL\n'), params);

  const expected = new Map<string, BucketGroup>();
  for (const g of groups) for (const c of g.curves) expected.set(curveId(c), g);
  const curves: Array<Curve & { series: Series }> = [];
  const recheck: Curve[] = [];
  for (const r of rows) {
    const g = expected.get(curveId(r));
    // A curve of another group, or read another way, that came along with its task.
    if (g === undefined || g !== groups[Number(r.branch)]) continue;
    const lo = BigInt(r.lo);
    // The projection counted rows not merged yet, or saw keys of replaced rows: bucket again with exact figures.
    if (Number(r.n) < samples || lo !== g.lo || ceilWidth(lo, BigInt(r.hi), samples) !== g.width) {
      recheck.push({ task: r.task, metric: r.metric, variant: r.variant });
      continue;
    }
    const series: Series = { name: r.variant, x: r.xs, y: r.ys.map(float), y_min: r.mins.map(float), y_max: r.maxs.map(float) };
    curves.push({ task: r.task, metric: r.metric, variant: r.variant, series });
  }
  return { curves, recheck };
}

/** ceil((hi - lo + 1) / samples) */
function ceilWidth(lo: bigint, hi: bigint, samples: number): bigint {
  const n = BigInt(samples);
  return (hi - lo + n) / n;
}

/** Both ways in one statement, each curve's n and range computed from its points first: exact whatever the projection says. */
async function readExact(deps: RouteDeps, ctx: RequestContext, curves: readonly Curve[], key: HistogramKey, samples: number) {
  const params: Record<string, unknown> = { samples };
  const pts = points(key, curvesIn('x', curves, params));
  const rows = await deps.db.rows<Curve & { pts: Array<[string, string, Float, Float, Float]> }>(
    ctx,
    `
  SELECT task, metric, variant, arraySort(groupArray((x, apart, y, y_min, y_max))) AS pts
  FROM (
    SELECT task, metric, variant, apart, toInt64(lo + bucket * width) AS x, ${BUCKET_STATS}
    FROM (
      SELECT p.task AS task, p.metric AS metric, p.variant AS variant, p.value AS value, c.lo AS lo,
             if(c.n < {samples:UInt32}, toInt128(1), intDiv(toInt128(c.hi) - c.lo + {samples:UInt32}, {samples:UInt32})) AS width,
             intDiv(toInt128(p.k) - c.lo, width) AS bucket,
             if(c.n < {samples:UInt32}, p.iter, 0) AS apart
      FROM (${pts}) AS p
      INNER JOIN (
        SELECT task, metric, variant, count() AS n, min(k) AS lo, max(k) AS hi FROM (${pts}) GROUP BY task, metric, variant
      ) AS c ON p.task = c.task AND p.metric = c.metric AND p.variant = c.variant
    )
    GROUP BY task, metric, variant, lo, width, bucket, apart
  )
  GROUP BY task, metric, variant`,
    params,
  );
  return rows.map((r) => {
    const series: Series = { name: r.variant, x: [], y: [], y_min: [], y_max: [] };
    for (const [x, , y, yMin, yMax] of r.pts) {
      series.x.push(Number(x));
      series.y.push(float(y));
      series.y_min.push(float(yMin));
      series.y_max.push(float(yMax));
    }
    return { task: r.task, metric: r.metric, variant: r.variant, series };
  });
}

function curveId(c: Curve): string {
  return JSON.stringify([c.task, c.metric, c.variant]);
}
