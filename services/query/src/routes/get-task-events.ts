import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { imageEvent, logEvent, plotEvent, scalarEvent, vectorEvent } from '../events';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  order: 'asc' | 'desc';
  scroll_id?: string | null;
  batch_size: number;
}

const KINDS = ['scalars', 'vectors', 'images', 'plots', 'logs'] as const;
type Kind = (typeof KINDS)[number];

/** The union's columns and their types; each table selects its own and neutral values for the rest. */
const TYPES = {
  ts: 'Int64',
  kind: 'UInt8',
  metric: 'String',
  variant: 'String',
  iter: 'Int64',
  key: 'String',
  seq: 'UInt64',
  value: 'Float64',
  values: 'Array(Float64)',
  url: 'String',
  plot_str: 'String',
  level: 'String',
  worker: 'String',
  msg: 'String',
} as const;
type Column = keyof typeof TYPES;
const OWN: Record<Kind, readonly Column[]> = {
  scalars: ['metric', 'variant', 'iter', 'value'],
  vectors: ['metric', 'variant', 'iter', 'values'],
  images: ['metric', 'variant', 'iter', 'key', 'url'],
  plots: ['metric', 'variant', 'iter', 'plot_str'],
  logs: ['iter', 'seq', 'level', 'worker', 'msg'],
};

/**
 * The total order of a task's events across kinds: (timestamp, kind, identity within the kind).
 * With neutral values for the columns a kind lacks, the tuple is unique per stored event.
 */
const SORT = ['ts', 'kind', 'metric', 'variant', 'iter', 'key', 'seq'] as const satisfies readonly Column[];
type State = [ts: string, kind: number, metric: string, variant: string, iter: string, key: string, seq: string];

function expressions(kind: Kind): Record<Column, string> {
  const neutral = (t: string): string => (t === 'String' ? "''" : t.startsWith('Array') ? '[]' : '0');
  const out = {} as Record<Column, string>;
  for (const [c, t] of Object.entries(TYPES) as Array<[Column, string]>) {
    out[c] = c === 'ts' ? 'toUnixTimestamp64Milli(timestamp)' : c === 'kind' ? `toUInt8(${KINDS.indexOf(kind)})` : `CAST(${OWN[kind].includes(c) ? c : neutral(t)} AS ${t})`;
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

interface Row {
  ts: string;
  kind: number;
  metric: string;
  variant: string;
  iter: string;
  key: string;
  seq: string;
  value: number | string;
  values: Array<number | string>;
  url: string;
  plot_str: string;
  level: string;
  worker: string;
  msg: string;
}

function toEvent(task: string, r: Row) {
  switch (KINDS[r.kind]) {
    case 'scalars':
      return scalarEvent(task, r);
    case 'vectors':
      return vectorEvent(task, r);
    case 'images':
      return imageEvent(task, r);
    case 'plots':
      return plotEvent(task, r);
    default:
      return logEvent(task, r);
  }
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
