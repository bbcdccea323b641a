/**
 * Fields as ClickHouse's TabSeparated format reads them, and back: the wire format of Kafka
 * messages (codec v2) carries events as these lines, so the writer inserts them nearly as they are.
 */

const SPECIAL = /[\\\t\n\r\0\b\f]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' };

/** A String field: backslash escapes for the characters TSV gives a meaning to. */
export function tsvString(s: string): string {
  return SPECIAL.test(s) ? s.replace(/[\\\t\n\r\0\b\f]/g, (c) => ESCAPES[c] ?? c) : s;
}

const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r', '0': '\0', b: '\b', f: '\f' };

/** The string a tsvString field stands for. */
export function fromTsvString(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/gs, (_m, c: string) => UNESCAPES[c] ?? c) : s;
}

/** A Float64 field: shortest round-trip text; NaN, infinities and -0 as ClickHouse reads them. */
export function tsvFloat(v: number): string {
  if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : String(v);
  if (Number.isNaN(v)) return 'nan';
  return v > 0 ? 'inf' : '-inf';
}

/** The number a tsvFloat field (or ClickHouse's text of a Float64) stands for; NaN for text that is not one. */
export function fromTsvFloat(s: string): number {
  switch (s) {
    case 'nan':
    case '-nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    default:
      return s.length > 0 ? Number(s) : Number.NaN;
  }
}

export function tsvFloatArray(values: readonly number[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + tsvFloat(values[i] as number);
  return `${out}]`;
}

export function fromTsvFloatArray(s: string): number[] {
  if (!s.startsWith('[') || !s.endsWith(']')) return [Number.NaN];
  const inner = s.slice(1, -1);
  return inner.length === 0 ? [] : inner.split(',').map(fromTsvFloat);
}

/** An integer field (Int64/UInt64), exact for every safe integer; larger ones pass as text. */
export function tsvInt(v: number | bigint | string): string {
  return typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString()) : String(v);
}

/** One TSV line from fields already rendered. */
export function tsvLine(fields: readonly string[]): string {
  return `${fields.join('\t')}\n`;
}

/**
 * DateTime64(3) input as "YYYY-MM-DD HH:MM:SS.mmm" (UTC): a bare number would be read as
 * seconds, and "seconds.millis" text is ambiguous to ClickHouse's parser for small values.
 */
export function toCHDateTime64(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * toCHDateTime64 for many timestamps in a row: events of a batch share their minute, so
 * "YYYY-MM-DD HH:MM:" is formatted once per minute. One per encoder, never shared.
 */
export class DateTimeText {
  private minute = Number.NaN;
  private prefix = '';

  format(ms: number): string {
    const whole = Math.floor(ms);
    const minute = whole - (((whole % 60_000) + 60_000) % 60_000);
    if (minute !== this.minute) {
      const iso = new Date(minute).toISOString();
      this.minute = minute;
      this.prefix = `${iso.slice(0, 10)} ${iso.slice(11, 17)}`;
    }
    const inMinute = whole - minute;
    const sec = Math.floor(inMinute / 1000);
    const milli = inMinute - sec * 1000;
    return `${this.prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}`;
  }
}

const DATETIME64 = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/;

/** Epoch ms of a toCHDateTime64 field; NaN for text of another shape. */
export function fromCHDateTime64(s: string): number {
  const m = DATETIME64.exec(s);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, sec, ms] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, sec, ms);
}
