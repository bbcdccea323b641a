import type { RequestContext } from '@trackstream/api';
import { EVENT_KINDS, type FieldSpec } from '@trackstream/event-schema';
import type { RouteDeps } from './deps';

/**
 * The metric and variant names tasks reported, per event type: get_task_metrics and
 * get_multi_task_metrics. Log events have no metric (the reference's metric aggregation finds
 * none in them), so `log` has no table here (kinds.ts: logs have no `metric` field).
 */
const METRIC_KINDS = EVENT_KINDS.filter((k) => (k.fields as readonly FieldSpec[]).some((f) => f.name === 'metric'));
const TABLE_OF_TYPE = new Map<string, string>(METRIC_KINDS.map((k) => [k.type, k.table]));

export const EVENT_TYPES = EVENT_KINDS.map((k) => k.type);
export type EventType = (typeof EVENT_TYPES)[number];

/** The tables holding an event type's metrics (none for a kind without one: logs); every type's when none is named. */
export function metricTables(eventType: EventType | undefined): string[] {
  if (eventType === undefined) return [...TABLE_OF_TYPE.values()];
  const table = TABLE_OF_TYPE.get(eventType);
  return table === undefined ? [] : [table];
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
