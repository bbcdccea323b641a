import type { RequestContext } from '@trackstream/api';
import type { RouteDeps } from './deps';

/**
 * The metric and variant names tasks reported, per event type: get_task_metrics and
 * get_multi_task_metrics. Log events have no metric (the reference's metric aggregation finds
 * none in them), so `log` has no table here.
 */
export const EVENT_TYPE_TABLES = {
  training_stats_scalar: 'scalars',
  training_stats_vector: 'vectors',
  training_debug_image: 'images',
  plot: 'plots',
} as const;

export const EVENT_TYPES = [...Object.keys(EVENT_TYPE_TABLES), 'log'] as const;
export type EventType = keyof typeof EVENT_TYPE_TABLES | 'log';

/** The tables holding an event type's metrics; every type's when none is named. */
export function metricTables(eventType: EventType | undefined): string[] {
  if (eventType === undefined) return Object.values(EVENT_TYPE_TABLES);
  return eventType === 'log' ? [] : [EVENT_TYPE_TABLES[eventType]];
}

/** Names returned at most (per task for get_task_metrics): the reference's bucket bound. */
export const MAX_NAMES = 10_000;

/** The SDK's single-value ("Summary") iteration: get_task_metrics leaves it out, as the reference does. */
const SINGLE_VALUE_ITERATION = -2147483648;

/**
 * Per task, its metric names in (byte) order. Names are the same in every version of a row (they
 * are its identity), so no FINAL is needed.
 */
export async function taskMetricNames(deps: RouteDeps, ctx: RequestContext, tasks: readonly string[], table: string): Promise<Map<string, string[]>> {
  const rows = await deps.db.rows<{ task: string; metric: string }>(
    ctx,
    `SELECT task, metric FROM ${table}
     WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND iter > {single:Int64}
     GROUP BY task, metric ORDER BY task, metric LIMIT {max:UInt32} BY task`,
    { tasks, single: SINGLE_VALUE_ITERATION, max: MAX_NAMES },
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.task) ?? [];
    list.push(r.metric);
    out.set(r.task, list);
  }
  return out;
}

/** The (metric, variant) pairs any of the tasks reported in `tables`, in (byte) order, distinct. */
export async function multiTaskMetricVariants(deps: RouteDeps, ctx: RequestContext, tasks: readonly string[], tables: readonly string[]): Promise<Array<{ metric: string; variant: string }>> {
  if (tables.length === 0) return [];
  const union = tables.map((t) => `SELECT metric, variant FROM ${t} WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} GROUP BY metric, variant`).join(' UNION ALL ');
  return deps.db.rows<{ metric: string; variant: string }>(
    ctx,
    `SELECT metric, variant FROM (${union}) GROUP BY metric, variant ORDER BY metric, variant LIMIT {max:UInt32}`,
    { tasks, max: MAX_NAMES },
  );
}
