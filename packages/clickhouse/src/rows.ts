/**
 * The event tables (named by the kinds' descriptor in event-schema) and the value conversions
 * reads need: non-finite floats and 64-bit integers as ClickHouse's JSON formats write them.
 */

import { EVENT_TABLES, fromTsvFloat, type EventTable } from '@trackstream/event-schema';

export { EVENT_TABLES, type EventTable };
/** Every table the writer inserts into. */
export type TableName = EventTable | 'task_deletions';

/** Reads a Float64 as ClickHouse returns it with output_format_json_quote_denormals=1. */
export function fromCHFloat(v: number | string | null): number {
  if (typeof v === 'number') return v;
  return v === null ? Number.NaN : fromTsvFloat(v);
}

/** Reads DateTime64(3) selected as toUnixTimestamp64Milli(...) (a quoted Int64). */
export function fromCHMillis(v: string | number): number {
  return typeof v === 'number' ? v : Number(v);
}
