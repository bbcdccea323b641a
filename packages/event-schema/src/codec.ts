import { isUtf8 } from 'node:buffer';
import { isLogLevel, type Event } from './events';

/**
 * The Kafka message codec, shared by the gateway (encode) and the writer (decode).
 *
 * One message carries the events of ONE (tenant, task). Wire format v1 (UTF-8 JSON):
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
export const CODEC_VERSION = 1;
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

/** Encodes a message in the current wire version. Throws TypeError for a malformed message (a bug). */
export function encodeMessage(msg: Message): Buffer {
  return Buffer.from(envelopeV1(msg.tenant, msg.task, msg.receivedAt, tuplesV1(msg.tenant, msg.task, msg.events)), 'utf8');
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
  const tuples = tuplesV1(tenant, task, events);
  const whole = Buffer.from(envelopeV1(tenant, task, receivedAt, tuples), 'utf8');
  if (whole.length <= maxBytes) return [whole];

  // Too big: measure each event's JSON and cut greedily. The envelope is `<head>[e1,e2,...]}`.
  const empty = envelopeV1(tenant, task, receivedAt, []);
  const head = empty.slice(0, -2); // without the closing ']}'
  const fixed = Buffer.byteLength(empty, 'utf8');
  const parts = tuples.map((t) => JSON.stringify(t));
  const out: Buffer[] = [];
  const flush = (from: number, to: number): void => {
    out.push(Buffer.from(`${head}${parts.slice(from, to).join(',')}]}`, 'utf8'));
  };
  let from = 0;
  let size = fixed;
  for (let i = 0; i < parts.length; i++) {
    const bytes = Buffer.byteLength(parts[i] as string, 'utf8');
    const add = i > from ? bytes + 1 : bytes; // + the comma
    if (i > from && size + add > maxBytes) {
      flush(from, i);
      from = i;
      size = fixed + bytes;
    } else {
      size += add;
    }
  }
  flush(from, parts.length);
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

export function encodeDeleteTask(m: DeleteTaskMessage): Buffer {
  return Buffer.from(
    JSON.stringify({ v: CODEC_VERSION, op: 'delete-task', tenant: m.tenant, task: m.task, receivedAt: m.receivedAt, requestId: m.requestId }),
    'utf8',
  );
}

/** Decoders by wire version; never remove one while messages of that version may be in Kafka. */
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
  if (!buf || buf.length === 0) throw new DecodeError('empty');
  if (!isUtf8(buf)) throw new DecodeError('invalid-json', 'not UTF-8');
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8'));
  } catch {
    throw new DecodeError('invalid-json');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) shape('not an object');
  const v = (o as Record<string, unknown>)['v'];
  if (typeof v !== 'number') shape('no version');
  const decode = Object.prototype.hasOwnProperty.call(DECODERS, v) ? DECODERS[v] : undefined;
  if (!decode) throw new DecodeError('unknown-version', `v=${v}`);
  return decode(o as Record<string, unknown>);
}
