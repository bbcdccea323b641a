import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, plotEvent, type MetricColumns } from '../events';
import { WINDOW, countWindow, plotBounds, windowParams, type Bounds } from '../plot-window';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  iters: number;
  scroll_id?: string | null;
  batch_size: number;
}

interface State {
  bounds: Bounds;
  after?: [iter: string, metric: string, variant: string];
}

type Row = MetricColumns & { plot_str: string };

/**
 * events.get_task_plots: per (metric, variant), the plot events of its last `iters` iterations,
 * newest iteration first, then by metric and variant. `batch_size` (default 500) is ours.
 */
export function getTaskPlotsEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.get_task_plots',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_plots', '2.1', { iters: props.iters, scroll_id: props.scrollId, batch_size: props.batchSize }),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { iters: body.iters } };
          const state = (await deps.cursors.decode<State>(body.scroll_id, scope)) ?? { bounds: await plotBounds(deps, ctx, [task]) };
          const [rows, total] = await Promise.all([readPage(deps, ctx, state, body.iters, body.batch_size), countWindow(deps, ctx, state.bounds, body.iters)]);
          const last = rows.at(-1);
          const next: State = last ? { bounds: state.bounds, after: [String(last.iter), last.metric, last.variant] } : state;
          const plots = rows.map((r) => plotEvent(task, r));
          return { plots, returned: plots.length, total, scroll_id: await deps.cursors.encode(scope, next) };
        },
      },
    ],
  });
}

async function readPage(deps: RouteDeps, ctx: RequestContext, state: State, iters: number, limit: number): Promise<Row[]> {
  if (state.bounds.length === 0) return [];
  const after = state.after;
  const resume = after ? 'AND (iter < {ai:Int64} OR (iter = {ai:Int64} AND (metric, variant) > ({am:String}, {av:String})))' : '';
  return deps.db.rows<Row>(
    ctx,
    `SELECT ${METRIC_COLUMNS}, plot_str FROM plots FINAL WHERE ${WINDOW} ${resume}
     ORDER BY iter DESC, metric, variant LIMIT {limit:UInt32}`,
    { ...windowParams(state.bounds, iters), limit, ...(after ? { ai: after[0], am: after[1], av: after[2] } : {}) },
  );
}
