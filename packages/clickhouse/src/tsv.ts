/**
 * Rows as ClickHouse's TabSeparated text: the writer builds each row's line once, and inserts
 * send the lines as they are, without an object per row or a JSON encoder in between.
 */
import { WIRE_COLUMNS } from '@trackstream/event-schema';
import type { TableName } from './rows';

/**
 * Column order of each table's TSV lines: a Kafka message's line (WIRE_COLUMNS) with tenant and
 * task before it and what the writer adds after it, so the writer inserts lines as they come.
 */
export const TSV_COLUMNS: Readonly<Record<TableName, readonly string[]>> = {
  scalars: ['tenant', 'task', ...WIRE_COLUMNS.scalars, 'received_at', 'version'],
  vectors: ['tenant', 'task', ...WIRE_COLUMNS.vectors, 'received_at', 'version'],
  images: ['tenant', 'task', ...WIRE_COLUMNS.images, 'received_at', 'version'],
  plots: ['tenant', 'task', ...WIRE_COLUMNS.plots, 'received_at', 'version'],
  logs: ['tenant', 'task', ...WIRE_COLUMNS.logs, 'received_at', 'version', 'seq'],
  task_deletions: ['tenant', 'task', 'request_id', 'deleted', 'deleted_at'],
};

// The field formats belong to the Kafka wire format, which carries rows as these lines.
export { tsvString, tsvFloat, tsvFloatArray, tsvInt, tsvLine, toCHDateTime64 } from '@trackstream/event-schema';
