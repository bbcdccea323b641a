import type { RequestContext } from '@trackstream/api';
import type { RouteDeps } from './deps';

/**
 * The plots of get_task_plots and get_multi_task_plots: per (task, metric, variant), the plot
 * events of its last `iters` iterations. A scroll fixes each task's highest plot iteration on
 * its first page (`bounds`), so plots reported at later iterations while it pages don't move
 * the windows under it: no duplicates, no gaps.
 */
export type Bounds = Array<[task: string, hi: string]>;

/** Each task's highest plot iteration; tasks without plots are left out. */
export async function plotBounds(deps: RouteDeps, ctx: RequestContext, tasks: readonly string[]): Promise<Bounds> {
  // max(iter) is exact without FINAL: every version of a plot row has the same iteration.
  const rows = await deps.db.rows<{ task: string; hi: string }>(
    ctx,
    'SELECT task, max(iter) AS hi FROM plots WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} GROUP BY task ORDER BY task',
    { tasks },
  );
  return rows.map((r) => [r.task, r.hi]);
}

/** Query parameters of WINDOW. */
export function windowParams(bounds: Bounds, iters: number): Record<string, unknown> {
  // BigInt: the client quotes strings inside arrays, and an Int64 may exceed 2^53.
  return { tasks: bounds.map(([t]) => t), his: bounds.map(([, hi]) => BigInt(hi)), iters };
}

/**
 * What the last `iters` iterations are counted per: each (task, metric, variant), as
 * get_task_plots and get_multi_task_plots 2.1 do; each (task, metric), so that a metric's
 * variants show at the same iterations (get_multi_task_plots 2.16 on); or each task.
 */
export type WindowScope = 'variant' | 'metric' | 'task';
const WINDOW_KEYS: Record<WindowScope, string> = { variant: 'task, metric, variant', metric: 'task, metric', task: 'task' };

/**
 * Condition on `plots FINAL` rows: in the window of their scope. `filter` (an `AND ...` on
 * metric and variant) applies both to what the window counts and to the rows.
 */
export function windowCondition(scope: WindowScope, filter = ''): string {
  const keys = WINDOW_KEYS[scope];
  return `tenant = {tenant:String} AND task IN {tasks:Array(String)} ${filter} AND (${keys}, iter) IN (
    SELECT ${keys}, iter FROM plots
    WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)} AND iter <= {his:Array(Int64)}[indexOf({tasks:Array(String)}, task)] ${filter}
    GROUP BY ${keys}, iter
    ORDER BY ${keys}, iter DESC
    LIMIT {iters:UInt32} BY ${keys})`;
}

/** Condition on `plots FINAL` rows: in the window of their (task, metric, variant). */
export const WINDOW = windowCondition('variant');

/** Plot events in the window; `params` are those of a non-default `condition`'s filter. */
export async function countWindow(deps: RouteDeps, ctx: RequestContext, bounds: Bounds, iters: number, condition = WINDOW, params: Record<string, unknown> = {}): Promise<number> {
  if (bounds.length === 0) return 0;
  const [row] = await deps.db.rows<{ n: string }>(ctx, `SELECT count() AS n FROM plots FINAL WHERE ${condition}`, { ...windowParams(bounds, iters), ...params });
  return Number(row?.n ?? 0);
}
