import { fromCHFloat, fromCHMillis } from '@trackstream/clickhouse';
import { EVENT_KINDS, ownerOfKey, type EventType, type FieldSpec, type KindSpec, type WireField } from '@trackstream/event-schema';

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

/** A stored field's value as the API answers it (64-bit integers and special floats arrive as text). */
function answerValue(wire: WireField, v: unknown): unknown {
  switch (wire) {
    case 'int':
      return Number(v as Int64);
    case 'float':
      return fromCHFloat(v as Float);
    case 'floats':
      return (v as Float[]).map(fromCHFloat);
    case 'time':
      return fromCHMillis(v as Int64);
    default:
      return v;
  }
}

/** Per kind: each field's row column (a timestamp is selected as `ts`) and answer name. */
const ANSWERS = new Map(
  EVENT_KINDS.map((k) => [
    k.type,
    (k.fields as readonly FieldSpec[]).map((f) => ({
      wire: f.wire,
      column: f.wire === 'time' ? 'ts' : f.name,
      name: (k as KindSpec).answerNames?.[f.name] ?? f.name,
    })),
  ]),
);

/**
 * A stored event as the read endpoints answer it: `type`, `task` (the owner's id, `task` being a
 * `task` column value), `model_event: true` for a model's, then its fields.
 */
export function eventAnswer(type: EventType, task: string, row: object): Record<string, unknown> {
  const owner = ownerOfKey(task);
  const out: Record<string, unknown> = owner.owner === 'model' ? { type, task: owner.id, model_event: true } : { type, task };
  const r = row as Record<string, unknown>;
  for (const f of ANSWERS.get(type) ?? []) out[f.name] = answerValue(f.wire, r[f.column]);
  return out;
}

export const scalarEvent = (task: string, r: MetricColumns & { value: Float }) => eventAnswer('training_stats_scalar', task, r);
export const imageEvent = (task: string, r: MetricColumns & { key: string; url: string }) => eventAnswer('training_debug_image', task, r);
export const plotEvent = (task: string, r: MetricColumns & { plot_str: string }) => eventAnswer('plot', task, r);

export interface LogColumns {
  ts: Int64;
  seq: string;
  iter: Int64;
  level: string;
  worker: string;
  msg: string;
}

export const LOG_COLUMNS = 'toUnixTimestamp64Milli(timestamp) AS ts, seq, iter, level, worker, msg';

export const logEvent = (task: string, r: LogColumns) => eventAnswer('log', task, r);

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
