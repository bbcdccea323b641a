import { objectEndpoint, type RequestContext } from '@trackstream/api';
import { EVENT_KINDS, EVENT_TABLES, kindOfTable, type ColumnSpec, type EventTable, type FieldSpec } from '@trackstream/event-schema';
import type { RouteDeps } from '../deps';
import { eventAnswer } from '../events';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  order: 'asc' | 'desc';
  scroll_id?: string | null;
  batch_size: number;
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
 * The total order of a task's events across kinds: (timestamp, kind, identity within the kind).
 * With neutral values for the columns a kind lacks, the tuple is unique per stored event.
 */
const SORT: readonly Column[] = ['ts', 'kind', ...new Set(EVENT_KINDS.flatMap((k) => k.orderBy as readonly string[]).filter((c) => c !== 'tenant' && c !== 'task' && c !== 'timestamp'))];
type State = Array<string | number>;

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

const orderBy = (desc: boolean): string => SORT.map((c) => `${c} ${desc ? 'DESC' : 'ASC'}`).join(', ');

/**
 * One table's part of the union: its first `limit` events after the cursor (the resume condition
 * sits in its WHERE, applied after FINAL chose each event's last version), so the union holds at
 * most five pages, whatever the task's size.
 */
function select(kind: Kind, desc: boolean, resume: boolean): string {
  const e = EXPRESSIONS[kind];
  const cond = resume ? `AND (${SORT.map((c) => e[c]).join(', ')}) ${desc ? '<' : '>'} (${SORT.map((c) => `{${c}:${TYPES[c]}}`).join(', ')})` : '';
  return `SELECT ${Object.entries(e)
    .map(([c, x]) => `${x} AS ${c}`)
    .join(', ')} FROM ${kind} FINAL WHERE tenant = {tenant:String} AND task = {task:String} ${cond}
    ORDER BY ${orderBy(desc)} LIMIT {limit:UInt32}`;
}

/** A union row: `ts`, `kind` (the table's index in KINDS), and every kind's columns. */
type Row = { ts: string; kind: number } & Record<string, unknown>;

function toEvent(task: string, r: Row) {
  return eventAnswer(kindOfTable(KINDS[r.kind] as Kind).type, task, r);
}

/** events.get_task_events: every event of a task, of all kinds, by timestamp, paged by keyset. */
export function getTaskEventsEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.get_task_events',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_events', '2.1', { order: props.order, scroll_id: props.scrollId, batch_size: props.batchSize }),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { order: body.order } };
          const after = await deps.cursors.decode<State | null>(body.scroll_id, scope);
          const [rows, total] = await Promise.all([readPage(deps, ctx, task, body.order === 'desc', body.batch_size, after), countAll(deps, ctx, task)]);
          const last = rows.at(-1);
          const next = last ? (SORT.map((c) => last[c]) as State) : after;
          const events = rows.map((r) => toEvent(task, r));
          return { events, returned: events.length, total, scroll_id: await deps.cursors.encode(scope, next ?? null) };
        },
      },
    ],
  });
}

async function readPage(deps: RouteDeps, ctx: RequestContext, task: string, desc: boolean, limit: number, after: State | null | undefined): Promise<Row[]> {
  const parts = KINDS.map((k) => `(${select(k, desc, Boolean(after))})`);
  const params = after ? Object.fromEntries(SORT.map((c, i) => [c, after[i]])) : {};
  return deps.db.rows<Row>(
    ctx,
    `SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY ${orderBy(desc)} LIMIT {limit:UInt32}`,
    { task, limit, ...params },
  );
}

async function countAll(deps: RouteDeps, ctx: RequestContext, task: string): Promise<number> {
  const counts = KINDS.map((k) => `SELECT count() AS n FROM ${k} FINAL WHERE tenant = {tenant:String} AND task = {task:String}`);
  const [row] = await deps.db.rows<{ n: string }>(ctx, `SELECT sum(n) AS n FROM (${counts.join(' UNION ALL ')})`, { task });
  return Number(row?.n ?? 0);
}
