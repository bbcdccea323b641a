/** Percentiles and summaries of measured samples, and quantiles of Prometheus histograms. */

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/** The p-th percentile (0..100) of ascending `sorted`, linearly interpolated between ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : NaN,
  };
}

/** One cumulative bucket of a Prometheus histogram: observations <= le. */
export interface Bucket {
  le: number;
  count: number;
}

/** later - earlier, bucket by bucket: the observations made between two snapshots. */
export function bucketDelta(later: readonly Bucket[], earlier: readonly Bucket[]): Bucket[] {
  return later.map((b) => ({ le: b.le, count: b.count - (earlier.find((e) => e.le === b.le)?.count ?? 0) }));
}

/**
 * The q-quantile (0..1) of cumulative buckets, interpolated linearly inside the bucket as
 * Prometheus's histogram_quantile does (so only as precise as the bucket bounds).
 */
export function bucketQuantile(buckets: readonly Bucket[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total === 0) return NaN;
  const target = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= target) {
      if (b.le === Infinity) return prevLe; // above the highest finite bound: its bound is all we know
      return prevLe + (b.le - prevLe) * ((target - prevCount) / Math.max(1, b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** The item whose `key` is the median (the upper one of an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  const m = sorted[Math.floor(sorted.length / 2)];
  if (m === undefined) throw new Error('medianBy: no items');
  return m;
}
