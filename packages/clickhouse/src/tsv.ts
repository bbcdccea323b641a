/**
 * Rows as ClickHouse's TabSeparated text: the writer builds each row's line once, and inserts
 * send the lines as they are, without an object per row or a JSON encoder in between.
 */
import { EVENT_KINDS, insertColumns } from '@trackstream/event-schema';
import type { EventTable, TableName } from './rows';

/**
 * Column order of each table's TSV lines. An event table's: a Kafka message's line with tenant
 * and task before it and what the writer adds after it (event-schema's insertColumns), so the
 * writer inserts lines as they come.
 */
export const TSV_COLUMNS: Readonly<Record<TableName, readonly string[]>> = {
  ...(Object.fromEntries(EVENT_KINDS.map((k) => [k.table, insertColumns(k)])) as Record<EventTable, string[]>),
  task_deletions: ['tenant', 'task', 'request_id', 'deleted', 'deleted_at'],
};

// The field formats belong to the Kafka wire format, which carries rows as these lines.
export { tsvString, tsvFloat, tsvFloatArray, tsvInt, tsvLine, toCHDateTime64 } from '@trackstream/event-schema';
