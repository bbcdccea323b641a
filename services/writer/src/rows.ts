import { toCHDateTime64, tsvFloat, tsvFloatArray, tsvInt, tsvString, type TableName } from '@trackstream/clickhouse';
import { DecodeError, decodeTopicMessage, type Event } from '@trackstream/event-schema';
import type { ConsumedMessage } from '@trackstream/kafka';
import type { DeleteRequest } from './deleter';

/** A message the writer can't store; it goes to the dead-letter topic with `reason`. */
export class MessageRejected extends Error {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

export interface RowToInsert {
  table: TableName;
  /** The row as a TabSeparated line, in the column order of TSV_COLUMNS[table]. */
  line: string;
}

export type DecodedMessage =
  | { kind: 'events'; receivedAt: number; rows: RowToInsert[] }
  | ({ kind: 'delete' } & DeleteRequest);

/**
 * Positions within a message get 20 bits: version = offset * 2^20 + position. It grows with
 * ingest order within a partition (a re-report wins) and is the same on a replay (the replayed
 * row collapses onto the stored one). The gateway's message bound keeps positions far below 2^20.
 */
const POSITION_BITS = 20;
const POSITIONS = 2 ** POSITION_BITS;

export function versionOf(offset: string, position: number): string {
  const o = Number(offset);
  // Exact in a double while offset * 2^20 stays below 2^53 (offsets under 2^33); BigInt beyond.
  if (o < 2 ** 33) return String(o * POSITIONS + position);
  return ((BigInt(offset) << BigInt(POSITION_BITS)) + BigInt(position)).toString();
}

function toRow(e: Event, version: string, receivedAt: string): RowToInsert {
  const head = `${tsvString(e.tenant)}\t${tsvString(e.task)}\t`;
  const ts = toCHDateTime64(e.timestamp);
  const tail = `${ts}\t${receivedAt}\t${version}\n`;
  switch (e.type) {
    case 'training_stats_scalar':
      return { table: 'scalars', line: `${head}${tsvString(e.metric)}\t${tsvString(e.variant)}\t${tsvInt(e.iter)}\t${tsvFloat(e.value)}\t${tail}` };
    case 'training_stats_vector':
      return { table: 'vectors', line: `${head}${tsvString(e.metric)}\t${tsvString(e.variant)}\t${tsvInt(e.iter)}\t${tsvFloatArray(e.values)}\t${tail}` };
    case 'training_debug_image':
      return {
        table: 'images',
        line: `${head}${tsvString(e.metric)}\t${tsvString(e.variant)}\t${tsvInt(e.iter)}\t${tsvString(e.key)}\t${tsvString(e.url)}\t${tail}`,
      };
    case 'plot':
      return { table: 'plots', line: `${head}${tsvString(e.metric)}\t${tsvString(e.variant)}\t${tsvInt(e.iter)}\t${tsvString(e.plot_str)}\t${tail}` };
    case 'log':
      // seq equals version: unique per event of the task, identical on a replay.
      return {
        table: 'logs',
        line: `${head}${ts}\t${version}\t${tsvInt(e.iter)}\t${tsvString(e.level)}\t${tsvString(e.worker)}\t${tsvString(e.msg)}\t${receivedAt}\t${version}\n`,
      };
  }
}

export function decodeToRows(m: ConsumedMessage): DecodedMessage {
  let msg;
  try {
    msg = decodeTopicMessage(m.value);
  } catch (e) {
    if (e instanceof DecodeError) throw new MessageRejected(e.reason, e.message);
    throw e;
  }
  if (msg.kind === 'delete-task') return { kind: 'delete', tenant: msg.tenant, task: msg.task, requestId: msg.requestId };
  if (msg.events.length >= POSITIONS) throw new MessageRejected('too-many-events', `${msg.events.length} events in one message`);
  const receivedAt = toCHDateTime64(msg.receivedAt);
  const rows = msg.events.map((e, i) => toRow(e, versionOf(m.offset, i), receivedAt));
  return { kind: 'events', receivedAt: msg.receivedAt, rows };
}
