import { isUtf8 } from 'node:buffer';
import { decodeDeleteTask } from './delete-marker';
import { DecodeError, shape, type Message, type TopicMessage } from './message';
import { V1, decodeV1 } from './v1';
import { V2, decodeV2 } from './v2';

/**
 * The Kafka message codec, shared by the gateway (encode) and the writer (decode): one module
 * per wire version (v1.ts decode only, v2.ts), the delete marker (delete-marker.ts), and here
 * the dispatch by the version a message starts with. Every message begins with a JSON object
 * whose `v` names its version: the whole message (one line) or its header line (then the body).
 *
 * A new wire version gets its own module and a row in WIRE_VERSIONS; older decoders stay, so
 * messages written before an upgrade stay readable.
 */

/** The version encodeMessage writes. */
export const CODEC_VERSION = V2;

/** The first line of a message, parsed, and where it ends (-1: the message is that one line). */
interface FirstLine {
  buf: Buffer;
  object: Record<string, unknown>;
  headerEnd: number;
}

interface WireVersion {
  /** Whether its messages have a body after the JSON line. */
  readonly body: boolean;
  decode(first: FirstLine): TopicMessage;
}

const WIRE_VERSIONS: ReadonlyMap<number, WireVersion> = new Map<number, WireVersion>([
  [
    V1,
    {
      body: false,
      decode: ({ object }) => (object['op'] === undefined ? { kind: 'events', ...decodeV1(object) } : { kind: 'delete-task', ...decodeDeleteTask(object) }),
    },
  ],
  [V2, { body: true, decode: ({ buf, headerEnd, object }) => ({ kind: 'events', ...decodeV2(buf, headerEnd, object) }) }],
]);

const NEWLINE = 10;

function firstLine(input: Buffer | Uint8Array | null | undefined): FirstLine {
  if (!input || input.length === 0) throw new DecodeError('empty');
  if (!isUtf8(input)) throw new DecodeError('invalid-json', 'not UTF-8');
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const nl = buf.indexOf(NEWLINE);
  let o: unknown;
  try {
    o = JSON.parse(buf.toString('utf8', 0, nl < 0 ? buf.length : nl));
  } catch {
    throw new DecodeError('invalid-json');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) shape('not an object');
  return { buf, object: o as Record<string, unknown>, headerEnd: nl };
}

function versionOf(first: FirstLine): WireVersion {
  const v = first.object['v'];
  if (typeof v !== 'number') shape('no version');
  const version = WIRE_VERSIONS.get(v);
  if (!version || version.body !== first.headerEnd >= 0) throw new DecodeError('unknown-version', `v=${v}`);
  return version;
}

/**
 * A message's version and header, for readers with a fast path for v2 (the writer): v2 comes
 * back with its header parsed and the rest untouched; every other version decoded.
 */
export type ReadMessage = { kind: 'v2'; buf: Buffer; headerEnd: number; header: Record<string, unknown> } | { kind: 'decoded'; message: TopicMessage };

export function readTopicMessage(input: Buffer | Uint8Array | null | undefined): ReadMessage {
  const first = firstLine(input);
  const version = versionOf(first);
  if (first.object['v'] === V2) return { kind: 'v2', buf: first.buf, headerEnd: first.headerEnd, header: first.object };
  return { kind: 'decoded', message: version.decode(first) };
}

/**
 * Decodes a message of any supported wire version, events or delete marker. Throws
 * DecodeError: 'empty' (no value, e.g. a tombstone), 'invalid-json' (not UTF-8 JSON),
 * 'unknown-version' (a `v` this build does not know), 'invalid-shape' (anything else malformed).
 */
export function decodeTopicMessage(input: Buffer | Uint8Array | null | undefined): TopicMessage {
  const first = firstLine(input);
  return versionOf(first).decode(first);
}

/** Like decodeTopicMessage, for a message that must hold events. */
export function decodeMessage(input: Buffer | Uint8Array | null | undefined): Message {
  const m = decodeTopicMessage(input);
  if (m.kind !== 'events') shape('not an events message');
  const { kind: _kind, ...events } = m;
  return events;
}

export { DecodeError, messageKey } from './message';
export type { DecodeErrorReason, DeleteTaskMessage, Message, TopicMessage } from './message';
export { encodeDeleteTask } from './delete-marker';
export { DEFAULT_MAX_MESSAGE_BYTES, WIRE_COLUMNS, WIRE_TABLES, encodeMessage, fieldsSizeBound, layoutV2, packEvents } from './v2';
export type { V2Layout, V2Section, WireTable } from './v2';
