import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, child, dict, plotEvent, type MetricColumns } from '../events';
import { WINDOW, countWindow, plotBounds, windowParams, type Bounds } from '../plot-window';
import { checkTasks, props, requestSchema } from '../requests';

interface Body {
  tasks: string[];
  iters: number;
  scroll_id?: string | null;
  batch_size: number;
}

interface State {
  bounds: Bounds;
  after?: [task: string, metric: string, variant: string, iter: string];
}

type Row = MetricColumns & { task: string; plot_str: string };

type PlotEvent = ReturnType<typeof plotEvent>;
/** metric -> variant -> task -> "<iter>" -> {name, plots}; `name` is the task id (there is no task registry). */
type PlotTree = Record<string, Record<string, Record<string, Record<string, { name: string; plots: PlotEvent[] }>>>>;

/**
 * events.get_multi_task_plots: for each task, per (metric, variant), the plot events of its
 * last `iters` iterations, as a tree. Pages run by task, metric, variant, newest iteration first;
 * `returned` counts the plot events of the page. `batch_size` (default 500) is ours.
 */
export function getMultiTaskPlotsEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.get_multi_task_plots',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_multi_task_plots', '2.1', { tasks: props.tasks, iters: props.iters, scroll_id: props.scrollId, batch_size: props.batchSize }),
        async handle(ctx, body) {
          const tasks = checkTasks(body.tasks);
          const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task: tasks, params: { iters: body.iters } };
          const state = (await deps.cursors.decode<State>(body.scroll_id, scope)) ?? { bounds: await plotBounds(deps, ctx, tasks) };
          const [rows, total] = await Promise.all([readPage(deps, ctx, state, body.iters, body.batch_size), countWindow(deps, ctx, state.bounds, body.iters)]);
          const last = rows.at(-1);
          const next: State = last ? { bounds: state.bounds, after: [last.task, last.metric, last.variant, String(last.iter)] } : state;
          const plots: PlotTree = dict();
          for (const r of rows) {
            const byIter = child(child(child(plots, r.metric), r.variant), r.task);
            (byIter[String(r.iter)] ??= { name: r.task, plots: [] }).plots.push(plotEvent(r.task, r));
          }
          return { plots, returned: rows.length, total, scroll_id: await deps.cursors.encode(scope, next) };
        },
      },
    ],
  });
}

async function readPage(deps: RouteDeps, ctx: RequestContext, state: State, iters: number, limit: number): Promise<Row[]> {
  if (state.bounds.length === 0) return [];
  const after = state.after;
  const resume = after
    ? `AND ((task, metric, variant) > ({at:String}, {am:String}, {av:String})
            OR ((task, metric, variant) = ({at:String}, {am:String}, {av:String}) AND iter < {ai:Int64}))`
    : '';
  return deps.db.rows<Row>(
    ctx,
    `SELECT task, ${METRIC_COLUMNS}, plot_str FROM plots FINAL WHERE ${WINDOW} ${resume}
     ORDER BY task, metric, variant, iter DESC LIMIT {limit:UInt32}`,
    { ...windowParams(state.bounds, iters), limit, ...(after ? { at: after[0], am: after[1], av: after[2], ai: after[3] } : {}) },
  );
}
