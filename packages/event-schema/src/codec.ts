import { isUtf8 } from 'node:buffer';
import { isLogLevel, type Event } from './events';
import { fromCHDateTime64, fromTsvFloat, fromTsvFloatArray, fromTsvString, toCHDateTime64, tsvFloat, tsvFloatArray, tsvInt, tsvString } from './tsv';

/**
 * The Kafka message codec, shared by the gateway (encode) and the writer (decode).
 *
 * One message carries the events of ONE (tenant, task). Wire format v2, what encodeMessage and
 * packEvents write: a JSON header line, then the events as TabSeparated lines in the field
 * order of WIRE_COLUMNS (the tables' columns; tenant and task are in the header), grouped by
 * table in the order the header's `rows` lists them:
 *
 *   {"v":2,"tenant":"t","task":"x","receivedAt":1700000000000,"rows":{"scalars":2,"logs":1}}\n
 *   loss\ttrain\t7\t0.25\t2024-01-01 00:00:00.007\n
 *   loss\tval\t7\t0.5\t2024-01-01 00:00:00.007\n
 *   2024-01-01 00:00:01.000\t7\tinfo\tworker-1\tepoch 1 done\n
 *
 * Fields are as ClickHouse reads them (tsv.ts): the writer prefixes tenant and task and appends
 * the receive time and the version, and inserts the lines without parsing them. An event's
 * position, on which its version depends, is its line number after the header. Strings are
 * UTF-8 (a lone surrogate becomes U+FFFD, as it would in the table).
 *
 * Wire format v1 (UTF-8 JSON), still decoded:
 *
 *   {"v":1,"tenant":"t","task":"x","receivedAt":1700000000000,"events":[ <event>, ... ]}
 *
 * where each event is a tuple (tenant and task come from the envelope):
 *
 *   ["s", timestamp, iter, metric, variant, value]      training_stats_scalar
 *   ["v", timestamp, iter, metric, variant, [values]]   training_stats_vector
 *   ["i", timestamp, iter, metric, variant, key, url]   training_debug_image
 *   ["p", timestamp, iter, metric, variant, plot_str]   plot
 *   ["l", timestamp, iter, level, worker, msg]          log
 *
 * A scalar value or vector element is a JSON number, or one of the strings "NaN",
 * "Infinity", "-Infinity", "-0" (values plain JSON cannot carry). Strings are JSON strings,
 * so every string (control characters, lone surrogates, emoji) round-trips exactly.
 *
 * A new wire version gets its own encodeVn/decodeVn; decodeMessage keeps every older decoder,
 * so messages written before an upgrade stay readable.
 */

/** The version encodeMessage writes. */
export const CODEC_VERSION = 2;

/** The tables a v2 message's lines are rows of. */
export type WireTable = 'scalars' | 'vectors' | 'images' | 'plots' | 'logs';
export const WIRE_TABLES: readonly WireTable[] = ['scalars', 'vectors', 'images', 'plots', 'logs'];

/** Fields of a v2 line per table: the table's columns, in its insert order after tenant and task. */
export const WIRE_COLUMNS: Readonly<Record<WireTable, readonly string[]>> = {
  scalars: ['metric', 'variant', 'iter', 'value', 'timestamp'],
  vectors: ['metric', 'variant', 'iter', 'values', 'timestamp'],
  images: ['metric', 'variant', 'iter', 'key', 'url', 'timestamp'],
  plots: ['metric', 'variant', 'iter', 'plot_str', 'timestamp'],
  logs: ['timestamp', 'iter', 'level', 'worker', 'msg'],
};
/** Default bound of one encoded message (packEvents). Brokers allow 16 MiB for the oversize single event. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** One Kafka message's content, whatever its wire version. */
export interface Message {
  tenant: string;
  task: string;
  /** Gateway receive time, epoch ms. */
  receivedAt: number;
  /** Each event's tenant and task equal the message's. */
  events: Event[];
}

/**
 * The control message of events.delete_for_task. It travels with the task's key, so it sits
 * in the task's partition after every event acknowledged before it, and the writer meets it
 * in that order. Wire v1: {"v":1,"op":"delete-task","tenant","task","receivedAt","requestId"}.
 */
export interface DeleteTaskMessage {
  tenant: string;
  task: string;
  receivedAt: number;
  /** Ties the writer's result row to the waiting request. */
  requestId: string;
}

/** Whatever a message of the events topic holds. */
export type TopicMessage = ({ kind: 'events' } & Message) | ({ kind: 'delete-task' } & DeleteTaskMessage);

export type DecodeErrorReason = 'empty' | 'invalid-json' | 'unknown-version' | 'invalid-shape';

/** An undecodable message; `reason` is a bounded label (dead-letter header, metric label). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly reason: DecodeErrorReason,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

/**
 * The Kafka key of a (tenant, task): one task's events stay on one partition, in order.
 * Task ids never contain control characters (validateEvent), so the key splits unambiguously
 * at its last \u0000.
 */
export function messageKey(tenant: string, task: string): string {
  return `${tenant}\u0000${task}`;
}

// ---------------------------------------------------------------------------------- encode

function bug(message: string): never {
  throw new TypeError(`encodeMessage: ${message}`);
}

type Special = 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** A float that may be NaN/+-Infinity/-0: those become strings. */
function float(n: number): number | Special {
  if (typeof n !== 'number') bug('value is not a number');
  // n - n is 0 for finite n; 1 / n tells -0 from 0.
  if (n - n === 0 && (n !== 0 || 1 / n > 0)) return n;
  if (n !== n) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return '-0';
}

function finite(n: number, what: string): number {
  if (typeof n !== 'number' || n - n !== 0) bug(`${what} must be a finite number`);
  return n;
}

function text(s: string, what: string): string {
  if (typeof s !== 'string') bug(`${what} must be a string`);
  return s;
}

function floats(values: number[]): Array<number | Special> {
  if (!Array.isArray(values)) bug('values must be an array');
  for (let i = 0; i < values.length; i++) {
    const n = values[i] as number;
    if (!(typeof n === 'number' && n - n === 0 && (n !== 0 || 1 / n > 0))) return values.map(float);
  }
  return values; // all plain finite numbers: no copy
}

type TupleV1 = Array<string | number | Array<number | Special>>;

function encodeEventV1(e: Event, tenant: string, task: string): TupleV1 {
  if (e.tenant !== tenant || e.task !== task) bug('an event of another (tenant, task) in the message');
  const ts = finite(e.timestamp, 'timestamp');
  const iter = finite(e.iter, 'iter');
  switch (e.type) {
    case 'training_stats_scalar':
      return ['s', ts, iter, text(e.metric, 'metric'), text(e.variant, 'variant'), float(e.value)];
    case 'training_stats_vector':
      return ['v', ts, iter, text(e.metric, 'metric'), text(e.variant, 'variant'), floats(e.values)];
    case 'training_debug_image':
      return ['i', ts, iter, text(e.metric, 'metric'), text(e.variant, 'variant'), text(e.key, 'key'), text(e.url, 'url')];
    case 'plot':
      return ['p', ts, iter, text(e.metric, 'metric'), text(e.variant, 'variant'), text(e.plot_str, 'plot_str')];
    case 'log':
      return ['l', ts, iter, text(e.level, 'level'), text(e.worker, 'worker'), text(e.msg, 'msg')];
    default:
      return bug(`unknown event type ${JSON.stringify((e as { type?: unknown }).type)}`);
  }
}

function tuplesV1(tenant: string, task: string, events: readonly Event[]): TupleV1[] {
  const out = new Array<TupleV1>(events.length);
  for (let i = 0; i < events.length; i++) out[i] = encodeEventV1(events[i] as Event, tenant, task);
  return out;
}

function envelopeV1(tenant: string, task: string, receivedAt: number, events: TupleV1[]): string {
  // Key order is the wire order: v first, so a reader can dispatch before reading the rest.
  return JSON.stringify({ v: 1, tenant: text(tenant, 'tenant'), task: text(task, 'task'), receivedAt: finite(receivedAt, 'receivedAt'), events });
}

/** Encodes a message in wire version 1 (still decoded; for tools and tests of older messages). */
export function encodeMessageV1(msg: Message): Buffer {
  return Buffer.from(envelopeV1(msg.tenant, msg.task, msg.receivedAt, tuplesV1(msg.tenant, msg.task, msg.events)), 'utf8');
}

const TABLE_OF: Readonly<Record<Event['type'], WireTable>> = {
  training_stats_scalar: 'scalars',
  training_stats_vector: 'vectors',
  training_debug_image: 'images',
  plot: 'plots',
  log: 'logs',
};

/**
 * The last strings and timestamp rendered: consecutive events of an SDK batch mostly repeat
 * their metric and variant, and share a timestamp.
 */
const recent = { metric: '', metricText: '', variant: '', variantText: '', ms: Number.NaN, msText: '' };

/** `metric\tvariant\titer\t` of a metric event's line. */
function metricHead(e: { metric: string; variant: string; iter: number }): string {
  if (e.metric !== recent.metric) {
    recent.metricText = tsvString(text(e.metric, 'metric'));
    recent.metric = e.metric;
  }
  if (e.variant !== recent.variant) {
    recent.variantText = tsvString(text(e.variant, 'variant'));
    recent.variant = e.variant;
  }
  return `${recent.metricText}\t${recent.variantText}\t${tsvInt(finite(e.iter, 'iter'))}\t`;
}

function timeText(ms: number): string {
  if (ms !== recent.ms) {
    recent.msText = toCHDateTime64(finite(ms, 'timestamp'));
    recent.ms = ms;
  }
  return recent.msText;
}

/** An event's v2 line, `\n` included. */
function lineV2(e: Event): string {
  const ts = timeText(e.timestamp);
  switch (e.type) {
    case 'training_stats_scalar':
      return `${metricHead(e)}${tsvFloat(numberOf(e.value))}\t${ts}\n`;
    case 'training_stats_vector':
      if (!Array.isArray(e.values)) bug('values must be an array');
      return `${metricHead(e)}${tsvFloatArray(e.values.map(numberOf))}\t${ts}\n`;
    case 'training_debug_image':
      return `${metricHead(e)}${tsvString(text(e.key, 'key'))}\t${tsvString(text(e.url, 'url'))}\t${ts}\n`;
    case 'plot':
      return `${metricHead(e)}${tsvString(text(e.plot_str, 'plot_str'))}\t${ts}\n`;
    case 'log':
      return `${ts}\t${tsvInt(finite(e.iter, 'iter'))}\t${tsvString(text(e.level, 'level'))}\t${tsvString(text(e.worker, 'worker'))}\t${tsvString(text(e.msg, 'msg'))}\n`;
    default:
      return bug(`unknown event type ${JSON.stringify((e as { type?: unknown }).type)}`);
  }
}

function numberOf(n: number): number {
  if (typeof n !== 'number') bug('value is not a number');
  return n;
}

/** Lines of one message being packed, by table. */
class V2Builder {
  readonly lines = new Map<WireTable, string[]>();
  count = 0;
  bytes = 0;

  add(table: WireTable, line: string, bytes: number): void {
    const list = this.lines.get(table);
    if (list) list.push(line);
    else this.lines.set(table, [line]);
    this.count += 1;
    this.bytes += bytes;
  }

  build(tenant: string, task: string, receivedAt: number): Buffer {
    const rows: Partial<Record<WireTable, number>> = {};
    const body: string[] = [];
    for (const table of WIRE_TABLES) {
      const list = this.lines.get(table);
      if (!list) continue;
      rows[table] = list.length;
      body.push(list.join(''));
    }
    return Buffer.from(`${headerV2(tenant, task, receivedAt, rows)}\n${body.join('')}`, 'utf8');
  }
}

function headerV2(tenant: string, task: string, receivedAt: number, rows: Partial<Record<WireTable, number>>): string {
  // Key order is the wire order: v first, so a reader can dispatch before reading the rest.
  return JSON.stringify({ v: 2, tenant: text(tenant, 'tenant'), task: text(task, 'task'), receivedAt: finite(receivedAt, 'receivedAt'), rows });
}

/** Encodes a message in the current wire version. Throws TypeError for a malformed message (a bug). */
export function encodeMessage(msg: Message): Buffer {
  const b = new V2Builder();
  for (const e of msg.events) {
    if (e.tenant !== msg.tenant || e.task !== msg.task) bug('an event of another (tenant, task) in the message');
    b.add(TABLE_OF[e.type] ?? bug('unknown event type'), lineV2(e), 0);
  }
  return b.build(msg.tenant, msg.task, msg.receivedAt);
}

/**
 * Encodes the events of one (tenant, task) as messages of at most `maxBytes` each, in order,
 * never splitting an event; an event larger than maxBytes on its own goes alone in its
 * message. No events: no messages.
 */
export function packEvents(
  tenant: string,
  task: string,
  events: readonly Event[],
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
  receivedAt: number = Date.now(),
): Buffer[] {
  if (events.length === 0) return [];
  // The header's size once every table's count has 7 digits (a message holds far fewer lines).
  const headerBytes = Buffer.byteLength(headerV2(tenant, task, receivedAt, { scalars: 1e6, vectors: 1e6, images: 1e6, plots: 1e6, logs: 1e6 }), 'utf8') + 1;
  const out: Buffer[] = [];
  let b = new V2Builder();
  for (const e of events) {
    if (e.tenant !== tenant || e.task !== task) bug('an event of another (tenant, task) in the message');
    const line = lineV2(e);
    const bytes = Buffer.byteLength(line, 'utf8');
    if (b.count > 0 && headerBytes + b.bytes + bytes > maxBytes) {
      out.push(b.build(tenant, task, receivedAt));
      b = new V2Builder();
    }
    b.add(TABLE_OF[e.type] ?? bug('unknown event type'), line, bytes);
  }
  out.push(b.build(tenant, task, receivedAt));
  return out;
}

// ---------------------------------------------------------------------------------- decode

function shape(detail: string): never {
  throw new DecodeError('invalid-shape', detail);
}

function dFloat(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return shape(`${at}: not a number`);
  }
}

function dFinite(v: unknown, at: string): number {
  if (typeof v !== 'number' || v - v !== 0) shape(`${at}: not a finite number`);
  return v;
}

function dString(v: unknown, at: string): string {
  if (typeof v !== 'string') shape(`${at}: not a string`);
  return v;
}

function decodeV1(o: Record<string, unknown>): Message {
  const tenant = dString(o['tenant'], 'tenant');
  const task = dString(o['task'], 'task');
  const receivedAt = dFinite(o['receivedAt'], 'receivedAt');
  const list = o['events'];
  if (!Array.isArray(list)) shape('events: not an array');
  const events = new Array<Event>(list.length);
  for (let i = 0; i < list.length; i++) {
    const t: unknown = list[i];
    if (!Array.isArray(t)) shape(`events[${i}]: not an array`);
    const timestamp = dFinite(t[1], 'timestamp');
    const iter = dFinite(t[2], 'iter');
    let e: Event;
    switch (t[0]) {
      case 's':
        if (t.length !== 6) shape(`events[${i}]: bad scalar`);
        e = { tenant, task, type: 'training_stats_scalar', timestamp, iter, metric: dString(t[3], 'metric'), variant: dString(t[4], 'variant'), value: dFloat(t[5], 'value') };
        break;
      case 'v': {
        const raw: unknown = t[5];
        if (t.length !== 6 || !Array.isArray(raw)) shape(`events[${i}]: bad vector`);
        const values = new Array<number>(raw.length);
        for (let j = 0; j < raw.length; j++) values[j] = dFloat(raw[j], 'values');
        e = { tenant, task, type: 'training_stats_vector', timestamp, iter, metric: dString(t[3], 'metric'), variant: dString(t[4], 'variant'), values };
        break;
      }
      case 'i':
        if (t.length !== 7) shape(`events[${i}]: bad image`);
        e = { tenant, task, type: 'training_debug_image', timestamp, iter, metric: dString(t[3], 'metric'), variant: dString(t[4], 'variant'), key: dString(t[5], 'key'), url: dString(t[6], 'url') };
        break;
      case 'p':
        if (t.length !== 6) shape(`events[${i}]: bad plot`);
        e = { tenant, task, type: 'plot', timestamp, iter, metric: dString(t[3], 'metric'), variant: dString(t[4], 'variant'), plot_str: dString(t[5], 'plot_str') };
        break;
      case 'l': {
        const level: unknown = t[3];
        if (t.length !== 6 || !isLogLevel(level)) shape(`events[${i}]: bad log`);
        e = { tenant, task, type: 'log', timestamp, iter, level, worker: dString(t[4], 'worker'), msg: dString(t[5], 'msg') };
        break;
      }
      default:
        return shape(`events[${i}]: unknown kind`);
    }
    events[i] = e;
  }
  return { tenant, task, receivedAt, events };
}

function decodeAnyV1(o: Record<string, unknown>): TopicMessage {
  if (o['op'] === undefined) return { kind: 'events', ...decodeV1(o) };
  if (o['op'] !== 'delete-task') shape('unknown op');
  return {
    kind: 'delete-task',
    tenant: dString(o['tenant'], 'tenant'),
    task: dString(o['task'], 'task'),
    receivedAt: dFinite(o['receivedAt'], 'receivedAt'),
    requestId: dString(o['requestId'], 'requestId'),
  };
}

/** Where a v2 message's lines of one table are: byte offsets, each line's end at its \n. */
export interface V2Section {
  table: WireTable;
  /** Offset of each line's first byte and of its \n: [start0, end0, start1, end1, ...]. */
  lines: number[];
}

/** A v2 message's header and the place of every line, checked: see layoutV2. */
export interface V2Layout {
  tenant: string;
  task: string;
  receivedAt: number;
  sections: V2Section[];
  /** Offset of the first line (after the header's \n). */
  bodyStart: number;
}

const TAB = 9;
const NEWLINE = 10;
const WIRE_TABLE_SET: ReadonlySet<string> = new Set(WIRE_TABLES);

/**
 * Reads a v2 message's header and finds its lines, checking the shape a TabSeparated insert
 * relies on: every table known and listed once, exactly as many lines as the header says and
 * nothing after them, and each line with its table's number of fields. Field contents are the
 * gateway's (validated there); decodeV2 reads them. Throws DecodeError('invalid-shape').
 */
export function layoutV2(buf: Buffer, headerEnd: number, header: Record<string, unknown>): V2Layout {
  const tenant = dString(header['tenant'], 'tenant');
  const task = dString(header['task'], 'task');
  const receivedAt = dFinite(header['receivedAt'], 'receivedAt');
  const rows = header['rows'];
  if (typeof rows !== 'object' || rows === null || Array.isArray(rows)) shape('rows: not an object');
  const sections: V2Section[] = [];
  let pos = headerEnd + 1;
  for (const [table, n] of Object.entries(rows as Record<string, unknown>)) {
    if (!WIRE_TABLE_SET.has(table)) shape(`rows: unknown table ${JSON.stringify(table).slice(0, 40)}`);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) shape(`rows.${table}: not a count`);
    const tabs = (WIRE_COLUMNS[table as WireTable] as readonly string[]).length - 1;
    const lines = new Array<number>(2 * n);
    for (let i = 0; i < n; i++) {
      const end = buf.indexOf(NEWLINE, pos);
      if (end < 0) shape(`rows.${table}: ${i} lines of ${n}`);
      let seen = 0;
      for (let j = pos; j < end; j++) if (buf[j] === TAB) seen++;
      if (seen !== tabs) shape(`rows.${table}: line ${i} has ${seen + 1} fields, not ${tabs + 1}`);
      lines[2 * i] = pos;
      lines[2 * i + 1] = end;
      pos = end + 1;
    }
    sections.push({ table: table as WireTable, lines });
  }
  if (pos !== buf.length) shape('bytes after the last line');
  return { tenant, task, receivedAt, sections, bodyStart: headerEnd + 1 };
}

function dInt(s: string, at: string): number {
  const n = Number(s);
  if (s.length === 0 || !Number.isInteger(n)) shape(`${at}: not an integer`);
  return n;
}

function dTime(s: string): number {
  const ms = fromCHDateTime64(s);
  if (Number.isNaN(ms)) shape('timestamp: not a DateTime64(3)');
  return ms;
}

function dNumber(s: string, at: string): number {
  const v = fromTsvFloat(s);
  if (Number.isNaN(v) && s !== 'nan') shape(`${at}: not a number`);
  return v;
}

/** Every event of a v2 message, as the gateway accepted it. */
function decodeV2(buf: Buffer, headerEnd: number, header: Record<string, unknown>): Message {
  const layout = layoutV2(buf, headerEnd, header);
  const { tenant, task } = layout;
  const events: Event[] = [];
  for (const { table, lines } of layout.sections) {
    for (let i = 0; i < lines.length; i += 2) {
      const f = buf.toString('utf8', lines[i], lines[i + 1]).split('\t');
      const at = (k: number): string => f[k] as string;
      switch (table) {
        case 'scalars':
          events.push({ tenant, task, type: 'training_stats_scalar', metric: fromTsvString(at(0)), variant: fromTsvString(at(1)), iter: dInt(at(2), 'iter'), value: dNumber(at(3), 'value'), timestamp: dTime(at(4)) });
          break;
        case 'vectors': {
          const values = fromTsvFloatArray(at(3));
          if (values.some((v) => Number.isNaN(v)) && !at(3).includes('nan')) shape('values: not numbers');
          events.push({ tenant, task, type: 'training_stats_vector', metric: fromTsvString(at(0)), variant: fromTsvString(at(1)), iter: dInt(at(2), 'iter'), values, timestamp: dTime(at(4)) });
          break;
        }
        case 'images':
          events.push({ tenant, task, type: 'training_debug_image', metric: fromTsvString(at(0)), variant: fromTsvString(at(1)), iter: dInt(at(2), 'iter'), key: fromTsvString(at(3)), url: fromTsvString(at(4)), timestamp: dTime(at(5)) });
          break;
        case 'plots':
          events.push({ tenant, task, type: 'plot', metric: fromTsvString(at(0)), variant: fromTsvString(at(1)), iter: dInt(at(2), 'iter'), plot_str: fromTsvString(at(3)), timestamp: dTime(at(4)) });
          break;
        case 'logs': {
          const level = fromTsvString(at(2));
          if (!isLogLevel(level)) shape('level: not a log level');
          events.push({ tenant, task, type: 'log', timestamp: dTime(at(0)), iter: dInt(at(1), 'iter'), level, worker: fromTsvString(at(3)), msg: fromTsvString(at(4)) });
          break;
        }
      }
    }
  }
  return { tenant, task, receivedAt: layout.receivedAt, events };
}

/** A delete marker is a v1 JSON message (v2 only changed how events travel). */
export function encodeDeleteTask(m: DeleteTaskMessage): Buffer {
  return Buffer.from(
    JSON.stringify({ v: 1, op: 'delete-task', tenant: m.tenant, task: m.task, receivedAt: m.receivedAt, requestId: m.requestId }),
    'utf8',
  );
}

/** Decoders by wire version of a JSON message (v1); never remove one while such messages may be in Kafka. */
const DECODERS: Readonly<Record<number, (o: Record<string, unknown>) => TopicMessage>> = { 1: decodeAnyV1 };

/**
 * Decodes a message of any supported wire version. Throws DecodeError: 'empty' (no value,
 * e.g. a tombstone), 'invalid-json' (not UTF-8 JSON), 'unknown-version' (a `v` this build
 * does not know), 'invalid-shape' (anything else malformed).
 */
export function decodeMessage(buf: Buffer | Uint8Array | null | undefined): Message {
  const m = decodeTopicMessage(buf);
  if (m.kind !== 'events') shape('not an events message');
  const { kind: _kind, ...events } = m;
  return events;
}

/** Like decodeMessage, for every kind the events topic carries (events and delete markers). */
export function decodeTopicMessage(buf: Buffer | Uint8Array | null | undefined): TopicMessage {
  const read = readTopicMessage(buf);
  if (read.kind === 'v2') return { kind: 'events', ...decodeV2(read.buf, read.headerEnd, read.header) };
  return read.message;
}

/**
 * A message's version and header, for readers with a fast path for v2 (the writer): v2 comes
 * back with its header parsed and the rest untouched; every other version decoded.
 */
export type ReadMessage = { kind: 'v2'; buf: Buffer; headerEnd: number; header: Record<string, unknown> } | { kind: 'decoded'; message: TopicMessage };

export function readTopicMessage(input: Buffer | Uint8Array | null | undefined): ReadMessage {
  if (!input || input.length === 0) throw new DecodeError('empty');
  if (!isUtf8(input)) throw new DecodeError('invalid-json', 'not UTF-8');
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // A v2 header is the first line; a v1 message is one line of JSON.
  const nl = buf.indexOf(NEWLINE);
  let o: unknown;
  try {
    o = JSON.parse(buf.toString('utf8', 0, nl < 0 ? buf.length : nl));
  } catch {
    throw new DecodeError('invalid-json');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) shape('not an object');
  const v = (o as Record<string, unknown>)['v'];
  if (typeof v !== 'number') shape('no version');
  if (v === 2 && nl >= 0) return { kind: 'v2', buf, headerEnd: nl, header: o as Record<string, unknown> };
  const decode = Object.prototype.hasOwnProperty.call(DECODERS, v) ? DECODERS[v] : undefined;
  if (!decode || nl >= 0) throw new DecodeError('unknown-version', `v=${v}`);
  return { kind: 'decoded', message: decode(o as Record<string, unknown>) };
}
