import { chainChunks, type RequestContext } from '@trackstream/api';
import { SCALAR_BUCKET_REPAIRS, SCALAR_BUCKET_WIDTHS, SCALAR_BUCKETS, type ScalarBucketWidth } from '@trackstream/clickhouse';
import { Counter, type Registry } from '@trackstream/metrics';
import type { RouteDeps } from './deps';
import { byteOrder } from './events';
import { chunkJoin, ColumnsWriter, isoTimeToken, valueToken, valueTokens } from './json-columns';
import { NO_METRIC_FILTER, type MetricFilter } from './metric-filter';
import { answerId } from './requests';

export type HistogramKey = 'iter' | 'timestamp';
const KEY_SQL: Record<HistogramKey, string> = { iter: 'iter', timestamp: 'toUnixTimestamp64Milli(timestamp)' };

/** The x axes a request may ask for: `iso_time` is the timestamp axis, its x written as ISO time. */
export type ScalarKey = HistogramKey | 'iso_time';

export function histogramKey(key: ScalarKey): HistogramKey {
  return key === 'iso_time' ? 'timestamp' : key;
}

const NO_FILTER: MetricFilter = NO_METRIC_FILTER;

/** How chart curves were read: operators see how much falls back to the points. */
export interface ChartMetrics {
  /** Curves by the way they were answered: `buckets` (clean), `repaired` (dirty buckets repaired first), `points` (bucketed from the points), `every_point` (fewer points than samples). */
  curves: Counter<'path'>;
  /** Dirty buckets repairs were computed for. */
  repairs: Counter;
}

export function chartMetrics(registry: Registry): ChartMetrics {
  return {
    curves: new Counter({ name: 'query_chart_curves_total', help: 'Scalar chart curves answered, by path: buckets, repaired (dirty buckets repaired first), points (bucketed from the points), every_point', labelNames: ['path'], registers: [registry] }),
    repairs: new Counter({ name: 'query_chart_bucket_repairs_total', help: 'Dirty scalar buckets whose exact figures were computed from the points', registers: [registry] }),
  };
}

/** The SDK's single-value ("Summary") iteration: not a point of any curve. */
export const SUMMARY_ITERATION = -2147483648n;

/** `nest` 'variant': `"<metric>":{"<variant>":{name: variant, ...}}` (one task); 'task': `"<metric>":{"<variant>":{"<task>":{name: task, ...}}}`. */
export type HistogramNest = 'variant' | 'task';

/** A curve's identity. */
interface Curve {
  task: string;
  metric: string;
  variant: string;
}

/** One curve of an answer: its columns as JSON text (comma-separated tokens rendered by ClickHouse), in UTF-8 as they came. */
interface CurveText extends Curve {
  x: Uint8Array;
  y: Uint8Array;
  y_min: Uint8Array;
  y_max: Uint8Array;
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

/** What a read of a set of curves needs to know. */
interface Read {
  /** Widths the request's tasks have bucket repairs at: only reads at those widths look for them. */
  repairedWidths: ReadonlySet<number>;
  ctx: RequestContext;
  tasks: readonly string[];
  samples: number;
  key: ScalarKey;
  filter: MetricFilter;
}

/**
 * The contract's down-sampling, as the members of the answer's JSON object (see `HistogramNest`).
 * Per (task, metric, variant) with n points over keys [lo, hi]: n < samples returns every point;
 * otherwise buckets of `width` keys, the smallest power of two at or above (hi - lo + 1) / samples,
 * with edges at multiples of the width (bucket = floor(key / width), x = its first key), so a
 * growing curve keeps its edges between two reads. At most samples + 1 buckets.
 *
 * NaN: y is the mean, and a bucket holding a NaN has y = NaN (the loss went NaN: that must show,
 * never be averaged away); y_min/y_max are the extremes of the bucket's other values, so a spike
 * next to the NaN still shows, and NaN when every value is NaN.
 *
 * Iteration charts of widths the buckets hold (16 to 256, and wider ones regrouped from 256)
 * read the buckets, not the points; dirty buckets (re-reports, replays) are repaired from the points
 * first. Narrower widths, timestamp keys and curves with a Summary value read the points with
 * FINAL. The answer never depends on which way a curve took. Every statement runs before the
 * first chunk is returned.
 */
export async function scalarHistogramMembers(
  deps: RouteDeps,
  ctx: RequestContext,
  tasks: readonly string[],
  samples: number,
  key: ScalarKey,
  nest: HistogramNest,
  /** Only the curves it selects (the request's `metrics`). */
  filter: MetricFilter = NO_FILTER,
): Promise<AsyncIterableIterator<string | Uint8Array>> {
  const [stats, repaired] = await Promise.all([
    deps.db.rows<CurveStats>(ctx, statsSql(filter), { tasks, ...filter.params }),
    // Only iteration charts read buckets.
    histogramKey(key) !== 'iter'
      ? []
      : deps.db.rows<{ width: number }>(ctx, `SELECT DISTINCT width FROM ${SCALAR_BUCKET_REPAIRS} WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)}`, { tasks }),
  ]);
  const read: Read = { ctx, tasks, samples, key, filter, repairedWidths: new Set(repaired.map((r) => Number(r.width))) };
  const curves = await readPlanned(deps, read, stats, false);
  curves.sort((a, b) => byteOrder(a.metric, b.metric) || byteOrder(a.variant, b.variant) || byteOrder(a.task, b.task));
  const writer = new ColumnsWriter({ columns: ['x', 'y', 'y_min', 'y_max'], nameMember: true });
  // Written piece by piece, the columns' bytes as ClickHouse sent them: never one string of tens of MB.
  const pieces: Array<string | Uint8Array> = [];
  for (const c of curves) {
    const path = nest === 'task' ? [c.metric, c.variant, answerId(c.task)] : [c.metric, c.variant];
    [c.x, c.y, c.y_min, c.y_max].forEach((tokens, col) => pieces.push(writer.opening(path, col), tokens));
  }
  pieces.push(writer.end());
  return (async function* () {
    yield* pieces;
  })();
}

/**
 * Reads each curve the way its figures allow. `exactStats`: the figures come from the points
 * (not the projection), so a curve is never planned again.
 */
async function readPlanned(deps: RouteDeps, read: Read, stats: readonly CurveStats[], exactStats: boolean): Promise<CurveText[]> {
  const everyPoint: Curve[] = [];
  const exact: Curve[] = [];
  const pointGroups = new Map<bigint, Curve[]>();
  const levelGroups = new Map<bigint, Curve[]>();
  const hist = histogramKey(read.key);
  // A curve holding only the Summary value has no point to chart. The others are all the curves
  // (a read of every one selects by task, which costs no curve list).
  const charted = exactStats ? stats : stats.filter((s) => BigInt(s.last_iter) !== SUMMARY_ITERATION);
  for (const s of charted) {
    const curve: Curve = { task: s.task, metric: s.metric, variant: s.variant };
    if (!exactStats && BigInt(s.first_iter) === SUMMARY_ITERATION) {
      // The Summary value's key is part of the projection's range: the range of the rest is unknown.
      exact.push(curve);
    } else if (Number(s.n) < read.samples) {
      // An upper bound below samples: the exact count is below it too.
      everyPoint.push(curve);
    } else {
      const lo = BigInt(hist === 'iter' ? s.first_iter : s.first_ms);
      const hi = BigInt(hist === 'iter' ? s.last_iter : s.last_ms);
      const width = bucketWidth(lo, hi, read.samples);
      const groups = hist === 'iter' && width >= BigInt(SCALAR_BUCKET_WIDTHS[0]) && !exactStats ? levelGroups : pointGroups;
      const group = groups.get(width);
      if (group) group.push(curve);
      else groups.set(width, [curve]);
    }
  }
  const perTask = new Map<string, number>();
  for (const s of charted) perTask.set(s.task, (perTask.get(s.task) ?? 0) + 1);
  // The tasks a group holds every charted curve of, when those are all its tasks: its read selects
  // by task, with no curve list. Curves read again from exact figures are only part of their task.
  const wholeTasks = (curves: readonly Curve[]): string[] | undefined => {
    if (exactStats) return undefined;
    const counts = new Map<string, number>();
    for (const c of curves) counts.set(c.task, (counts.get(c.task) ?? 0) + 1);
    for (const [task, n] of counts) if (perTask.get(task) !== n) return undefined;
    return [...counts.keys()];
  };
  const reads: Array<Promise<CurveText[]>> = [];
  if (everyPoint.length > 0) reads.push(readEveryPoint(deps, read, everyPoint));
  for (const [width, curves] of pointGroups) reads.push(readPointBuckets(deps, read, width, curves, wholeTasks(curves), exactStats));
  for (const [width, curves] of levelGroups) reads.push(readLevelBuckets(deps, read, width, curves, wholeTasks(curves)));
  if (exact.length > 0) reads.push(readExact(deps, read, exact));
  return (await Promise.all(reads)).flat();
}

/** The smallest power of two at or above (hi - lo + 1) / samples. */
export function bucketWidth(lo: bigint, hi: bigint, samples: number): bigint {
  const need = (hi - lo + BigInt(samples)) / BigInt(samples);
  let width = 1n;
  while (width < need) width *= 2n;
  return width;
}

function log2(width: bigint): number {
  return width.toString(2).length - 1;
}

/** `(task, metric, variant) IN` the curves, as parameters `{prefix_t}`, `{prefix_m}`, `{prefix_v}`. */
function curvesIn(prefix: string, curves: readonly Curve[], params: Record<string, unknown>): string {
  params[`${prefix}_t`] = curves.map((c) => c.task);
  params[`${prefix}_m`] = curves.map((c) => c.metric);
  params[`${prefix}_v`] = curves.map((c) => c.variant);
  return `(task, metric, variant) IN arrayZip({${prefix}_t:Array(String)}, {${prefix}_m:Array(String)}, {${prefix}_v:Array(String)})`;
}

/** Which rows a read takes: `wholeTasks` (and the request's metric filter) when the read holds all their curves, else the curves. */
function selection(read: Read, curves: readonly Curve[], wholeTasks: readonly string[] | undefined, params: Record<string, unknown>): string {
  if (!wholeTasks) return curvesIn('c', curves, params);
  Object.assign(params, read.filter.params, { whole_tasks: wholeTasks });
  return `task IN {whole_tasks:Array(String)} ${read.filter.sql}`;
}

function points(key: HistogramKey, where: string): string {
  return `SELECT task, metric, variant, iter, value, ${KEY_SQL[key]} AS k FROM scalars FINAL
    WHERE tenant = {tenant:String} AND ${where} AND iter != ${SUMMARY_ITERATION}`;
}

/** SQL aggregates of a bucket's points: NaN count, and sum and extremes of the values that are not NaN (as the buckets' view keeps them). */
const POINT_FIGURES = `countIf(isNaN(value)) AS nans, sum(if(isNaN(value), 0, value)) AS total,
  min(if(isNaN(value), inf, value)) AS low, max(if(isNaN(value), -inf, value)) AS high`;

/** SQL: an x value (an Int64 key) as its JSON token. */
function xToken(key: ScalarKey, x: string): string {
  return key === 'iso_time' ? isoTimeToken(x) : `toString(${x})`;
}

/** A bucket's figures as SQL expressions: its x, rows, distinct iterations, NaNs, and the sum and extremes of its other values. */
interface BucketFigures {
  x: string;
  rows: string;
  distinct: string;
  nans: string;
  total: string;
  low: string;
  high: string;
}

/**
 * SQL aggregates (GROUP BY curve) of a curve's buckets: n, its points, and its buckets' x, y,
 * y_min and y_max as arrays in any (but the same) order. One array per column, not an array of
 * tuples: ClickHouse builds and sorts plain arrays several times faster.
 */
function bucketArrays(b: BucketFigures): string {
  return `sum(${b.distinct}) AS n, groupArray(${b.x}) AS xs,
    groupArray(if(${b.nans} > 0, nan, ${b.total} / ${b.rows})) AS ys,
    groupArray(if(${b.rows} = ${b.nans}, nan, ${b.low})) AS lows,
    groupArray(if(${b.rows} = ${b.nans}, nan, ${b.high})) AS highs`;
}

/** SQL: a curve's columns x, y, y_min, y_max from the arrays of `bucketArrays`, sorted by x. */
function curveColumns(key: ScalarKey): string {
  const byX = (column: string) => `arraySort((v, k) -> k, ${column}, xs)`;
  return `n, arrayStringConcat(arrayMap(e -> ${xToken(key, 'e')}, arraySort(xs)), ',') AS x,
    ${valueTokens(byX('ys'), 'e')} AS y, ${valueTokens(byX('lows'), 'e')} AS y_min, ${valueTokens(byX('highs'), 'e')} AS y_max`;
}

/** Every point of curves known to have fewer than `samples`: x = the key, y = y_min = y_max = the value. */
async function readEveryPoint(deps: RouteDeps, read: Read, curves: readonly Curve[]): Promise<CurveText[]> {
  deps.charts.curves.inc({ path: 'every_point' }, curves.length);
  const params: Record<string, unknown> = {};
  const rows = await curveRows(
    deps,
    read,
    `SELECT task, metric, variant, length(pts) AS n, [] AS dirty,
            arraySort(groupArray((k, iter, value))) AS pts,
            arrayStringConcat(arrayMap(p -> ${xToken(read.key, 'p.1')}, pts), ',') AS x,
            ${valueTokens('pts', 'e.3')} AS y, y AS y_min, y AS y_max
     FROM (${points(histogramKey(read.key), curvesIn('c', curves, params))}) GROUP BY task, metric, variant`,
    params,
  );
  return rows.map(curveText);
}

function curveText(r: CurveText): CurveText {
  return { task: r.task, metric: r.metric, variant: r.variant, x: r.x, y: r.y, y_min: r.y_min, y_max: r.y_max };
}

/**
 * Runs a statement whose rows are curves (task, metric, variant, n, dirty, x, y, y_min, y_max)
 * as TabSeparatedRaw: names and the dirty list travel as JSON (no tab or newline in them), the
 * columns as the token text they are. Node only finds the tabs and newlines: the megabytes of
 * tokens are never decoded, parsed or copied on their way to the response.
 */
async function curveRows(deps: RouteDeps, read: Read, statement: string, params: Record<string, unknown>): Promise<LevelText[]> {
  const body = await deps.db.tsvBytes(
    read.ctx,
    `SELECT toJSONString(task), toJSONString(metric), toJSONString(variant), n, toJSONString(dirty), x, y, y_min, y_max FROM (${statement})`,
    params,
  );
  const json = (b: Buffer): unknown => JSON.parse(b.toString('utf8'));
  type Fields = [task: Buffer, metric: Buffer, variant: Buffer, n: Buffer, dirty: Buffer, x: Buffer, y: Buffer, yMin: Buffer, yMax: Buffer];
  return (tsvFields(body, 9) as Fields[]).map(([task, metric, variant, n, dirty, x, y, yMin, yMax]) => ({
    task: json(task) as string,
    metric: json(metric) as string,
    variant: json(variant) as string,
    n: n.toString('latin1'),
    dirty: json(dirty) as DirtyBucket[],
    x,
    y,
    y_min: yMin,
    y_max: yMax,
  }));
}

/** The rows of a TabSeparatedRaw body of `width` fields, each field a view of `body` (no copy). */
export function tsvFields(body: Buffer, width: number): Buffer[][] {
  const rows: Buffer[][] = [];
  let at = 0;
  while (at < body.length) {
    const end = body.indexOf(NEWLINE, at);
    const lineEnd = end === -1 ? body.length : end;
    const fields: Buffer[] = [];
    for (let f = 0; f < width; f++) {
      const tab = body.indexOf(TAB, at);
      const last = f === width - 1;
      if (last ? tab !== -1 && tab < lineEnd : tab === -1 || tab > lineEnd) throw new Error(`histogram: a row whose fields are not ${width}`);
      const fieldEnd = last ? lineEnd : tab;
      fields.push(body.subarray(at, fieldEnd));
      at = fieldEnd + 1;
    }
    rows.push(fields);
    at = lineEnd + 1;
  }
  return rows;
}

const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * Buckets of `width` computed from the points. A curve whose exact count is below `samples` (the
 * projection counted rows not merged yet) is read again from exact figures, unless `exactStats`.
 */
async function readPointBuckets(deps: RouteDeps, read: Read, width: bigint, curves: readonly Curve[], wholeTasks: readonly string[] | undefined, exactStats: boolean): Promise<CurveText[]> {
  const params: Record<string, unknown> = { shift: log2(width), width: width.toString() };
  const rows = await curveRows(
    deps,
    read,
    `SELECT task, metric, variant, [] AS dirty, ${curveColumns(read.key)}
     FROM (
       SELECT task, metric, variant, ${bucketArrays({ x: 'x', rows: 'c', distinct: 'c', nans: 'nans', total: 'total', low: 'low', high: 'high' })}
       FROM (
         SELECT task, metric, variant, bitShiftRight(k, {shift:UInt8}) * {width:Int64} AS x, count() AS c, ${POINT_FIGURES}
         FROM (${points(histogramKey(read.key), selection(read, curves, wholeTasks, params))})
         GROUP BY task, metric, variant, x
       )
       GROUP BY task, metric, variant
     )`,
    params,
  );
  const wanted = new Set(curves.map(curveId));
  const out: CurveText[] = [];
  const recheck: Curve[] = [];
  for (const r of rows) {
    if (!wanted.has(curveId(r))) continue;
    if (!exactStats && Number(r.n) < read.samples) recheck.push(r);
    else out.push(curveText(r));
  }
  deps.charts.curves.inc({ path: 'points' }, out.length);
  if (recheck.length > 0) out.push(...(await readExact(deps, read, recheck)));
  return out;
}

/** A curve's exact figures from its points (FINAL, the Summary value left out), then read from them. */
async function readExact(deps: RouteDeps, read: Read, curves: readonly Curve[]): Promise<CurveText[]> {
  const params: Record<string, unknown> = {};
  const stats = await deps.db.rows<CurveStats>(
    read.ctx,
    `SELECT task, metric, variant, count() AS n, min(iter) AS first_iter, max(iter) AS last_iter,
            toUnixTimestamp64Milli(min(timestamp)) AS first_ms, toUnixTimestamp64Milli(max(timestamp)) AS last_ms
     FROM scalars FINAL WHERE tenant = {tenant:String} AND ${curvesIn('c', curves, params)} AND iter != ${SUMMARY_ITERATION}
     GROUP BY task, metric, variant`,
    params,
  );
  return readPlanned(deps, read, stats, true);
}

/** A bucket row that is dirty (rows ≠ the distinct iterations its mask holds): its bucket, rows, mask and newest version. */
type DirtyBucket = [bucket: string, rows: string, mask: string, maxVersion: string];

/** A curve as a statement returns it: its text, its exact number of points, its dirty buckets (bucket reads only). */
interface LevelText extends CurveText {
  n: string;
  dirty: DirtyBucket[];
}

/** The bucket width a chart width reads: the widest at or below it. */
function levelFor(width: bigint): ScalarBucketWidth {
  let level: ScalarBucketWidth = SCALAR_BUCKET_WIDTHS[0];
  for (const w of SCALAR_BUCKET_WIDTHS) if (BigInt(w) <= width) level = w;
  return level;
}

/**
 * Buckets of `width` from the buckets of the widest level at or below it (wider widths group
 * its buckets). A level bucket with a valid repair takes the repair's figures; one without (dirty)
 * gets one computed from the points, and its curves are read again. A curve still dirty after that
 * (a row arrived in between) or whose exact count is below `samples` is read from the points.
 */
async function readLevelBuckets(deps: RouteDeps, read: Read, width: bigint, curves: readonly Curve[], wholeTasks: readonly string[] | undefined): Promise<CurveText[]> {
  const level = levelFor(width);
  const first = await levelStatement(deps, read, width, level, curves, wholeTasks);
  const wanted = new Set(curves.map(curveId));
  const out: CurveText[] = [];
  const dirty: LevelText[] = [];
  const exact: Curve[] = [];
  for (const r of first) {
    if (!wanted.has(curveId(r))) continue;
    if (Number(r.n) < read.samples) exact.push(r);
    else if (r.dirty.length > 0) dirty.push(r);
    else out.push(curveText(r));
  }
  deps.charts.curves.inc({ path: 'buckets' }, out.length);
  if (dirty.length > 0 && (await repair(deps, read, level, dirty))) {
    deps.charts.repairs.inc(dirty.reduce((n, r) => n + r.dirty.length, 0));
    let repaired = 0;
    for (const r of await levelStatement(deps, read, width, level, dirty, undefined, true)) {
      if (r.dirty.length > 0 || Number(r.n) < read.samples) exact.push(r);
      else out.push(curveText(r)), repaired++;
    }
    deps.charts.curves.inc({ path: 'repaired' }, repaired);
  } else exact.push(...dirty);
  if (exact.length > 0) out.push(...(await readExact(deps, read, exact)));
  return out;
}

function levelStatement(
  deps: RouteDeps,
  read: Read,
  width: bigint,
  level: ScalarBucketWidth,
  curves: readonly Curve[],
  wholeTasks: readonly string[] | undefined,
  /** Look for repairs whatever `read.repairedWidths` says (some were just made). */
  withRepairs = false,
): Promise<LevelText[]> {
  const params: Record<string, unknown> = { shift: log2(width) - log2(BigInt(level)), width: width.toString(), level, tasks: read.tasks };
  const where = selection(read, curves, wholeTasks, params);
  const pick = (column: string) => `if(r.hit = 1, r.${column}, l.${column})`;
  // The level's rows, a valid repair's figures in place of a dirty bucket's own. Clean buckets
  // skip the join (a hash probe per bucket would cost more than reading the buckets twice), and
  // tasks without repairs at this width skip it altogether.
  const levelSql = `SELECT task, metric, variant, bucket, rows, mask, nans, total, low, high, max_version
                  FROM ${SCALAR_BUCKETS} FINAL WHERE tenant = {tenant:String} AND width = {level:UInt16} AND ${where}`;
  const levelRows = !(read.repairedWidths.has(level) || withRepairs)
    ? levelSql
    : `
    SELECT task, metric, variant, bucket, mask, max_version, rows, nans, total, low, high FROM (${levelSql}) WHERE rows = bitCount(mask)
    UNION ALL
    SELECT l.task AS task, l.metric AS metric, l.variant AS variant, l.bucket AS bucket, l.mask AS mask, l.max_version AS max_version,
           if(r.hit = 1, toUInt64(bitCount(l.mask)), l.rows) AS rows, ${pick('nans')} AS nans, ${pick('total')} AS total, ${pick('low')} AS low, ${pick('high')} AS high
    FROM (SELECT * FROM (${levelSql}) WHERE rows != bitCount(mask)) AS l
    LEFT ANY JOIN (
      SELECT task, metric, variant, bucket, rows, mask, max_version, nans, total, low, high, toUInt8(1) AS hit
      FROM ${SCALAR_BUCKET_REPAIRS} FINAL WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND width = {level:UInt16}
    ) AS r
    ON l.task = r.task AND l.metric = r.metric AND l.variant = r.variant AND l.bucket = r.bucket
       AND l.rows = r.rows AND l.mask = r.mask AND l.max_version = r.max_version`;
  const dirtyTuple = '(toString(bucket), toString(rows), toString(mask), toString(max_version))';
  const isDirty = 'rows != bitCount(mask)';
  // Per output bucket: x, rows, distinct iterations, NaNs, sum, low, high; a width above the
  // level's groups its buckets first.
  const buckets =
    width === BigInt(level)
      ? `SELECT task, metric, variant, groupArrayIf(${dirtyTuple}, ${isDirty}) AS dirty,
                ${bucketArrays({ x: 'bucket * {width:Int64}', rows: 'rows', distinct: 'toUInt64(bitCount(mask))', nans: 'nans', total: 'total', low: 'low', high: 'high' })}
         FROM (${levelRows}) GROUP BY task, metric, variant`
      : `SELECT task, metric, variant, arrayFlatten(groupArray(d)) AS dirty,
                ${bucketArrays({ x: 'x', rows: 'rows_x', distinct: 'n_x', nans: 'nans_x', total: 'total_x', low: 'low_x', high: 'high_x' })}
         FROM (
           SELECT task, metric, variant, bitShiftRight(bucket, {shift:UInt8}) * {width:Int64} AS x, sum(rows) AS rows_x, toUInt64(sum(bitCount(mask))) AS n_x,
                  sum(nans) AS nans_x, sum(total) AS total_x, min(low) AS low_x, max(high) AS high_x, groupArrayIf(${dirtyTuple}, ${isDirty}) AS d
           FROM (${levelRows}) GROUP BY task, metric, variant, x
         )
         GROUP BY task, metric, variant`;
  return curveRows(
    deps,
    read,
    `SELECT task, metric, variant, dirty, ${curveColumns(read.key)} FROM (${buckets})`,
    params,
  );
}

/** Ranges of iterations read to repair dirty buckets; beyond it a curve's whole range is read. */
const MAX_REPAIR_RANGES = 64;

/**
 * Computes the exact figures of dirty level buckets from the points (FINAL) and stores them as
 * repairs, each only if the points hold what the bucket counted, read in the same statement (same
 * mask and newest version): a row that reached one table and not yet the other leaves the bucket
 * dirty. False, with nothing repaired, when the curves' names are too long for a command's
 * parameters (they travel in its URL): those curves are read from their points.
 */
async function repair(deps: RouteDeps, read: Read, level: ScalarBucketWidth, curves: readonly LevelText[]): Promise<boolean> {
  const shift = BigInt(log2(BigInt(level)));
  const params: Record<string, unknown> = { level, shift: Number(shift), offsets: level - 1 };
  const iterRanges: string[] = [];
  const bucketRanges: string[] = [];
  let budget = MAX_REPAIR_RANGES;
  curves.forEach((c, i) => {
    params[`t${i}`] = c.task;
    params[`m${i}`] = c.metric;
    params[`v${i}`] = c.variant;
    const curve = `task = {t${i}:String} AND metric = {m${i}:String} AND variant = {v${i}:String}`;
    const spans = bucketSpans(c.dirty.map(([b]) => BigInt(b)));
    if (spans.length > Math.max(1, budget)) {
      // Too many: the curve's whole range.
      iterRanges.push(`(${curve})`);
      bucketRanges.push(`(${curve})`);
      budget -= 1;
      return;
    }
    budget -= spans.length;
    const iters: string[] = [];
    const buckets: string[] = [];
    spans.forEach(([a, b], j) => {
      params[`a${i}_${j}`] = a.toString();
      params[`b${i}_${j}`] = b.toString();
      params[`ia${i}_${j}`] = (a << shift).toString();
      params[`ib${i}_${j}`] = (((b + 1n) << shift) - 1n).toString();
      iters.push(`iter BETWEEN {ia${i}_${j}:Int64} AND {ib${i}_${j}:Int64}`);
      buckets.push(`bucket BETWEEN {a${i}_${j}:Int64} AND {b${i}_${j}:Int64}`);
    });
    iterRanges.push(`(${curve} AND (${iters.join(' OR ')}))`);
    bucketRanges.push(`(${curve} AND (${buckets.join(' OR ')}))`);
  });
  return deps.db.command(
    read.ctx,
    `INSERT INTO ${SCALAR_BUCKET_REPAIRS} (tenant, task, metric, variant, width, bucket, rows, mask, max_version, nans, total, low, high, received_at, repaired_at)
     SELECT p.tenant, p.task, p.metric, p.variant, {level:UInt16}, p.bucket, d.rows, p.mask, p.max_version, p.nans, p.total, p.low, p.high, p.received_at, now64(3)
     FROM (
       SELECT tenant, task, metric, variant, bitShiftRight(iter, {shift:UInt8}) AS bucket,
              groupBitOr(bitShiftLeft(toUInt256(1), toUInt8(bitAnd(iter, {offsets:Int64})))) AS mask, max(version) AS max_version,
              ${POINT_FIGURES}, max(received_at) AS received_at
       FROM scalars FINAL WHERE tenant = {tenant:String} AND (${iterRanges.join(' OR ')})
       GROUP BY tenant, task, metric, variant, bucket
     ) AS p
     INNER JOIN (
       SELECT task, metric, variant, bucket, rows, mask, max_version
       FROM ${SCALAR_BUCKETS} FINAL WHERE tenant = {tenant:String} AND width = {level:UInt16} AND (${bucketRanges.join(' OR ')}) AND rows != bitCount(mask)
     ) AS d
     ON p.task = d.task AND p.metric = d.metric AND p.variant = d.variant AND p.bucket = d.bucket AND p.mask = d.mask AND p.max_version = d.max_version`,
    params,
  );
}

/** Runs of consecutive bucket numbers, as [first, last] pairs. */
export function bucketSpans(buckets: readonly bigint[]): Array<[bigint, bigint]> {
  const sorted = [...new Set(buckets)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const spans: Array<[bigint, bigint]> = [];
  for (const b of sorted) {
    const last = spans.at(-1);
    if (last && last[1] + 1n === b) last[1] = b;
    else spans.push([b, b]);
  }
  return spans;
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
 * y_min = y_max = y, one value per point. The statement runs (and fails) before the first chunk
 * is asked for.
 */
export async function streamEveryPoint(
  deps: RouteDeps,
  ctx: RequestContext,
  tasks: readonly string[],
  key: ScalarKey,
  nest: HistogramNest,
  filter: MetricFilter = NO_FILTER,
): Promise<AsyncIterableIterator<string>> {
  const chunks = chunkJoin('cols');
  const writer = new ColumnsWriter({ columns: ['x', 'y', 'y_min', 'y_max'], nameMember: true });
  const blocks = await deps.db.stream<ChunkRow, string>(
    ctx,
    `SELECT task, metric, variant, ${chunks.col} AS col, ${chunks.s} AS s
     FROM (
       SELECT task, metric, variant, arraySort(groupArray((k, iter, value))) AS pts,
              arrayMap(p -> ${valueToken('p.3')}, pts) AS ys, [arrayMap(p -> ${xToken(key, 'p.1')}, pts), ys, ys, ys] AS cols
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

function curveId(c: Curve): string {
  return JSON.stringify([c.task, c.metric, c.variant]);
}
