import { objectEndpoint, validation, type RequestContext } from '@trackstream/api';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '@trackstream/event-schema';
import type { RouteDeps } from '../deps';
import { LOG_COLUMNS, logEvent, type LogColumns } from '../events';
import { metricFilter, metricsSchema, type MetricVariants } from '../metric-filter';
import { MAX_PAGE, checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  order: 'asc' | 'desc';
  from?: 'head' | 'tail';
  scroll_id?: string | null;
  batch_size: number;
}

/** 2.9 and later: navigation by timestamp, no cursor. */
interface NavigateBody {
  task: string;
  batch_size: number;
  navigate_earlier: boolean;
  from_timestamp?: number | null;
  order?: 'asc' | 'desc';
  /** 2.30 */
  metrics?: MetricVariants[] | null;
}

/** Resume after this log row: its (timestamp, seq), the logs table's total order within a task. */
type State = [ts: string, seq: string];

/** The reference server's page size of 2.9 and later. */
const NAVIGATE_PAGE = 5000;
/**
 * A 2.9 page ends at a millisecond boundary; at most this many lines of its last millisecond
 * are added beyond `batch_size` to get there (the reference's bound too).
 */
export const BOUNDARY_LINES = MAX_PAGE;

/**
 * events.get_task_log: a task's log events by timestamp.
 *
 * 1.5 scans in `order`; 1.7 scans from the head (oldest first) or the tail (newest first) and
 * returns each page sorted by `order`, as the reference does. Pages continue exactly after the
 * last row scanned (keyset on (timestamp, seq)), so events arriving meanwhile are neither
 * repeated nor skipped.
 *
 * 2.9 navigates by timestamp without a cursor: `batch_size` lines (default 5000) before
 * `from_timestamp` (`navigate_earlier`, the default: newest first) or after it (oldest first),
 * from the end or the start of the log when it is not sent. A client pages on with the timestamp
 * of the page's last line, so each page holds every line of its last millisecond: no line is
 * lost or repeated between pages, whatever the lines sharing a millisecond. `order` reverses a
 * page whose direction it contradicts. 2.30 adds `metrics`.
 */
export function getTaskLogEndpoint(deps: RouteDeps) {
  /** `from`: null in 1.5, which scans in `order` (and ignores a `from` sent anyway, like any unknown field). */
  const handle = async (ctx: RequestContext, body: Body, from: 'head' | 'tail' | null) => {
    const task = checkTask(body.task);
    const scanDesc = from === null ? body.order === 'desc' : from === 'tail';
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { order: body.order, from: from ?? '' } };
    const after = await deps.cursors.decode<State | null>(body.scroll_id, scope);
    const [rows, total] = await Promise.all([readLogPage(deps, ctx, task, scanDesc, body.batch_size, after), countLogs(deps, ctx, task)]);
    const last = rows.at(-1);
    const next: State | null = last ? [String(last.ts), last.seq] : (after ?? null);
    // A page is scanned in one direction and shown in the requested order.
    if (scanDesc !== (body.order === 'desc')) rows.reverse();
    const events = rows.map((r) => logEvent(task, r));
    return { events, returned: events.length, total, scroll_id: await deps.cursors.encode(scope, next) };
  };

  const navigate = async (ctx: RequestContext, body: NavigateBody, metrics: MetricVariants[] | null | undefined) => {
    const task = checkTask(body.task);
    const earlier = body.navigate_earlier;
    const start = pageStart(body.from_timestamp, earlier);
    // Log lines have no metric: a filter of other metrics leaves none.
    if (!metricFilter(metrics).logs) return { events: [], returned: 0, total: 0 };
    const [rows, total] = await Promise.all([start === 'none' ? [] : readNavigatedPage(deps, ctx, task, earlier, start, body.batch_size), countLogs(deps, ctx, task)]);
    if (body.order !== undefined && (body.order === 'desc') !== earlier) rows.reverse();
    const events = rows.map((r) => logEvent(task, r));
    return { events, returned: events.length, total };
  };

  const navigateProps = {
    batch_size: { ...props.batchSize, default: NAVIGATE_PAGE },
    navigate_earlier: { default: true },
    // The UI sends null for "from the end".
    from_timestamp: { type: ['number', 'null'] },
  };
  // The versions take two kinds of body: each handler names its own.
  return objectEndpoint<never>({
    name: 'events.get_task_log',
    versions: [
      {
        version: '1.5',
        schema: requestSchema('get_task_log', '1.5', { order: props.order, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body: Body) => handle(ctx, body, null),
      },
      {
        version: '1.7',
        schema: requestSchema('get_task_log', '1.7', { order: props.order, from: { default: 'head' }, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body: Body) => handle(ctx, body, body.from ?? 'head'),
      },
      {
        version: '2.9',
        schema: requestSchema('get_task_log', '2.9', navigateProps),
        // `metrics` is 2.30's: ignored here like any unknown field.
        handle: (ctx, body: NavigateBody) => navigate(ctx, body, undefined),
      },
      {
        version: '2.30',
        // The reference schema misplaces `metrics` beside `properties`; it is a request property.
        schema: requestSchema('get_task_log', '2.30', { ...navigateProps, metrics: metricsSchema }),
        handle: (ctx, body: NavigateBody) => navigate(ctx, body, body.metrics),
      },
    ],
  });
}

/**
 * Where a 2.9 page starts: every line (`all`), none (`none`: the bound lies beyond every stored
 * timestamp) or the lines strictly before (`navigate_earlier`) or after this epoch ms. A missing
 * or 0 `from_timestamp` means the end (or the start) of the log, as on the reference server.
 */
export function pageStart(fromTimestamp: number | null | undefined, earlier: boolean): 'all' | 'none' | number {
  if (fromTimestamp === undefined || fromTimestamp === null || fromTimestamp === 0) return 'all';
  if (Number.isNaN(fromTimestamp)) throw validation('from_timestamp must be a number');
  // Stored timestamps are whole ms within [MIN, MAX]: a fraction or a bound outside says no more.
  if (earlier) {
    const bound = Math.ceil(fromTimestamp);
    return bound > MAX_TIMESTAMP_MS ? 'all' : bound <= MIN_TIMESTAMP_MS ? 'none' : bound;
  }
  const bound = Math.floor(fromTimestamp);
  return bound < MIN_TIMESTAMP_MS ? 'all' : bound >= MAX_TIMESTAMP_MS ? 'none' : bound;
}

/**
 * A 2.9 page: `page` (the first `batch_size` lines) completed with `rest`, the lines of its last
 * millisecond that did not fit (fetched up to BOUNDARY_LINES + 1), so that the page ends at a
 * millisecond boundary. When that millisecond has more lines than BOUNDARY_LINES beyond the
 * page, the page stops before it instead (the next page starts with it); a millisecond that
 * alone exceeds `batch_size` + BOUNDARY_LINES is cut: timestamps cannot address a line inside it.
 */
export function completePage<R extends { ts: string | number }>(page: R[], rest: readonly R[]): R[] {
  if (rest.length <= BOUNDARY_LINES) return [...page, ...rest];
  const edge = String(page.at(-1)?.ts);
  const before = page.filter((r) => String(r.ts) !== edge);
  return before.length > 0 ? before : [...page, ...rest.slice(0, BOUNDARY_LINES)];
}

const LOG_FILTER = 'tenant = {tenant:String} AND task = {task:String}';

/**
 * The statements of a 2.9 page: its first `limit` lines in the direction (`from` bounds it when
 * set), then the lines of the last line's millisecond beyond it (`edge`, after `seq`).
 */
export function navigatedPageStatements(earlier: boolean, bounded: boolean): { page: string; rest: string } {
  const dir = earlier ? 'DESC' : 'ASC';
  const beyond = earlier ? '<' : '>';
  const bound = bounded ? `AND timestamp ${beyond} fromUnixTimestamp64Milli({from:Int64}, 'UTC')` : '';
  return {
    page: `SELECT ${LOG_COLUMNS} FROM logs FINAL WHERE ${LOG_FILTER} ${bound}
      ORDER BY timestamp ${dir}, seq ${dir} LIMIT {limit:UInt32}`,
    rest: `SELECT ${LOG_COLUMNS} FROM logs FINAL WHERE ${LOG_FILTER}
      AND timestamp = fromUnixTimestamp64Milli({edge:Int64}, 'UTC') AND seq ${beyond} {seq:UInt64}
      ORDER BY seq ${dir} LIMIT {limit:UInt32}`,
  };
}

/** The statement of `total`: every log line of the task. */
export const COUNT_LOGS = `SELECT count() AS n FROM logs FINAL WHERE ${LOG_FILTER}`;

async function readNavigatedPage(deps: RouteDeps, ctx: RequestContext, task: string, earlier: boolean, start: 'all' | number, limit: number): Promise<LogColumns[]> {
  const sql = navigatedPageStatements(earlier, start !== 'all');
  const page = await deps.db.rows<LogColumns>(ctx, sql.page, { task, limit, ...(start !== 'all' ? { from: start } : {}) });
  const last = page.at(-1);
  if (!last || page.length < limit) return page;
  const rest = await deps.db.rows<LogColumns>(ctx, sql.rest, { task, edge: String(last.ts), seq: last.seq, limit: BOUNDARY_LINES + 1 });
  return completePage(page, rest);
}

async function readLogPage(deps: RouteDeps, ctx: RequestContext, task: string, desc: boolean, limit: number, after: State | null | undefined): Promise<LogColumns[]> {
  const dir = desc ? 'DESC' : 'ASC';
  const resume = after ? `AND (timestamp, seq) ${desc ? '<' : '>'} (fromUnixTimestamp64Milli({ts:Int64}, 'UTC'), {seq:UInt64})` : '';
  return deps.db.rows<LogColumns>(
    ctx,
    `SELECT ${LOG_COLUMNS} FROM logs FINAL
     WHERE tenant = {tenant:String} AND task = {task:String} ${resume}
     ORDER BY timestamp ${dir}, seq ${dir} LIMIT {limit:UInt32}`,
    { task, limit, ...(after ? { ts: after[0], seq: after[1] } : {}) },
  );
}

async function countLogs(deps: RouteDeps, ctx: RequestContext, task: string): Promise<number> {
  const [row] = await deps.db.rows<{ n: string }>(ctx, COUNT_LOGS, { task });
  return Number(row?.n ?? 0);
}
