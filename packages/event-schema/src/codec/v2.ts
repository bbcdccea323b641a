import { isLogLevel } from '../events';
import { EVENT_KINDS, type Event, type EventTable, type FieldSpec, type WireField } from '../kinds';
import { DateTimeText, fromCHDateTime64, fromTsvFloat, fromTsvFloatArray, fromTsvString, tsvFloat, tsvFloatArray, tsvInt, tsvString } from '../tsv';
import { compile, fieldOf } from '../compile';
import { checkedFinite, checkedText, encodeBug, jsonFinite, jsonString, shape, type Message } from './message';

/**
 * Wire format v2, what encodeMessage and packEvents write. One message carries the events of
 * ONE (tenant, task): a JSON header line, then the events as TabSeparated lines of their kind's
 * fields (kinds.ts, WIRE_COLUMNS), grouped by table in the order the header's `rows` lists them:
 *
 *   {"v":2,"tenant":"t","task":"x","receivedAt":1700000000000,"rows":{"scalars":2,"logs":1}}\n
 *   loss\ttrain\t7\t0.25\t2024-01-01 00:00:00.007\n
 *   loss\tval\t7\t0.5\t2024-01-01 00:00:00.007\n
 *   2024-01-01 00:00:01.000\t7\tinfo\tworker-1\tepoch 1 done\n
 *
 * Fields are as ClickHouse reads them (tsv.ts): the writer prefixes tenant and task and appends
 * its own columns, and inserts the lines without parsing them. An event's position, on which its
 * version depends, is its line number after the header. Strings are UTF-8 (a lone surrogate
 * becomes U+FFFD, as it would in the table).
 */
export const V2 = 2;

/** The tables a v2 message's lines are rows of. */
export type WireTable = EventTable;
export const WIRE_TABLES: readonly WireTable[] = EVENT_KINDS.map((k) => k.table);

/** Fields of a v2 line per table: the kind's fields, in its line order. */
export const WIRE_COLUMNS = Object.fromEntries(EVENT_KINDS.map((k) => [k.table, k.fields.map((f): string => f.name)])) as unknown as Readonly<Record<WireTable, readonly string[]>>;

/** Default bound of one encoded message (packEvents). Brokers allow 16 MiB for the oversize single event. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------- encode

function numberOf(n: unknown): number {
  if (typeof n !== 'number') encodeBug('value is not a number');
  return n;
}

/** How each kind's line is rendered: its table and a function compiled from its fields. */
interface LinePlan {
  table: WireTable;
  render: (e: Event, enc: LineEncoder) => string;
}

function floatsText(v: unknown, what: string): string {
  if (!Array.isArray(v)) encodeBug(`${what} must be an array`);
  return tsvFloatArray(v.map(numberOf));
}

/** Every kind's timestamp shares one memo slot; each string field of each kind has its own. */
const TIME_SLOT = 0;
function linePlans(): [plans: Map<string, LinePlan>, slots: number] {
  let next = TIME_SLOT + 1;
  const plans = new Map<string, LinePlan>();
  const scope = { tsvInt, tsvFloat, checkedFinite, numberOf, floatsText };
  for (const k of EVENT_KINDS) {
    const parts = (k.fields as readonly FieldSpec[]).map((f) => {
      const v = fieldOf('e', f.name);
      const what = JSON.stringify(f.name);
      switch (f.wire) {
        case 'string':
        case 'level':
          return `enc.text(${next++}, ${v}, ${what})`;
        case 'time':
          return `enc.time(${TIME_SLOT}, ${v}, ${what})`;
        case 'int':
          return `tsvInt(checkedFinite(${v}, ${what}))`;
        case 'float':
          return `tsvFloat(numberOf(${v}))`;
        case 'floats':
          return `floatsText(${v}, ${what})`;
      }
    });
    const render = compile<LinePlan['render']>(scope, ['e', 'enc'], `return ${parts.join(" + '\\t' + ")} + '\\n';`);
    plans.set(k.type, { table: k.table, render });
  }
  return [plans, next];
}

function planOf(e: Event): LinePlan {
  return PLANS.get(e.type) ?? encodeBug(`unknown event type ${JSON.stringify((e as { type?: unknown }).type)}`);
}

/**
 * Renders events as v2 lines. One per message being built: it remembers each string field's and
 * the timestamp's last text, since consecutive events of an SDK batch mostly repeat their metric
 * and variant and share a timestamp.
 */
class LineEncoder {
  private readonly times = new DateTimeText();
  private readonly lastValue = new Array<unknown>(SLOTS).fill(undefined);
  private readonly lastText = new Array<string>(SLOTS).fill('');

  line(e: Event, plan: LinePlan): string {
    return plan.render(e, this);
  }

  text(slot: number, v: unknown, what: string): string {
    if (this.lastValue[slot] === v && v !== undefined) return this.lastText[slot] as string;
    const text = tsvString(checkedText(v as string, what));
    this.lastValue[slot] = v;
    this.lastText[slot] = text;
    return text;
  }

  time(slot: number, v: unknown, what: string): string {
    if (this.lastValue[slot] === v && v !== undefined) return this.lastText[slot] as string;
    const text = this.times.format(checkedFinite(v as number, what));
    this.lastValue[slot] = v;
    this.lastText[slot] = text;
    return text;
  }
}

const [PLANS, SLOTS] = linePlans();

/**
 * An upper bound of the bytes an event's own fields take, in its v2 line or escaped in JSON: a
 * UTF-16 unit at most 6 (a JSON escape; 3 in UTF-8), a number at most 25 with its separator.
 * Compiled per kind, so that sizing every event costs a few property reads.
 */
export const fieldsSizeBound: (e: Event) => number = (() => {
  const perKind = EVENT_KINDS.map((k) => {
    const terms = (k.fields as readonly FieldSpec[]).map((f) => {
      const v = fieldOf('e', f.name);
      return f.wire === 'string' || f.wire === 'level' ? `6 * ${v}.length` : f.wire === 'floats' ? `25 * ${v}.length` : '25';
    });
    return `case ${JSON.stringify(k.type)}: return ${terms.join(' + ')};`;
  });
  return compile<(e: Event) => number>({}, ['e'], `switch (e.type) { ${perKind.join(' ')} default: return 0; }`);
})();

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
  return JSON.stringify({ v: V2, tenant: checkedText(tenant, 'tenant'), task: checkedText(task, 'task'), receivedAt: checkedFinite(receivedAt, 'receivedAt'), rows });
}

function checkedPlan(e: Event, tenant: string, task: string): LinePlan {
  if (e.tenant !== tenant || e.task !== task) encodeBug('an event of another (tenant, task) in the message');
  return planOf(e);
}

/** Encodes a message in the current wire version. Throws TypeError for a malformed message (a bug). */
export function encodeMessage(msg: Message): Buffer {
  const b = new V2Builder();
  const lines = new LineEncoder();
  for (const e of msg.events) {
    const plan = checkedPlan(e, msg.tenant, msg.task);
    b.add(plan.table, lines.line(e, plan), 0);
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
  const widest = Object.fromEntries(WIRE_TABLES.map((t) => [t, 1e6]));
  const headerBytes = Buffer.byteLength(headerV2(tenant, task, receivedAt, widest), 'utf8') + 1;
  const lines = new LineEncoder();
  const out: Buffer[] = [];
  let b = new V2Builder();
  for (const e of events) {
    const plan = checkedPlan(e, tenant, task);
    const line = lines.line(e, plan);
    const bytes = Buffer.byteLength(line, 'utf8');
    if (b.count > 0 && headerBytes + b.bytes + bytes > maxBytes) {
      out.push(b.build(tenant, task, receivedAt));
      b = new V2Builder();
    }
    b.add(plan.table, line, bytes);
  }
  out.push(b.build(tenant, task, receivedAt));
  return out;
}

// ---------------------------------------------------------------------------------- decode

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
  const tenant = jsonString(header['tenant'], 'tenant');
  const task = jsonString(header['task'], 'task');
  const receivedAt = jsonFinite(header['receivedAt'], 'receivedAt');
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

const DECODE: Readonly<Record<WireField, (s: string, at: string) => unknown>> = {
  string: fromTsvString,
  level(s) {
    const level = fromTsvString(s);
    if (!isLogLevel(level)) shape('level: not a log level');
    return level;
  },
  int(s, at) {
    const n = Number(s);
    if (s.length === 0 || !Number.isInteger(n)) shape(`${at}: not an integer`);
    return n;
  },
  float(s, at) {
    const v = fromTsvFloat(s);
    if (Number.isNaN(v) && s !== 'nan') shape(`${at}: not a number`);
    return v;
  },
  floats(s, at) {
    const values = fromTsvFloatArray(s);
    if (values.some((v) => Number.isNaN(v)) && !s.includes('nan')) shape(`${at}: not numbers`);
    return values;
  },
  time(s, at) {
    const ms = fromCHDateTime64(s);
    if (Number.isNaN(ms)) shape(`${at}: not a DateTime64(3)`);
    return ms;
  },
};

type LineDecoder = (text: readonly string[], tenant: string, task: string) => Event;

/** Per table, a line's fields (split at tabs) as its event, compiled from the kind's fields. */
const LINE_DECODERS = new Map<WireTable, LineDecoder>(
  EVENT_KINDS.map((k) => {
    const fields = (k.fields as readonly FieldSpec[]).map((f, i) => {
      fieldOf('e', f.name); // checks the name is an identifier
      return `${f.name}: DECODE.${f.wire}(text[${i}], ${JSON.stringify(f.name)})`;
    });
    const body = `return { tenant, task, type: ${JSON.stringify(k.type)}, ${fields.join(', ')} };`;
    return [k.table, compile<LineDecoder>({ DECODE }, ['text', 'tenant', 'task'], body)];
  }),
);

/** Every event of a v2 message, as the gateway accepted it. */
export function decodeV2(buf: Buffer, headerEnd: number, header: Record<string, unknown>): Message {
  const layout = layoutV2(buf, headerEnd, header);
  const { tenant, task } = layout;
  const events: Event[] = [];
  for (const { table, lines } of layout.sections) {
    const decode = LINE_DECODERS.get(table) as LineDecoder;
    for (let i = 0; i < lines.length; i += 2) events.push(decode(buf.toString('utf8', lines[i], lines[i + 1]).split('\t'), tenant, task));
  }
  return { tenant, task, receivedAt: layout.receivedAt, events };
}
