import { toCHDateTime64, toCHFloat, type TableName } from '@trackstream/clickhouse';
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
  row: object;
  /** A cheap size estimate, for the batch byte limit. */
  bytes: number;
}

export type DecodedMessage =
  | { kind: 'events'; receivedAt: number; rows: RowToInsert[] }
  | ({ kind: 'delete' } & DeleteRequest);

/**
 * Positions within a message get 20 bits: version = offset * 2^20 + position. It grows with
 * ingest order within a partition (a re-report wins) and is the same on a replay (the replayed
 * row collapses onto the stored one). The gateway's message bound keeps positions far below 2^20.
 */
const POSITION_BITS = 20n;

export function versionOf(offset: string, position: number): string {
  return ((BigInt(offset) << POSITION_BITS) + BigInt(position)).toString();
}

const FIXED_ROW_BYTES = 64;

function toRow(e: Event, version: string, receivedAt: string): RowToInsert {
  const common = { tenant: e.tenant, task: e.task, timestamp: toCHDateTime64(e.timestamp), received_at: receivedAt, version };
  const base = FIXED_ROW_BYTES + e.task.length;
  switch (e.type) {
    case 'training_stats_scalar':
      return { table: 'scalars', row: { ...common, metric: e.metric, variant: e.variant, iter: e.iter, value: toCHFloat(e.value) }, bytes: base + e.metric.length + e.variant.length };
    case 'training_stats_vector':
      return {
        table: 'vectors',
        row: { ...common, metric: e.metric, variant: e.variant, iter: e.iter, values: e.values.map(toCHFloat) },
        bytes: base + e.metric.length + e.variant.length + 8 * e.values.length,
      };
    case 'training_debug_image':
      return { table: 'images', row: { ...common, metric: e.metric, variant: e.variant, iter: e.iter, key: e.key, url: e.url }, bytes: base + e.key.length + e.url.length };
    case 'plot':
      return { table: 'plots', row: { ...common, metric: e.metric, variant: e.variant, iter: e.iter, plot_str: e.plot_str }, bytes: base + e.plot_str.length };
    case 'log':
      // seq equals version: unique per event of the task, identical on a replay.
      return { table: 'logs', row: { ...common, seq: version, iter: e.iter, level: e.level, worker: e.worker, msg: e.msg }, bytes: base + e.msg.length + e.worker.length };
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
  if (msg.events.length >= 1 << Number(POSITION_BITS)) throw new MessageRejected('too-many-events', `${msg.events.length} events in one message`);
  const receivedAt = toCHDateTime64(msg.receivedAt);
  const rows = msg.events.map((e, i) => toRow(e, versionOf(m.offset, i), receivedAt));
  return { kind: 'events', receivedAt: msg.receivedAt, rows };
}
