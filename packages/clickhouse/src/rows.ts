/**
 * Insert-row types of the event tables and the value conversions ClickHouse needs on the way in
 * and out: non-finite floats, 64-bit integers as strings (DateTime64 text: event-schema's tsv.ts).
 */

import { fromTsvFloat } from '@trackstream/event-schema';

export type EventTable = 'scalars' | 'vectors' | 'images' | 'plots' | 'logs';
export const EVENT_TABLES: readonly EventTable[] = ['scalars', 'vectors', 'images', 'plots', 'logs'];
/** Every table the writer inserts into. */
export type TableName = EventTable | 'task_deletions';

/** How a Float64 travels in JSONEachRow: JSON has no NaN/Infinity, ClickHouse reads these strings. */
export type CHFloat = number | 'nan' | 'inf' | '-inf';

export function toCHFloat(v: number): CHFloat {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'nan';
  return v > 0 ? 'inf' : '-inf';
}

/** Reads a Float64 as ClickHouse returns it with output_format_json_quote_denormals=1. */
export function fromCHFloat(v: number | string | null): number {
  if (typeof v === 'number') return v;
  return v === null ? Number.NaN : fromTsvFloat(v);
}

/** Reads DateTime64(3) selected as toUnixTimestamp64Milli(...) (a quoted Int64). */
export function fromCHMillis(v: string | number): number {
  return typeof v === 'number' ? v : Number(v);
}

interface Common {
  tenant: string;
  task: string;
  timestamp: string;
  received_at: string;
  /** UInt64 as a decimal string: it exceeds 2^53. */
  version: string;
}

export interface ScalarRow extends Common {
  metric: string;
  variant: string;
  iter: number;
  value: CHFloat;
}

export interface VectorRow extends Common {
  metric: string;
  variant: string;
  iter: number;
  values: CHFloat[];
}

export interface ImageRow extends Common {
  metric: string;
  variant: string;
  iter: number;
  key: string;
  url: string;
}

export interface PlotRow extends Common {
  metric: string;
  variant: string;
  iter: number;
  plot_str: string;
}

export interface LogRow extends Common {
  seq: string;
  iter: number;
  level: string;
  worker: string;
  msg: string;
}

export interface TaskDeletionRow {
  tenant: string;
  task: string;
  request_id: string;
  deleted: number;
  deleted_at: string;
}

export interface RowOf {
  scalars: ScalarRow;
  vectors: VectorRow;
  images: ImageRow;
  plots: PlotRow;
  logs: LogRow;
  task_deletions: TaskDeletionRow;
}
