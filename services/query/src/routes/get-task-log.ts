import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { LOG_COLUMNS, logEvent, type LogColumns } from '../events';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  order: 'asc' | 'desc';
  from?: 'head' | 'tail';
  scroll_id?: string | null;
  batch_size: number;
}

/** Resume after this log row: its (timestamp, seq), the logs table's total order within a task. */
type State = [ts: string, seq: string];

/**
 * events.get_task_log: a task's log events by timestamp. 1.5 scans in `order`; 1.7 scans from
 * the head (oldest first) or the tail (newest first) and returns each page sorted by `order`,
 * as the reference does. Pages continue exactly after the last row scanned (keyset on
 * (timestamp, seq)), so events arriving meanwhile are neither repeated nor skipped.
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
  return objectEndpoint<Body>({
    name: 'events.get_task_log',
    versions: [
      {
        version: '1.5',
        schema: requestSchema('get_task_log', '1.5', { order: props.order, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body) => handle(ctx, body, null),
      },
      {
        version: '1.7',
        schema: requestSchema('get_task_log', '1.7', { order: props.order, from: { default: 'head' }, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body) => handle(ctx, body, body.from ?? 'head'),
      },
    ],
  });
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
  const [row] = await deps.db.rows<{ n: string }>(ctx, 'SELECT count() AS n FROM logs FINAL WHERE tenant = {tenant:String} AND task = {task:String}', { task });
  return Number(row?.n ?? 0);
}
