/**
 * The five event kinds, described once. The event types, validation, the Kafka wire lines
 * (codec v2), the table columns the writer inserts and the readers' answers are derived from
 * this list; a migration test checks it against the tables ClickHouse actually has.
 */

/** How a field is carried in a v2 line (as ClickHouse's TabSeparated reads it: tsv.ts) and read back. */
export type WireField = 'string' | 'level' | 'int' | 'float' | 'floats' | 'time';

/** A table column: its ClickHouse type and compression, as the migrations declare them. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  /** The column's CODEC(...), absent for the default (LZ4). */
  readonly compression?: string;
}

/** A field of an event: a property of the event object and a column of its kind's table. */
export interface FieldSpec extends ColumnSpec {
  readonly wire: WireField;
  /**
   * What an event without it gets. 'empty': "" (strings); 'request-worker': the request's worker
   * header, else ""; 'default-level': DEFAULT_LOG_LEVEL. Absent: required (or common: iter, timestamp).
   */
  readonly absent?: 'empty' | 'request-worker' | 'default-level';
}

/** Who an event belongs to: a task, or (API 2.22, `model_event`) a model. */
export type Owner = 'task' | 'model';

/**
 * Model events are stored under their model's id behind this prefix, in the `task` column (and
 * the Kafka key): ids never hold control characters (isValidTaskId), so a model's events can't
 * mix with those of a task of the same id, and every reader and delete works for both alike.
 */
export const MODEL_KEY_PREFIX = '\u0001model:';

/** The `task` column value of an owner's events. */
export function ownerKey(owner: Owner, id: string): string {
  return owner === 'model' ? `${MODEL_KEY_PREFIX}${id}` : id;
}

/** The owner and id a `task` column value stands for. */
export function ownerOfKey(key: string): { owner: Owner; id: string } {
  return key.startsWith(MODEL_KEY_PREFIX) ? { owner: 'model', id: key.slice(MODEL_KEY_PREFIX.length) } : { owner: 'task', id: key };
}

export interface KindSpec {
  /** The wire `type` of the event. */
  readonly type: string;
  /** The ClickHouse table it is stored in. */
  readonly table: string;
  /** The seed's definition it is validated against. */
  readonly definition: string;
  readonly owners: readonly Owner[];
  /** The event's own fields, in the order of its v2 line (timestamp and iter included). */
  readonly fields: readonly FieldSpec[];
  /** Columns the writer appends to each line, in this order. */
  readonly writerColumns: readonly ColumnSpec[];
  /** Every column, in the table's order (tenant and task first). */
  readonly tableOrder: readonly string[];
  /** The table's sort key: the event's identity (ReplacingMergeTree). */
  readonly orderBy: readonly string[];
  /** Properties the kind's schema requires beyond the seed's: every read of the kind needs them. */
  readonly required: readonly string[];
  /** Fields the read endpoints answer under another name (the reference's stored documents). */
  readonly answerNames?: Readonly<Record<string, string>>;
}

const DELTA = 'CODEC(Delta, ZSTD(1))';
const ZSTD = 'CODEC(ZSTD(1))';

/** The columns before a line's fields: a message's (tenant, task), which its header carries. */
export const HEADER_COLUMNS = [
  { name: 'tenant', type: 'LowCardinality(String)' },
  { name: 'task', type: 'String' },
] as const satisfies readonly ColumnSpec[];

const timestamp = { name: 'timestamp', type: "DateTime64(3, 'UTC')", compression: DELTA, wire: 'time' } as const satisfies FieldSpec;
const iter = { name: 'iter', type: 'Int64', compression: DELTA, wire: 'int' } as const satisfies FieldSpec;
const metric = { name: 'metric', type: 'LowCardinality(String)', wire: 'string', absent: 'empty' } as const satisfies FieldSpec;
const variant = { name: 'variant', type: 'LowCardinality(String)', wire: 'string', absent: 'empty' } as const satisfies FieldSpec;
const receivedAt = { name: 'received_at', type: "DateTime64(3, 'UTC')", compression: DELTA } as const satisfies ColumnSpec;
const version = { name: 'version', type: 'UInt64', compression: DELTA } as const satisfies ColumnSpec;
const seq = { name: 'seq', type: 'UInt64', compression: DELTA } as const satisfies ColumnSpec;

const METRIC_TABLE_HEAD = ['tenant', 'task', 'metric', 'variant', 'iter'] as const;

export const EVENT_KINDS = [
  {
    type: 'training_stats_scalar',
    table: 'scalars',
    definition: 'metrics_scalar_event',
    owners: ['task', 'model'],
    fields: [metric, variant, iter, { name: 'value', type: 'Float64', compression: ZSTD, wire: 'float' }, timestamp],
    writerColumns: [receivedAt, version],
    tableOrder: [...METRIC_TABLE_HEAD, 'value', 'timestamp', 'received_at', 'version'],
    orderBy: METRIC_TABLE_HEAD,
    required: ['value'],
  },
  {
    type: 'training_stats_vector',
    table: 'vectors',
    definition: 'metrics_vector_event',
    owners: ['task', 'model'],
    fields: [metric, variant, iter, { name: 'values', type: 'Array(Float64)', compression: ZSTD, wire: 'floats' }, timestamp],
    writerColumns: [receivedAt, version],
    tableOrder: [...METRIC_TABLE_HEAD, 'values', 'timestamp', 'received_at', 'version'],
    orderBy: METRIC_TABLE_HEAD,
    required: ['values'],
    answerNames: { values: 'value' },
  },
  {
    type: 'training_debug_image',
    table: 'images',
    definition: 'metrics_image_event',
    owners: ['task', 'model'],
    fields: [
      metric,
      variant,
      iter,
      { name: 'key', type: 'String', compression: ZSTD, wire: 'string', absent: 'empty' },
      { name: 'url', type: 'String', compression: ZSTD, wire: 'string', absent: 'empty' },
      timestamp,
    ],
    writerColumns: [receivedAt, version],
    tableOrder: [...METRIC_TABLE_HEAD, 'key', 'url', 'timestamp', 'received_at', 'version'],
    orderBy: [...METRIC_TABLE_HEAD, 'key'],
    required: [],
  },
  {
    type: 'plot',
    table: 'plots',
    definition: 'metrics_plot_event',
    owners: ['task', 'model'],
    fields: [metric, variant, iter, { name: 'plot_str', type: 'String', compression: 'CODEC(ZSTD(3))', wire: 'string', absent: 'empty' }, timestamp],
    writerColumns: [receivedAt, version],
    tableOrder: [...METRIC_TABLE_HEAD, 'plot_str', 'timestamp', 'received_at', 'version'],
    orderBy: METRIC_TABLE_HEAD,
    required: [],
  },
  {
    type: 'log',
    table: 'logs',
    definition: 'task_log_event',
    // The reference refuses model log events.
    owners: ['task'],
    fields: [
      timestamp,
      iter,
      { name: 'level', type: 'LowCardinality(String)', wire: 'level', absent: 'default-level' },
      { name: 'worker', type: 'LowCardinality(String)', wire: 'string', absent: 'request-worker' },
      { name: 'msg', type: 'String', compression: ZSTD, wire: 'string', absent: 'empty' },
    ],
    // seq: log lines are never merged with one another (see the writer's logSeqBase).
    writerColumns: [receivedAt, version, seq],
    tableOrder: ['tenant', 'task', 'timestamp', 'seq', 'iter', 'level', 'worker', 'msg', 'received_at', 'version'],
    orderBy: ['tenant', 'task', 'timestamp', 'seq'],
    required: [],
  },
] as const satisfies readonly KindSpec[];

export type EventKind = (typeof EVENT_KINDS)[number];
export type EventType = EventKind['type'];
/** The tables events are stored in. */
export type EventTable = EventKind['table'];

/** The wire `type`s, in the descriptor's order. */
export const EVENT_TYPES = EVENT_KINDS.map((k) => k.type) as readonly EventType[] as readonly [EventType, ...EventType[]];
export const EVENT_TABLES = EVENT_KINDS.map((k) => k.table) as readonly EventTable[];

const BY_TYPE: ReadonlyMap<string, EventKind> = new Map(EVENT_KINDS.map((k) => [k.type, k]));
const BY_TABLE: ReadonlyMap<string, EventKind> = new Map(EVENT_KINDS.map((k) => [k.table, k]));

export function kindOfType(type: EventType): EventKind {
  return BY_TYPE.get(type) as EventKind;
}

export function kindOfTable(table: EventTable): EventKind {
  return BY_TABLE.get(table) as EventKind;
}

/** Every column of a kind's table, with its type and compression, in the table's order. */
export function tableColumns(kind: KindSpec): ColumnSpec[] {
  const all = new Map<string, ColumnSpec>([...HEADER_COLUMNS, ...kind.fields, ...kind.writerColumns].map((c) => [c.name, c]));
  return kind.tableOrder.map((name) => all.get(name) ?? bad(`${kind.table}: column ${name} is not described`));
}

/** The order the writer inserts a kind's rows in: the header's columns, the line's fields, then its own. */
export function insertColumns(kind: KindSpec): string[] {
  return [...HEADER_COLUMNS.map((c) => c.name), ...kind.fields.map((f) => f.name), ...kind.writerColumns.map((c) => c.name)];
}

function bad(message: string): never {
  throw new Error(`event kinds: ${message}`);
}

/** What a field's value is in an event object. */
interface WireValue {
  string: string;
  level: LogLevelName;
  int: number;
  float: number;
  floats: number[];
  time: number;
}

/** The seed's `log_level_enum` (a test keeps this list equal to the seed). */
export const LOG_LEVELS = ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'] as const;
type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * An event of one kind as validateEvent returns it: tenant, task, type and the kind's fields.
 * `timestamp` is epoch ms (the sender's, or the server's receive time when absent; fractional if
 * sent so); `iter` 0 when absent, an integer in [-2^63, 2^63) (inexact above 2^53); strings ""
 * when absent; floats may be NaN or ±Infinity; a vector's `values` is the array as sent.
 */
export type EventOf<K extends KindSpec> = { tenant: string; task: string; type: K['type'] } & {
  -readonly [F in K['fields'][number] as F['name']]: WireValue[F['wire']];
};

type EventByType = { [K in EventKind as K['type']]: EventOf<K> };
export type Event = EventByType[EventType];
