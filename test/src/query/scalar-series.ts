/** The histograms' contract computed point by point, for the scalar tests to compare answers with. */
import assert from 'node:assert/strict';
import { mean } from './support';

export interface Series<X = number> {
  name: string;
  x: X[];
  y: number[];
  y_min: number[];
  y_max: number[];
}

/**
 * The contract's down-sampling: fewer points than `samples` (or `samples` 0) is every point;
 * otherwise buckets whose width is the smallest power of two at or above (hi - lo + 1) / samples,
 * with edges at multiples of the width, x = the bucket's start, y = its mean (NaN if it holds
 * one), y_min/y_max the extremes of its other values.
 */
export function expectedSeries(points: Array<[key: number, value: number]>, samples: number, name: string): Series {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  if (samples === 0 || sorted.length < samples) {
    return { name, x: sorted.map(([k]) => k), y: sorted.map(([, v]) => v), y_min: sorted.map(([, v]) => v), y_max: sorted.map(([, v]) => v) };
  }
  const lo = sorted[0]![0];
  const hi = sorted.at(-1)![0];
  const width = bucketWidth(lo, hi, samples);
  const buckets = new Map<number, number[]>();
  for (const [k, v] of sorted) {
    const b = Math.floor(k / width);
    const values = buckets.get(b);
    if (values) values.push(v);
    else buckets.set(b, [v]);
  }
  const out: Series = { name, x: [], y: [], y_min: [], y_max: [] };
  for (const [b, vs] of buckets) {
    const numbers = vs.filter((v) => !Number.isNaN(v));
    out.x.push(b * width);
    out.y.push(vs.some(Number.isNaN) ? NaN : mean(vs));
    out.y_min.push(numbers.length ? Math.min(...numbers) : NaN);
    out.y_max.push(numbers.length ? Math.max(...numbers) : NaN);
  }
  return out;
}

/** The smallest power of two at or above (hi - lo + 1) / samples. */
export function bucketWidth(lo: number, hi: number, samples: number): number {
  const need = Math.ceil((hi - lo + 1) / samples);
  let width = 1;
  while (width < need) width *= 2;
  return width;
}

/** Equal series, floats to 1e-9 relative, NaN equal to NaN. */
export function assertSeries<X>(actual: Series<X> | undefined, want: Series<X>, what: string): void {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.name, want.name, what);
  assert.deepEqual(actual.x, want.x, `${what}: x`);
  for (const k of ['y', 'y_min', 'y_max'] as const) {
    assert.equal(actual[k].length, want[k].length, `${what}: ${k} length`);
    want[k].forEach((w, i) => {
      const a = actual[k][i] as number;
      if (Number.isNaN(w)) assert.ok(Number.isNaN(a), `${what}: ${k}[${i}] = ${a}, want NaN`);
      else if (!Number.isFinite(w)) assert.equal(a, w, `${what}: ${k}[${i}]`);
      else assert.ok(Math.abs(a - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${what}: ${k}[${i}] = ${a}, want ${w}`);
    });
  }
}

/** [i, f(i)] for i in 0..n-1. */
export const range = (n: number, f: (i: number) => number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [i, f(i)]);
