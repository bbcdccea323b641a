import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, plotEvent, type MetricColumns } from '../events';
import { metricFilter, metricsSchema, type MetricVariants } from '../metric-filter';
import { WINDOW, countWindow, plotBounds, windowCondition, windowParams, type Bounds } from '../plot-window';
import { DEFAULT_PAGE, MAX_PAGE, checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  iters: number;
  scroll_id?: string | null;
  /** Defaulted in 2.1; from 2.14 its default depends on `no_scroll`. */
  batch_size?: number;
  /** 2.14 */
  metrics?: MetricVariants[] | null;
  /** 2.16 */
  no_scroll?: boolean;
}

interface State {
  bounds: Bounds;
  after?: [iter: string, metric: string, variant: string];
}

/** 2.14 on: the last row by (metric, variant, iter descending). */
interface ByMetricState {
  bounds: Bounds;
  after?: [metric: string, variant: string, iter: string];
}

type Row = MetricColumns & { plot_str: string };

/**
 * events.get_task_plots: per (metric, variant), the plot events of its last `iters` iterations.
 * 2.1: newest iteration first, then by metric and variant. 2.14 on, in the reference server's
 * order (by metric, variant, then newest iteration first), with `metrics` to select some.
 * 2.16 adds `no_scroll`: one answer of up to 10,000 plots, without a cursor. `batch_size`
 * (default 500) is ours.
 */
export function getTaskPlotsEndpoint(deps: RouteDeps) {
  const byMetric = async (ctx: RequestContext, body: Body, noScroll: boolean) => {
    const task = checkTask(body.task, readOwner(ctx, body));
    const filter = metricFilter(body.metrics);
    const { sql, params } = filter;
    const window = windowCondition('variant', sql);
    // The order is part of the scope: a 2.1 cursor holds another sort key.
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { iters: body.iters, order: 'metric', metrics: filter.key } };
    const state = (await deps.cursors.decode<ByMetricState>(body.scroll_id, scope)) ?? { bounds: await plotBounds(deps, ctx, [task]) };
    const limit = body.batch_size ?? (noScroll ? MAX_PAGE : DEFAULT_PAGE);
    const [rows, total] = await Promise.all([readByMetric(deps, ctx, state, window, params, body.iters, limit), countWindow(deps, ctx, state.bounds, body.iters, window, params)]);
    const last = rows.at(-1);
    const next: ByMetricState = last ? { bounds: state.bounds, after: [last.metric, last.variant, String(last.iter)] } : state;
    const plots = rows.map((r) => plotEvent(task, r));
    return { plots, returned: plots.length, total, scroll_id: noScroll ? null : await deps.cursors.encode(scope, next) };
  };
  // batch_size without a default from 2.14: no_scroll's answer is larger than a page.
  const { default: _pageDefault, ...batchSize } = props.batchSize;
  const pageProps = { iters: props.iters, scroll_id: props.scrollId, batch_size: batchSize, metrics: metricsSchema };
  return objectEndpoint<Body>({
    name: 'events.get_task_plots',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_plots', '2.1', { iters: props.iters, scroll_id: props.scrollId, batch_size: props.batchSize }),
        async handle(ctx, body) {
          const task = checkTask(body.task, readOwner(ctx, body));
          const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { iters: body.iters } };
          const state = (await deps.cursors.decode<State>(body.scroll_id, scope)) ?? { bounds: await plotBounds(deps, ctx, [task]) };
          const [rows, total] = await Promise.all([readPage(deps, ctx, state, body.iters, body.batch_size ?? DEFAULT_PAGE), countWindow(deps, ctx, state.bounds, body.iters)]);
          const last = rows.at(-1);
          const next: State = last ? { bounds: state.bounds, after: [String(last.iter), last.metric, last.variant] } : state;
          const plots = rows.map((r) => plotEvent(task, r));
          return { plots, returned: plots.length, total, scroll_id: await deps.cursors.encode(scope, next) };
        },
      },
      {
        version: '2.14',
        schema: requestSchema('get_task_plots', '2.14', pageProps),
        handle: (ctx, body) => byMetric(ctx, body, false),
      },
      {
        version: '2.16',
        schema: requestSchema('get_task_plots', '2.16', pageProps),
        handle: (ctx, body) => byMetric(ctx, body, body.no_scroll === true),
      },
      {
        // 2.22 adds model_events (readOwner).
        version: '2.22',
        schema: requestSchema('get_task_plots', '2.22', pageProps),
        handle: (ctx, body) => byMetric(ctx, body, body.no_scroll === true),
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

async function readByMetric(deps: RouteDeps, ctx: RequestContext, state: ByMetricState, window: string, filterParams: Record<string, unknown>, iters: number, limit: number): Promise<Row[]> {
  if (state.bounds.length === 0) return [];
  const after = state.after;
  const resume = after ? 'AND ((metric, variant) > ({am:String}, {av:String}) OR ((metric, variant) = ({am:String}, {av:String}) AND iter < {ai:Int64}))' : '';
  return deps.db.rows<Row>(
    ctx,
    `SELECT ${METRIC_COLUMNS}, plot_str FROM plots FINAL WHERE ${window} ${resume}
     ORDER BY metric, variant, iter DESC LIMIT {limit:UInt32}`,
    { ...windowParams(state.bounds, iters), ...filterParams, limit, ...(after ? { am: after[0], av: after[1], ai: after[2] } : {}) },
  );
}
