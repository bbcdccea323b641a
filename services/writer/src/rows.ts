import { createHash } from 'node:crypto';
import { toCHDateTime64, tsvString, type TableName } from '@trackstream/clickhouse';
import { DecodeError, EVENT_KINDS, encodeMessage, layoutV2, readTopicMessage, type EventKind, type EventTable, type V2Layout } from '@trackstream/event-schema';
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

/** A message's rows of one table. */
export interface RowsToInsert {
  table: TableName;
  /** UTF-8 TabSeparated lines, each ending in \n, in the column order of TSV_COLUMNS[table]. */
  data: Buffer;
  count: number;
}

export type DecodedMessage =
  | { kind: 'events'; receivedAt: number; rows: RowsToInsert[] }
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

/**
 * The seq of a message's first log line (the next lines add their position among the lines, in
 * the low 20 bits): the first 44 bits of a SHA-256 of the message's events as encoded, all but
 * the receive time. It depends on the events, not on the Kafka offset: a request sent again
 * (the SDK retrying after a 503 or a lost answer, when Kafka had appended the first copy after
 * all) is encoded into the same messages, so its lines get the same (timestamp, seq) and
 * collapse onto the first copy's, as a replay's do. Lines of two messages share no seq unless
 * the messages hold the same events, timestamps included (a resend), or their 44-bit digests
 * collide. Within a message the lines keep their order. Hashing the encoded lines costs a tenth
 * of re-serialising them.
 */
export function logSeqBase(value: Buffer, layout: V2Layout): bigint {
  const digest = createHash('sha256').update(value.subarray(layout.bodyStart)).digest();
  return (digest.readBigUInt64BE(0) >> BigInt(POSITION_BITS)) << BigInt(POSITION_BITS);
}

/** Versions of a message's events by position: plain doubles in the common case (see versionOf). */
function versions(offset: string): (position: number) => string {
  const o = Number(offset);
  if (o < 2 ** 33) {
    const base = o * POSITIONS;
    return (i) => String(base + i);
  }
  return (i) => versionOf(offset, i);
}

/** A line's end: the columns the writer fills (the kind's writerColumns), then \n. */
type Suffix = (receivedAt: string, version: string, seqBase: bigint, index: number) => string;

function suffixOf(kind: EventKind): Suffix {
  const columns = kind.writerColumns.map((c) => c.name).join(',');
  switch (columns) {
    case 'received_at,version':
      return (at, version) => `\t${at}\t${version}\n`;
    case 'received_at,version,seq':
      return (at, version, seqBase, index) => `\t${at}\t${version}\t${seqBase + BigInt(index)}\n`;
    default:
      throw new Error(`the writer can't fill the columns ${columns} of ${kind.table}`);
  }
}

const SUFFIX = new Map<EventTable, { suffix: Suffix; seq: boolean }>(
  EVENT_KINDS.map((k) => [k.table, { suffix: suffixOf(k), seq: k.writerColumns.some((c) => c.name === 'seq') }]),
);

/**
 * Rows of a v2 message without parsing its fields: each line gets tenant and task in front and
 * the receive time, version (and a log line's seq) after it. The layout was checked (layoutV2);
 * a field ClickHouse can't read fails the insert (see ConsumerLoop). A section's lines are read
 * as one string and its rows written as one: per line, string concatenation costs a fraction of
 * three Buffer copies (the message is UTF-8, checked by readTopicMessage, so this is lossless).
 */
function spliceV2(value: Buffer, layout: V2Layout, offset: string): RowsToInsert[] {
  const prefix = `${tsvString(layout.tenant)}\t${tsvString(layout.task)}\t`;
  const receivedAt = toCHDateTime64(layout.receivedAt);
  const version = versions(offset);
  const needsSeq = layout.sections.some((s) => s.lines.length > 0 && SUFFIX.get(s.table)?.seq === true);
  const seqBase = needsSeq ? logSeqBase(value, layout) : 0n;
  const out: RowsToInsert[] = [];
  let position = 0;
  for (const { table, lines } of layout.sections) {
    const n = lines.length / 2;
    if (n === 0) continue;
    const { suffix } = SUFFIX.get(table) as { suffix: Suffix };
    // The section's lines, each ending in \n (layoutV2 found them one after the other).
    const text = value.toString('utf8', lines[0] as number, (lines[lines.length - 1] as number) + 1);
    let rows = '';
    let from = 0;
    for (let i = 0; i < n; i++) {
      const end = text.indexOf('\n', from);
      rows += prefix + text.slice(from, end) + suffix(receivedAt, version(position), seqBase, i);
      from = end + 1;
      position++;
    }
    out.push({ table, data: Buffer.from(rows, 'utf8'), count: n });
  }
  return out;
}

export function decodeToRows(m: ConsumedMessage): DecodedMessage {
  try {
    let read = readTopicMessage(m.value);
    if (read.kind === 'decoded') {
      const msg = read.message;
      if (msg.kind === 'delete-task') return { kind: 'delete', tenant: msg.tenant, task: msg.task, requestId: msg.requestId, ...(msg.logsBefore === undefined ? {} : { logsBefore: msg.logsBefore }) };
      // A message of an older wire version: its events in today's form, then as any other.
      read = readTopicMessage(encodeMessage(msg));
      if (read.kind !== 'v2') throw new Error('encodeMessage wrote a message of another version');
    }
    const layout = layoutV2(read.buf, read.headerEnd, read.header);
    const count = layout.sections.reduce((n, s) => n + s.lines.length / 2, 0);
    if (count >= POSITIONS) throw new MessageRejected('too-many-events', `${count} events in one message`);
    return { kind: 'events', receivedAt: layout.receivedAt, rows: spliceV2(read.buf, layout, m.offset) };
  } catch (e) {
    if (e instanceof DecodeError) throw new MessageRejected(e.reason, e.message);
    throw e;
  }
}
