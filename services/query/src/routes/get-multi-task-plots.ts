import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, child, dict, plotEvent, type MetricColumns } from '../events';
import { metricFilter, metricsSchema, NO_METRIC_FILTER, type MetricFilter, type MetricVariants } from '../metric-filter';
import { countWindow, plotBounds, windowCondition, windowParams, type Bounds, type WindowScope } from '../plot-window';
import { DEFAULT_PAGE, MAX_PAGE, answerId, checkTasks, props, requestSchema, readOwner } from '../requests';

interface Body {
  tasks: string[];
  iters: number;
  scroll_id?: string | null;
  /** Defaulted in 2.1; from 2.16 its default depends on `no_scroll`. */
  batch_size?: number;
  /** 2.16 */
  no_scroll?: boolean;
  /** 2.26 */
  last_iters_per_task_metric?: boolean;
  /** 2.28 */
  metrics?: MetricVariants[] | null;
}

interface State {
  bounds: Bounds;
  after?: [task: string, metric: string, variant: string, iter: string];
}

type Row = MetricColumns & { task: string; plot_str: string };

type PlotEvent = ReturnType<typeof plotEvent>;
/** metric -> variant -> task -> "<iter>" -> {name, plots}; `name` is the task id (there is no task registry). */
type PlotTree = Record<string, Record<string, Record<string, Record<string, { name: string; plots: PlotEvent[] }>>>>;

/** What a request reads: whose last iterations, of which metrics, and whether it pages on. */
interface Selection {
  scope: WindowScope;
  filter: MetricFilter;
  noScroll: boolean;
}

/**
 * events.get_multi_task_plots: for each task, the plot events of its last `iters` iterations,
 * as a tree. 2.1 counts the iterations per (task, metric, variant). 2.16 on, as the reference
 * server does, per (task, metric): a metric's variants show at the metric's last iterations;
 * `no_scroll` gives one answer of up to 10,000 plots without a cursor. 2.26 adds
 * `last_iters_per_task_metric` (false: the task's last iterations, across its metrics), 2.28
 * `metrics`. Pages run by task, metric, variant, newest iteration first; `returned` counts the
 * plot events of the page. `batch_size` (default 500) is ours.
 */
export function getMultiTaskPlotsEndpoint(deps: RouteDeps) {
  const handle = async (ctx: RequestContext, body: Body, sel: Selection) => {
    const tasks = checkTasks(body.tasks, readOwner(ctx, body));
    const { sql, params } = sel.filter;
    const window = windowCondition(sel.scope, sql);
    // 2.1's scope is {iters} alone: its cursors stay valid across an upgrade.
    const scoped: Record<string, string> = sel.scope === 'variant' && !sel.filter.key ? {} : { window: sel.scope, metrics: sel.filter.key };
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task: tasks, params: { iters: body.iters, ...scoped } };
    const state = (await deps.cursors.decode<State>(body.scroll_id, scope)) ?? { bounds: await plotBounds(deps, ctx, tasks) };
    const limit = body.batch_size ?? (sel.noScroll ? MAX_PAGE : DEFAULT_PAGE);
    const [rows, total] = await Promise.all([readPage(deps, ctx, state, window, params, body.iters, limit), countWindow(deps, ctx, state.bounds, body.iters, window, params)]);
    const last = rows.at(-1);
    const next: State = last ? { bounds: state.bounds, after: [last.task, last.metric, last.variant, String(last.iter)] } : state;
    return { plots: plotTree(rows), returned: rows.length, total, scroll_id: sel.noScroll ? null : await deps.cursors.encode(scope, next) };
  };
  // batch_size without a default from 2.16: no_scroll's answer is larger than a page.
  const { default: _pageDefault, ...batchSize } = props.batchSize;
  const newer = { tasks: props.tasks, iters: props.iters, scroll_id: props.scrollId, batch_size: batchSize };
  const noScroll = (body: Body): boolean => body.no_scroll === true;
  const scopeOf = (body: Body): WindowScope => (body.last_iters_per_task_metric === false ? 'task' : 'metric');
  return objectEndpoint<Body>({
    name: 'events.get_multi_task_plots',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_multi_task_plots', '2.1', { tasks: props.tasks, iters: props.iters, scroll_id: props.scrollId, batch_size: props.batchSize }),
        handle: (ctx, body) => handle(ctx, body, { scope: 'variant', filter: NO_METRIC_FILTER, noScroll: false }),
      },
      {
        version: '2.16',
        schema: requestSchema('get_multi_task_plots', '2.16', newer),
        handle: (ctx, body) => handle(ctx, body, { scope: 'metric', filter: NO_METRIC_FILTER, noScroll: noScroll(body) }),
      },
      {
        // 2.22 adds model_events (readOwner).
        version: '2.22',
        schema: requestSchema('get_multi_task_plots', '2.22', newer),
        handle: (ctx, body) => handle(ctx, body, { scope: 'metric', filter: NO_METRIC_FILTER, noScroll: noScroll(body) }),
      },
      {
        version: '2.26',
        schema: requestSchema('get_multi_task_plots', '2.26', newer),
        handle: (ctx, body) => handle(ctx, body, { scope: scopeOf(body), filter: NO_METRIC_FILTER, noScroll: noScroll(body) }),
      },
      {
        version: '2.28',
        schema: requestSchema('get_multi_task_plots', '2.28', { ...newer, metrics: metricsSchema }),
        handle: (ctx, body) => handle(ctx, body, { scope: scopeOf(body), filter: metricFilter(body.metrics), noScroll: noScroll(body) }),
      },
    ],
  });
}

function plotTree(rows: readonly Row[]): PlotTree {
  const plots: PlotTree = dict();
  for (const r of rows) {
    const task = answerId(r.task);
    const byIter = child(child(child(plots, r.metric), r.variant), task);
    (byIter[String(r.iter)] ??= { name: task, plots: [] }).plots.push(plotEvent(r.task, r));
  }
  return plots;
}

async function readPage(deps: RouteDeps, ctx: RequestContext, state: State, window: string, filterParams: Record<string, unknown>, iters: number, limit: number): Promise<Row[]> {
  if (state.bounds.length === 0) return [];
  const after = state.after;
  const resume = after
    ? `AND ((task, metric, variant) > ({at:String}, {am:String}, {av:String})
            OR ((task, metric, variant) = ({at:String}, {am:String}, {av:String}) AND iter < {ai:Int64}))`
    : '';
  return deps.db.rows<Row>(
    ctx,
    `SELECT task, ${METRIC_COLUMNS}, plot_str FROM plots FINAL WHERE ${window} ${resume}
     ORDER BY task, metric, variant, iter DESC LIMIT {limit:UInt32}`,
    { ...windowParams(state.bounds, iters), ...filterParams, limit, ...(after ? { at: after[0], am: after[1], av: after[2], ai: after[3] } : {}) },
  );
}
