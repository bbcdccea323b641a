import { objectEndpoint, type RequestContext } from '@trackstream/api';
import { EVENT_KINDS, EVENT_TABLES, kindOfTable, type ColumnSpec, type EventKind, type EventTable, type FieldSpec } from '@trackstream/event-schema';
import type { RouteDeps } from '../deps';
import { eventAnswer } from '../events';
import { metricFilter, metricsSchema, NO_METRIC_FILTER, type MetricFilter, type MetricVariants } from '../metric-filter';
import { checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  order: 'asc' | 'desc';
  scroll_id?: string | null;
  batch_size: number;
  /** 2.22 */
  event_type?: EventType;
  metrics?: MetricVariants[] | null;
}

const KINDS = EVENT_TABLES;
type Kind = EventTable;

/** A column's type in the union: LowCardinality is storage only. */
const unionType = (t: string): string => t.replace(/^LowCardinality\((.*)\)$/, '$1');

/** Each kind's own columns: its fields but the timestamp (selected as `ts`), and seq if it has one. */
const OWN = Object.fromEntries(
  EVENT_KINDS.map((k) => [k.table, [...(k.fields as readonly FieldSpec[]).filter((f) => f.wire !== 'time'), ...k.writerColumns.filter((c) => c.name === 'seq')]]),
) as Record<Kind, ColumnSpec[]>;

/** The union's columns and their types; each table selects its own and neutral values for the rest. */
const TYPES: Record<string, string> = { ts: 'Int64', kind: 'UInt8' };
for (const c of Object.values(OWN).flat()) {
  const t = unionType(c.type);
  if ((TYPES[c.name] ??= t) !== t) throw new Error(`get_task_events: column ${c.name} is ${TYPES[c.name]} and ${t}`);
}
type Column = string;

/**
 * The total orders of a task's events across kinds: 2.1 by timestamp, 2.22 by iteration (as the
 * reference server sorts them), each then by the rest of (timestamp, kind, identity within the
 * kind). With neutral values for the columns a kind lacks, the tuple is unique per stored event.
 */
const SORT: readonly Column[] = ['ts', 'kind', ...new Set(EVENT_KINDS.flatMap((k) => k.orderBy as readonly string[]).filter((c) => c !== 'tenant' && c !== 'task' && c !== 'timestamp'))];
const ITER_SORT: readonly Column[] = ['iter', ...SORT.filter((c) => c !== 'iter')];
type Sort = readonly Column[];
/** The sort tuple of the last event returned, in its sort's column order. */
type State = Array<string | number>;

/** `event_type` of 2.22: one kind, or every kind (`*`, the default). */
const EVENT_TYPES = Object.fromEntries(EVENT_KINDS.map((k) => [k.type, k.table])) as Record<EventKind['type'], Kind>;
type EventType = keyof typeof EVENT_TYPES | '*';

function expressions(kind: Kind): Record<Column, string> {
  const neutral = (t: string): string => (t === 'String' ? "''" : t.startsWith('Array') ? '[]' : '0');
  const own = new Set(OWN[kind].map((c) => c.name));
  const out: Record<Column, string> = {};
  for (const [c, t] of Object.entries(TYPES)) {
    out[c] = c === 'ts' ? 'toUnixTimestamp64Milli(timestamp)' : c === 'kind' ? `toUInt8(${KINDS.indexOf(kind)})` : `CAST(${own.has(c) ? c : neutral(t)} AS ${t})`;
  }
  return out;
}
const EXPRESSIONS = Object.fromEntries(KINDS.map((k) => [k, expressions(k)])) as Record<Kind, Record<Column, string>>;

const orderBy = (sort: Sort, desc: boolean): string => sort.map((c) => `${c} ${desc ? 'DESC' : 'ASC'}`).join(', ');

/** What one read selects: the kinds, the metric filter (logs never have a metric), the order. */
interface Selection {
  kinds: readonly Kind[];
  filter: MetricFilter;
  sort: Sort;
  desc: boolean;
}

/**
 * One table's part of the union: its first `limit` events after the cursor (the resume condition
 * sits in its WHERE, applied after FINAL chose each event's last version), so the union holds at
 * most five pages, whatever the task's size.
 */
function select(kind: Kind, sel: Selection, resume: boolean): string {
  const e = EXPRESSIONS[kind];
  const cond = resume ? `AND (${sel.sort.map((c) => e[c]).join(', ')}) ${sel.desc ? '<' : '>'} (${sel.sort.map((c) => `{${c}:${TYPES[c]}}`).join(', ')})` : '';
  const filter = kind === 'logs' ? '' : sel.filter.sql;
  return `SELECT ${Object.entries(e)
    .map(([c, x]) => `${x} AS ${c}`)
    .join(', ')} FROM ${kind} FINAL WHERE tenant = {tenant:String} AND task = {task:String} ${filter} ${cond}
    ORDER BY ${orderBy(sel.sort, sel.desc)} LIMIT {limit:UInt32}`;
}

/** The kinds a 2.22 request reads: `event_type`'s, less logs when a metric filter leaves them out. */
function kindsOf(eventType: EventType, filter: MetricFilter): Kind[] {
  const kinds: readonly Kind[] = eventType === '*' ? KINDS : [EVENT_TYPES[eventType]];
  return kinds.filter((k) => k !== 'logs' || filter.logs);
}

/** A union row: `ts`, `kind` (the table's index in KINDS), and every kind's columns. */
type Row = { ts: string; kind: number } & Record<string, unknown>;

function toEvent(task: string, r: Row) {
  return eventAnswer(kindOfTable(KINDS[r.kind] as Kind).type, task, r);
}

/**
 * events.get_task_events: the events of a task, paged by keyset. 2.1: every kind, by timestamp.
 * 2.22: `event_type` (one kind, or `*`) and `metrics`, by iteration.
 */
export function getTaskEventsEndpoint(deps: RouteDeps) {
  const handle = async (ctx: RequestContext, body: Body, sel: Selection, params: Record<string, string>) => {
    const task = checkTask(body.task, readOwner(ctx, body));
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { order: body.order, ...params } };
    const after = await deps.cursors.decode<State | null>(body.scroll_id, scope);
    const [rows, total] = await Promise.all([readPage(deps, ctx, task, sel, body.batch_size, after), countAll(deps, ctx, task, sel)]);
    const last = rows.at(-1);
    const next = last ? sel.sort.map((c) => last[c]) : after;
    const events = rows.map((r) => toEvent(task, r));
    return { events, returned: events.length, total, scroll_id: await deps.cursors.encode(scope, next ?? null) };
  };
  return objectEndpoint<Body>({
    name: 'events.get_task_events',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_events', '2.1', { order: props.order, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body) => handle(ctx, body, { kinds: KINDS, filter: NO_METRIC_FILTER, sort: SORT, desc: body.order === 'desc' }, {}),
      },
      {
        version: '2.22',
        schema: requestSchema('get_task_events', '2.22', {
          order: props.order,
          scroll_id: props.scrollId,
          batch_size: props.batchSize,
          event_type: { enum: [...Object.keys(EVENT_TYPES), '*'], default: '*' },
          metrics: metricsSchema,
        }),
        handle(ctx, body) {
          const filter = metricFilter(body.metrics);
          const eventType = body.event_type ?? '*';
          const sel = { kinds: kindsOf(eventType, filter), filter, sort: ITER_SORT, desc: body.order === 'desc' };
          // A cursor holds an iteration-first sort key, and pages one selection only.
          return handle(ctx, body, sel, { sort: 'iter', event_type: eventType, metrics: filter.key });
        },
      },
    ],
  });
}

async function readPage(deps: RouteDeps, ctx: RequestContext, task: string, sel: Selection, limit: number, after: State | null | undefined): Promise<Row[]> {
  if (sel.kinds.length === 0) return [];
  const parts = sel.kinds.map((k) => `(${select(k, sel, Boolean(after))})`);
  const params = after ? Object.fromEntries(sel.sort.map((c, i) => [c, after[i]])) : {};
  return deps.db.rows<Row>(
    ctx,
    `SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY ${orderBy(sel.sort, sel.desc)} LIMIT {limit:UInt32}`,
    { task, limit, ...sel.filter.params, ...params },
  );
}

async function countAll(deps: RouteDeps, ctx: RequestContext, task: string, sel: Selection): Promise<number> {
  if (sel.kinds.length === 0) return 0;
  const filter = sel.filter;
  const counts = sel.kinds.map((k) => `SELECT count() AS n FROM ${k} FINAL WHERE tenant = {tenant:String} AND task = {task:String} ${k === 'logs' ? '' : filter.sql}`);
  const [row] = await deps.db.rows<{ n: string }>(ctx, `SELECT sum(n) AS n FROM (${counts.join(' UNION ALL ')})`, { task, ...filter.params });
  return Number(row?.n ?? 0);
}
