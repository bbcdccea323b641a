import { fromCHFloat, fromCHMillis } from '@trackstream/clickhouse';

/**
 * Stored rows as the read endpoints select them, and the event objects they answer with: the
 * shapes the reference server returns (its stored documents), which the SDK and UI read.
 * 64-bit integers arrive as strings (output_format_json_quote_64bit_integers) and non-finite
 * floats as "nan"/"inf"/"-inf" (output_format_json_quote_denormals).
 */

type Int64 = string | number;
type Float = number | string;

/** Columns every metric row is selected with: `iter, metric, variant, toUnixTimestamp64Milli(timestamp) AS ts`. */
export interface MetricColumns {
  iter: Int64;
  metric: string;
  variant: string;
  ts: Int64;
}

export const METRIC_COLUMNS = 'iter, metric, variant, toUnixTimestamp64Milli(timestamp) AS ts';

function metricFields(task: string, r: MetricColumns) {
  return { task, iter: Number(r.iter), metric: r.metric, variant: r.variant, timestamp: fromCHMillis(r.ts) };
}

export function scalarEvent(task: string, r: MetricColumns & { value: Float }) {
  return { type: 'training_stats_scalar', ...metricFields(task, r), value: fromCHFloat(r.value) };
}

/** The reference stores a vector's `values` under `value`, and returns it so. */
export function vectorEvent(task: string, r: MetricColumns & { values: Float[] }) {
  return { type: 'training_stats_vector', ...metricFields(task, r), value: r.values.map(fromCHFloat) };
}

export function imageEvent(task: string, r: MetricColumns & { key: string; url: string }) {
  return { type: 'training_debug_image', ...metricFields(task, r), key: r.key, url: r.url };
}

export function plotEvent(task: string, r: MetricColumns & { plot_str: string }) {
  return { type: 'plot', ...metricFields(task, r), plot_str: r.plot_str };
}

export interface LogColumns {
  ts: Int64;
  seq: string;
  iter: Int64;
  level: string;
  worker: string;
  msg: string;
}

export const LOG_COLUMNS = 'toUnixTimestamp64Milli(timestamp) AS ts, seq, iter, level, worker, msg';

export function logEvent(task: string, r: LogColumns) {
  return { type: 'log', task, timestamp: fromCHMillis(r.ts), level: r.level, worker: r.worker, msg: r.msg, iter: Number(r.iter) };
}

/** A float as the API writes it: NaN and ±Infinity stay numbers (stringifyJson writes them bare). */
export const float = fromCHFloat;

/**
 * An object for keys that come from users (metric, variant, task names): no prototype, so a
 * metric named "__proto__" or "constructor" is an ordinary key, never Object.prototype's.
 */
export function dict<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** `parent[key]`, created empty on first use. */
export function child<V>(parent: Record<string, Record<string, V>>, key: string): Record<string, V> {
  return (parent[key] ??= dict<V>());
}

/** ClickHouse's string order (bytes of UTF-8), which JavaScript's < (UTF-16 units) differs from. */
export function byteOrder(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}
