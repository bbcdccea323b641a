/** Reading figures out of Prometheus text (a service's /metrics, or registry.metrics()). */
import type { Bucket } from './stats';

/** label="value" pairs of a sample line's {...} part. */
function labelsOf(line: string): Record<string, string> {
  const open = line.indexOf('{');
  if (open < 0) return {};
  const out: Record<string, string> = {};
  for (const m of line.slice(open + 1, line.lastIndexOf('}')).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] as string] = m[2] as string;
  return out;
}

/** Every sample of metric `name`, exactly (not name_suffix), with its labels. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const next = line[name.length];
    if (next !== ' ' && next !== '{') continue;
    out.push({ labels: labelsOf(line), value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out;
}

/** The sum of every sample of `name` over all its label sets. */
export function metricSum(text: string, name: string): number {
  return samples(text, name).reduce((s, x) => s + x.value, 0);
}

/** The cumulative buckets of histogram `name` (summed over any other labels). */
export function histogramBuckets(text: string, name: string): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples(text, `${name}_bucket`)) {
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}
