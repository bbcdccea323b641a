import { createHash } from 'node:crypto';
import { toCHDateTime64, tsvFloat, tsvFloatArray, tsvInt, tsvString, type TableName } from '@trackstream/clickhouse';
import { DecodeError, layoutV2, readTopicMessage, type Event, type V2Layout } from '@trackstream/event-schema';
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

/** In a v1 message the events come last, after the receive time: `..."receivedAt":n,"events":[...]}`. */
const EVENTS_KEY = Buffer.from('"events":[');

/** The bytes a message's events are in: all but the receive time (v2: the lines after the header). */
function eventBytes(value: Buffer, v2?: V2Layout): Buffer {
  if (v2) return value.subarray(v2.bodyStart);
  const at = value.indexOf(EVENTS_KEY);
  return at >= 0 ? value.subarray(at) : value;
}

/**
 * The seq of a message's first log line (the next lines add their position among the lines, in
 * the low 20 bits): the first 44 bits of a SHA-256 of the message's events as encoded, all but
 * the receive time. It depends on the events, not on the Kafka offset: a request sent again
 * (the SDK retrying after a 503 or a lost answer, when Kafka had appended the first copy after
 * all) is encoded into the same messages, so its lines get the same (timestamp, seq) and
 * collapse onto the first copy's, as a replay's do. Lines of two messages share no seq unless
 * the messages hold the same events, timestamps included (a resend), or their 44-bit digests
 * collide. Within a message the lines keep their order. Hashing the encoded bytes costs a tenth
 * of re-serialising the lines; a message of another layout is hashed whole (receive time
 * included: still unique and the same on a replay).
 */
export function logSeqBase(value: Buffer, v2?: V2Layout): bigint {
  const digest = createHash('sha256').update(eventBytes(value, v2)).digest();
  return (digest.readBigUInt64BE(0) >> BigInt(POSITION_BITS)) << BigInt(POSITION_BITS);
}

/**
 * Builds a message's TSV, one text per table: the tenant and task, shared by every event, are
 * escaped once, and so is a metric or variant the previous event had (SDK batches repeat them).
 */
class MessageRows {
  private readonly head: string;
  private readonly tables = new Map<TableName, { text: string; count: number }>();
  private metric = '';
  private metricText = '';
  private variant = '';
  private variantText = '';

  constructor(tenant: string, task: string) {
    this.head = `${tsvString(tenant)}\t${tsvString(task)}\t`;
  }

  /** `tenant, task, metric, variant, iter` of a metric event's line. */
  metricHead(metric: string, variant: string, iter: number): string {
    if (metric !== this.metric) {
      this.metric = metric;
      this.metricText = tsvString(metric);
    }
    if (variant !== this.variant) {
      this.variant = variant;
      this.variantText = tsvString(variant);
    }
    return `${this.head}${this.metricText}\t${this.variantText}\t${tsvInt(iter)}\t`;
  }

  get tenantAndTask(): string {
    return this.head;
  }

  add(table: TableName, line: string): void {
    const t = this.tables.get(table);
    if (t) {
      t.text += line;
      t.count += 1;
    } else {
      this.tables.set(table, { text: line, count: 1 });
    }
  }

  all(): RowsToInsert[] {
    return [...this.tables].map(([table, t]) => ({ table, data: Buffer.from(t.text, 'utf8'), count: t.count }));
  }
}

function addRow(out: MessageRows, e: Event, version: string, receivedAt: string, seq: string): void {
  const ts = toCHDateTime64(e.timestamp);
  const tail = `${ts}\t${receivedAt}\t${version}\n`;
  switch (e.type) {
    case 'training_stats_scalar':
      return out.add('scalars', `${out.metricHead(e.metric, e.variant, e.iter)}${tsvFloat(e.value)}\t${tail}`);
    case 'training_stats_vector':
      return out.add('vectors', `${out.metricHead(e.metric, e.variant, e.iter)}${tsvFloatArray(e.values)}\t${tail}`);
    case 'training_debug_image':
      return out.add('images', `${out.metricHead(e.metric, e.variant, e.iter)}${tsvString(e.key)}\t${tsvString(e.url)}\t${tail}`);
    case 'plot':
      return out.add('plots', `${out.metricHead(e.metric, e.variant, e.iter)}${tsvString(e.plot_str)}\t${tail}`);
    case 'log':
      // seq (logSeqBase): unique per line of the task, the same on a replay and on a resend.
      return out.add('logs', `${out.tenantAndTask}${ts}\t${tsvInt(e.iter)}\t${tsvString(e.level)}\t${tsvString(e.worker)}\t${tsvString(e.msg)}\t${receivedAt}\t${version}\t${seq}\n`);
  }
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

/**
 * Rows of a v2 message without parsing its fields: each line gets tenant and task in front and
 * the receive time, version (and a log line's seq) after it, byte for byte. The layout was
 * checked (layoutV2); a field ClickHouse can't read fails the insert (see ConsumerLoop).
 */
function spliceV2(value: Buffer, layout: V2Layout, offset: string): RowsToInsert[] {
  const prefix = Buffer.from(`${tsvString(layout.tenant)}\t${tsvString(layout.task)}\t`, 'utf8');
  const receivedAt = toCHDateTime64(layout.receivedAt);
  const version = versions(offset);
  const hasLogs = layout.sections.some((s) => s.table === 'logs' && s.lines.length > 0);
  const seqBase = hasLogs ? logSeqBase(value, layout) : 0n;
  const out: RowsToInsert[] = [];
  let position = 0;
  for (const { table, lines } of layout.sections) {
    const n = lines.length / 2;
    if (n === 0) continue;
    const isLog = table === 'logs';
    // Line bytes, plus per line: the prefix and "\t<receivedAt>\t<version>[\t<seq>]\n" (64 bytes bound the rest).
    const size = (lines[lines.length - 1] as number) - (lines[0] as number) + n * (prefix.length + receivedAt.length + 64);
    const data = Buffer.allocUnsafe(size);
    let o = 0;
    for (let i = 0; i < lines.length; i += 2) {
      o += prefix.copy(data, o);
      o += value.copy(data, o, lines[i] as number, lines[i + 1] as number);
      const suffix = isLog ? `\t${receivedAt}\t${version(position)}\t${seqBase + BigInt(i / 2)}\n` : `\t${receivedAt}\t${version(position)}\n`;
      o += data.write(suffix, o, 'latin1');
      position++;
    }
    out.push({ table, data: data.subarray(0, o), count: n });
  }
  return out;
}

export function decodeToRows(m: ConsumedMessage): DecodedMessage {
  try {
    const read = readTopicMessage(m.value);
    if (read.kind === 'v2') {
      const layout = layoutV2(read.buf, read.headerEnd, read.header);
      const count = layout.sections.reduce((n, s) => n + s.lines.length / 2, 0);
      if (count >= POSITIONS) throw new MessageRejected('too-many-events', `${count} events in one message`);
      return { kind: 'events', receivedAt: layout.receivedAt, rows: spliceV2(read.buf, layout, m.offset) };
    }
    const msg = read.message;
    if (msg.kind === 'delete-task') return { kind: 'delete', tenant: msg.tenant, task: msg.task, requestId: msg.requestId };
    if (msg.events.length >= POSITIONS) throw new MessageRejected('too-many-events', `${msg.events.length} events in one message`);
    const receivedAt = toCHDateTime64(msg.receivedAt);
    const seqBase = m.value && msg.events.some((e) => e.type === 'log') ? logSeqBase(m.value) : 0n;
    let line = 0;
    const out = new MessageRows(msg.tenant, msg.task);
    const version = versions(m.offset);
    for (let i = 0; i < msg.events.length; i++) {
      const e = msg.events[i] as Event;
      addRow(out, e, version(i), receivedAt, e.type === 'log' ? (seqBase + BigInt(line++)).toString() : '');
    }
    return { kind: 'events', receivedAt: msg.receivedAt, rows: out.all() };
  } catch (e) {
    if (e instanceof DecodeError) throw new MessageRejected(e.reason, e.message);
    throw e;
  }
}
