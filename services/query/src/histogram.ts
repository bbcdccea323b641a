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
const SQL = (key: HistogramKey) => `
  SELECT task, metric, variant, toInt64(lo + bucket * width) AS x,
         if(countIf(isNaN(value)) > 0, nan, avg(value)) AS y,
         if(countIf(NOT isNaN(value)) = 0, nan, minIf(value, NOT isNaN(value))) AS y_min,
         if(countIf(NOT isNaN(value)) = 0, nan, maxIf(value, NOT isNaN(value))) AS y_max
  FROM (
    SELECT task, metric, variant, value, lo,
           if(n < {samples:UInt32}, toInt128(1), intDiv(toInt128(hi) - lo + {samples:UInt32}, {samples:UInt32})) AS width,
           intDiv(toInt128(k) - lo, width) AS bucket,
           if(n < {samples:UInt32}, iter, 0) AS apart
    FROM (
      SELECT task, metric, variant, iter, value, k,
             count() OVER w AS n, min(k) OVER w AS lo, max(k) OVER w AS hi
      FROM (
        SELECT task, metric, variant, iter, value, ${KEY_SQL[key]} AS k FROM scalars FINAL
        WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND iter != ${SUMMARY_ITERATION}
      )
      WINDOW w AS (PARTITION BY task, metric, variant)
    )
  )
  GROUP BY task, metric, variant, lo, width, bucket, apart
  ORDER BY task, metric, variant, x, apart`;

interface Row {
  task: string;
  metric: string;
  variant: string;
  x: string;
  y: number | string;
  y_min: number | string;
  y_max: number | string;
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
  let current: Series | undefined;
  let prev: Row | undefined;
  for (const r of rows) {
    if (!current || !prev || r.task !== prev.task || r.metric !== prev.metric || r.variant !== prev.variant) {
      current = { name: r.variant, x: [], y: [], y_min: [], y_max: [] };
      add(r.task, r.metric, r.variant, current);
    }
    current.x.push(Number(r.x));
    current.y.push(float(r.y));
    current.y_min.push(float(r.y_min));
    current.y_max.push(float(r.y_max));
    prev = r;
  }
}
