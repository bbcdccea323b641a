import type { RequestContext } from '@trackstream/api';
import type { RouteDeps } from './deps';
import { float } from './events';

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

/** The SDK's single-value ("Summary") iteration: not a point of any curve. */
const SUMMARY_ITERATION = -2147483648;

/**
 * The contract's down-sampling, computed by ClickHouse. Per (task, metric, variant) with n points
 * over keys [lo, hi]: n < samples returns every point (each its own group: the key, and the
 * iteration to keep points sharing a timestamp apart); otherwise buckets of width
 * ceil((hi - lo + 1) / samples) starting at lo, x = the bucket start.
 *
 * NaN: y is the mean, and a bucket holding a NaN has y = NaN (the loss went NaN: that must show,
 * never be averaged away); y_min/y_max are the extremes of the bucket's other values, so a spike
 * next to the NaN still shows, and NaN when every value is NaN. Every case is spelled out rather
 * than left to how avg/min/max treat NaN (ClickHouse's min/max skip it, avg returns it).
 * Key arithmetic runs in Int128: iterations may span the whole Int64 range.
 */
const SQL = (key: HistogramKey) => {
  const points = `SELECT task, metric, variant, iter, value, ${KEY_SQL[key]} AS k FROM scalars FINAL
      WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND iter != ${SUMMARY_ITERATION}`;
  // Each curve's size and key range first (a small GROUP BY joined back), rather than window
  // functions, which would sort every point; then one row per curve with its buckets as arrays,
  // so a curve of 2,000 buckets travels as one row, not 2,000.
  return `
  SELECT task, metric, variant, arraySort(groupArray((x, apart, y, y_min, y_max))) AS pts
  FROM (
    SELECT task, metric, variant, apart, toInt64(lo + bucket * width) AS x,
           if(countIf(isNaN(value)) > 0, nan, avg(value)) AS y,
           if(countIf(NOT isNaN(value)) = 0, nan, minIf(value, NOT isNaN(value))) AS y_min,
           if(countIf(NOT isNaN(value)) = 0, nan, maxIf(value, NOT isNaN(value))) AS y_max
    FROM (
      SELECT p.task AS task, p.metric AS metric, p.variant AS variant, p.value AS value, c.lo AS lo,
             if(c.n < {samples:UInt32}, toInt128(1), intDiv(toInt128(c.hi) - c.lo + {samples:UInt32}, {samples:UInt32})) AS width,
             intDiv(toInt128(p.k) - c.lo, width) AS bucket,
             if(c.n < {samples:UInt32}, p.iter, 0) AS apart
      FROM (${points}) AS p
      INNER JOIN (
        SELECT task, metric, variant, count() AS n, min(k) AS lo, max(k) AS hi FROM (${points}) GROUP BY task, metric, variant
      ) AS c ON p.task = c.task AND p.metric = c.metric AND p.variant = c.variant
    )
    GROUP BY task, metric, variant, lo, width, bucket, apart
  )
  GROUP BY task, metric, variant
  ORDER BY task, metric, variant`;
};

interface Row {
  task: string;
  metric: string;
  variant: string;
  /** [x, apart, y, y_min, y_max] per point, ascending. */
  pts: Array<[string, string, number | string, number | string, number | string]>;
}

/** Calls `add(task, metric, variant, series)` once per curve, in (task, metric, variant) order. */
export async function scalarHistograms(
  deps: RouteDeps,
  ctx: RequestContext,
  tasks: readonly string[],
  samples: number,
  key: HistogramKey,
  add: (task: string, metric: string, variant: string, series: Series) => void,
): Promise<void> {
  const rows = await deps.db.rows<Row>(ctx, SQL(key), { tasks, samples });
  for (const r of rows) {
    const series: Series = { name: r.variant, x: [], y: [], y_min: [], y_max: [] };
    for (const [x, , y, lo, hi] of r.pts) {
      series.x.push(Number(x));
      series.y.push(float(y));
      series.y_min.push(float(lo));
      series.y_max.push(float(hi));
    }
    add(r.task, r.metric, r.variant, series);
  }
}
