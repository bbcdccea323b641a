/**
 * Rows as ClickHouse's TabSeparated text: the writer builds each row's line once, and inserts
 * send the lines as they are, without an object per row or a JSON encoder in between.
 */
import type { TableName } from './rows';

/** Column order of each table's TSV lines. */
export const TSV_COLUMNS: Readonly<Record<TableName, readonly string[]>> = {
  scalars: ['tenant', 'task', 'metric', 'variant', 'iter', 'value', 'timestamp', 'received_at', 'version'],
  vectors: ['tenant', 'task', 'metric', 'variant', 'iter', 'values', 'timestamp', 'received_at', 'version'],
  images: ['tenant', 'task', 'metric', 'variant', 'iter', 'key', 'url', 'timestamp', 'received_at', 'version'],
  plots: ['tenant', 'task', 'metric', 'variant', 'iter', 'plot_str', 'timestamp', 'received_at', 'version'],
  logs: ['tenant', 'task', 'timestamp', 'seq', 'iter', 'level', 'worker', 'msg', 'received_at', 'version'],
  task_deletions: ['tenant', 'task', 'request_id', 'deleted', 'deleted_at'],
};

const SPECIAL = /[\\\t\n\r\0\b\f]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' };

/** A String field: backslash escapes for the characters TSV gives a meaning to. */
export function tsvString(s: string): string {
  return SPECIAL.test(s) ? s.replace(/[\\\t\n\r\0\b\f]/g, (c) => ESCAPES[c] ?? c) : s;
}

/** A Float64 field: shortest round-trip text; NaN and infinities as ClickHouse spells them. */
export function tsvFloat(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return 'nan';
  return v > 0 ? 'inf' : '-inf';
}

export function tsvFloatArray(values: readonly number[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + tsvFloat(values[i] as number);
  return `${out}]`;
}

/** An integer field (Int64/UInt64), exact for every safe integer; larger ones pass as text. */
export function tsvInt(v: number | bigint | string): string {
  return typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString()) : String(v);
}

/** One TSV line from fields already rendered. */
export function tsvLine(fields: readonly string[]): string {
  return `${fields.join('\t')}\n`;
}
