import { objectEndpoint, type RequestContext } from '@trackstream/api';
import { fromCHMillis } from '@trackstream/clickhouse';
import type { RouteDeps } from '../deps';
import { byteOrder, float } from '../events';
import { SUMMARY_ITERATION } from '../histogram';
import { metricFilter, metricsSchema, type MetricVariants } from '../metric-filter';
import { answerId, checkTasks, props, requestSchema, readOwner } from '../requests';

interface Body {
  tasks: string[];
  metrics?: MetricVariants[];
}

export interface SingleValueRow {
  task: string;
  metric: string;
  variant: string;
  value: number | string;
  ts: number | string;
}

export interface TaskSingleValues {
  task: string;
  task_name: string;
  values: Array<{ metric: string; variant: string; value: number; timestamp: number }>;
}

/** At most this many values in one answer, as the reference (one search of 10,000 hits). */
export const MAX_SINGLE_VALUES = 10_000;

/**
 * The answer's `tasks`: one entry per task that has single values, in the order the request
 * named the tasks, its values by metric then variant. `task_name` is the task id: task names live
 * in ClearML's tasks service, which this service does not call.
 */
export function singleValueTasks(tasks: readonly string[], rows: readonly SingleValueRow[]): TaskSingleValues[] {
  const byTask = new Map<string, SingleValueRow[]>();
  for (const r of rows) {
    const list = byTask.get(r.task);
    if (list) list.push(r);
    else byTask.set(r.task, [r]);
  }
  const out: TaskSingleValues[] = [];
  for (const task of new Set(tasks)) {
    const list = byTask.get(task);
    if (!list) continue;
    list.sort((a, b) => byteOrder(a.metric, b.metric) || byteOrder(a.variant, b.variant));
    out.push({ task: answerId(task), task_name: answerId(task), values: list.map((r) => ({ metric: r.metric, variant: r.variant, value: float(r.value), timestamp: fromCHMillis(r.ts) })) });
  }
  return out;
}

/**
 * The single values of {tasks:Array(String)}, at most {limit:UInt32}, deduplicated by identity
 * (the iteration is fixed), the newest version winning: no FINAL, which would merge every granule
 * the primary key leaves, for a few rows. Exported for the query benchmark.
 */
export function singleValuesStatement(filterSql: string): string {
  return `SELECT task, metric, variant, argMax(value, version) AS value, toUnixTimestamp64Milli(argMax(timestamp, version)) AS ts
    FROM scalars
    WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND iter = ${SUMMARY_ITERATION} ${filterSql}
    GROUP BY task, metric, variant
    ORDER BY indexOf({tasks:Array(String)}, task), metric, variant
    LIMIT {limit:UInt32}`;
}

/**
 * events.get_task_single_value_metrics (2.20 on): the values the SDK reports with
 * `Logger.report_single_value` (iteration -2147483648, metric "Summary"; the iteration is what
 * marks them), per task: `{tasks: [{task, task_name, values: [{metric, variant, value, timestamp}]}]}`.
 * A value reported again replaces the earlier one. 2.28: `metrics` selects metrics and variants.
 */
export function getTaskSingleValueMetricsEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body) {
    const tasks = checkTasks(body.tasks, readOwner(ctx, body));
    const filter = metricFilter(body.metrics);
    const rows = await deps.db.rows<SingleValueRow>(ctx, singleValuesStatement(filter.sql), { tasks, limit: MAX_SINGLE_VALUES, ...filter.params });
    return { tasks: singleValueTasks(tasks, rows) };
  }
  // A field the version does not define is ignored, never read unchecked.
  const withoutMetrics = (ctx: RequestContext, body: Body) => answer(ctx, { ...body, metrics: undefined });
  return objectEndpoint<Body>({
    name: 'events.get_task_single_value_metrics',
    versions: [
      { version: '2.20', schema: requestSchema('get_task_single_value_metrics', '2.20', { tasks: props.tasks }), handle: withoutMetrics },
      { version: '2.22', schema: requestSchema('get_task_single_value_metrics', '2.22', { tasks: props.tasks }), handle: withoutMetrics },
      { version: '2.28', schema: requestSchema('get_task_single_value_metrics', '2.28', { tasks: props.tasks, metrics: metricsSchema }), handle: answer },
    ],
  });
}
