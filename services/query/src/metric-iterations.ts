import { validation, type JsonSchema, type RequestContext } from '@trackstream/api';
import type { CursorScope } from './cursor';
import type { RouteDeps } from './deps';
import { METRIC_COLUMNS, imageEvent, plotEvent, type MetricColumns } from './events';
import { metricFilter } from './metric-filter';
import type { Owner } from '@trackstream/event-schema';
import { answerId, checkTask, props, readOwner } from './requests';

/**
 * The metric-events scroll of events.debug_images (2.7 and later) and events.plots: for each
 * requested task, the events of its requested metrics (and variants) grouped by iteration,
 * `iters` iterations a page, newest first; the scroll then moves to earlier iterations (or later
 * ones, `navigate_earlier: false`), independently per task. A page holds, per iteration, one
 * event per (metric, variant), sorted by metric and variant.
 *
 * The reference keeps each task's position (the lowest and highest iteration it last returned) in
 * Redis; here it is the signed cursor's state. Nothing else is kept between pages: which variants
 * exist, and which of a variant's images are still valid, are read again on every page.
 */

/** One entry of the request's `metrics`. */
export interface TaskMetricEntry {
  task: string;
  metric?: string;
  variants?: string[];
}

/** What is asked of one task: every metric (null), or per metric its variants (null: every variant). */
export interface TaskSelection {
  readonly task: string;
  readonly metrics: ReadonlyMap<string, readonly string[] | null> | null;
}

/** Bounds of one request, so that a page and its cursor stay small. */
export const MAX_TASKS = 100;
/** Variants of one task a page considers (by name). */
export const MAX_VARIANTS = 10_000;

/**
 * The request's entries grouped by task, in the order tasks first appear (as the reference's dict
 * does): a later entry for the same metric replaces an earlier one, an entry without a metric
 * selects every metric of its task, and no (or empty) variants select every variant.
 */
export function taskSelections(entries: readonly TaskMetricEntry[], withVariants: boolean, owner: Owner = 'task'): TaskSelection[] {
  const byTask = new Map<string, { all: boolean; metrics: Map<string, readonly string[] | null> }>();
  for (const e of entries) {
    const task = checkTask(e.task, owner);
    const sel = byTask.get(task) ?? { all: false, metrics: new Map() };
    byTask.set(task, sel);
    if (e.metric === undefined) sel.all = true;
    else sel.metrics.set(e.metric, withVariants && e.variants && e.variants.length > 0 ? [...new Set(e.variants)] : null);
  }
  if (byTask.size > MAX_TASKS) throw validation(`metrics name more than ${MAX_TASKS} tasks`);
  return [...byTask].map(([task, sel]) => ({ task, metrics: sel.all ? null : sel.metrics }));
}

/** A canonical text of the selections, for the cursor's scope (a cursor serves the selection it was made for). */
export function selectionKey(selections: readonly TaskSelection[]): string {
  const canon = selections.map((s) => [s.task, s.metrics === null ? null : [...s.metrics].map(([m, vs]) => [m, vs === null ? null : [...vs].sort()]).sort()]);
  return JSON.stringify(canon.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)));
}

/** The request's `metrics` schema: (task, metric, variants) entries, names bounded like every name. */
export function metricsSchema(withVariants: boolean): JsonSchema {
  const properties: Record<string, JsonSchema> = { task: { type: 'string' }, metric: props.name };
  if (withVariants) properties['variants'] = { type: 'array', maxItems: 1000, items: props.name };
  return { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object', required: ['task'], properties } };
}

/** A task's position: the lowest and highest iteration its last non-empty page returned. */
export type Position = [task: string, lo: string, hi: string];

export interface ScrollState {
  positions: Position[];
}

/** Where the next page of a task reads: `iter < before` going earlier, `iter > after` going later. */
export type Direction = { earlier: true; before?: string } | { earlier: false; after: string };

/** The first page of a task (no position yet) always starts at its latest iteration. */
export function direction(position: Position | undefined, navigateEarlier: boolean): Direction {
  if (!position) return { earlier: true };
  return navigateEarlier ? { earlier: true, before: position[1] } : { earlier: false, after: position[2] };
}

export interface IterationEvents<E> {
  iter: number;
  events: E[];
}

/**
 * Rows of a page (newest iteration first) grouped by iteration. Rows come with a limit one
 * above the page's capacity: when the row past the capacity belongs to the page's last iteration,
 * that iteration was cut, so it is left to the next page, unless it is the only one (an iteration
 * with more events than a page holds is cut).
 */
export function groupIterations<R extends { iter: string | number }, E>(rows: readonly R[], capacity: number, toEvent: (r: R) => E): Array<IterationEvents<E> & { key: string }> {
  const out: Array<IterationEvents<E> & { key: string }> = [];
  for (const r of rows.slice(0, capacity)) {
    const key = String(r.iter);
    const last = out.at(-1);
    if (last && last.key === key) last.events.push(toEvent(r));
    else out.push({ key, iter: Number(r.iter), events: [toEvent(r)] });
  }
  // The row past the page tells whether the page's last iteration was cut.
  const beyond = rows[capacity];
  if (beyond && String(beyond.iter) === out.at(-1)?.key && out.length > 1) out.pop();
  return out;
}

/** The task's next position: the iterations of a non-empty page; an empty page keeps the old one. */
export function nextPosition(task: string, old: Position | undefined, iterations: ReadonlyArray<{ key: string }>): Position | undefined {
  const hi = iterations[0];
  const lo = iterations.at(-1);
  return hi && lo ? [task, lo.key, hi.key] : old;
}

// ------------------------------------------------------------------------------ SQL

/** The selection as a condition on metric and variant, with its parameters: the request's metric filter (metric-filter.ts). */
export function selectionFilter(sel: TaskSelection): { sql: string; params: Record<string, unknown> } {
  if (sel.metrics === null) return { sql: '', params: {} };
  const { sql, params } = metricFilter([...sel.metrics].map(([metric, variants]) => ({ metric, variants })), 'sel');
  return { sql, params };
}

function rangeFilter(dir: Direction, column: string): { sql: string; params: Record<string, unknown> } {
  if (dir.earlier) return dir.before === undefined ? { sql: '', params: {} } : { sql: `AND ${column} < {before:Int64}`, params: { before: dir.before } };
  return { sql: `AND ${column} > {after:Int64}`, params: { after: dir.after } };
}

export interface MetricEventsKind<R, E> {
  /** Most events a page holds per task. */
  readonly capacity: number;
  read(deps: RouteDeps, ctx: RequestContext, sel: TaskSelection, dir: Direction, iters: number, limit: number): Promise<R[]>;
  toEvent(task: string, row: R): E;
}

type ImageRow = MetricColumns & { key: string; url: string };
type PlotRow = MetricColumns & { plot_str: string };

const INT64_MIN = -(2n ** 63n);

/**
 * A page in two statements: the page's iterations (`iters` of them in the scroll's direction,
 * bounded by what a page can hold), then the events at those iterations, newest first, one per
 * (iteration, metric, variant) (`tieBreak` orders the candidates), at most `limit`.
 */
async function readIterations<R>(
  deps: RouteDeps,
  ctx: RequestContext,
  o: { table: string; shown: string; columns: string; tieBreak: string; params: Record<string, unknown>; dir: Direction; iters: number; limit: number; final: boolean },
): Promise<R[]> {
  const range = rangeFilter(o.dir, 'iter');
  const its = await deps.db.rows<{ iter: string }>(
    ctx,
    `SELECT DISTINCT iter FROM ${o.table} ${o.final ? 'FINAL' : ''} WHERE tenant = {tenant:String} AND task = {task:String} AND ${o.shown} ${range.sql}
     ORDER BY iter ${o.dir.earlier ? 'DESC' : 'ASC'} LIMIT {n:UInt32}`,
    { ...o.params, ...range.params, n: Math.min(o.iters, o.limit) },
  );
  if (its.length === 0) return [];
  return deps.db.rows<R>(
    ctx,
    `SELECT ${METRIC_COLUMNS}, ${o.columns} FROM ${o.table} FINAL
     WHERE tenant = {tenant:String} AND task = {task:String} AND ${o.shown} AND iter IN {its:Array(Int64)}
     ORDER BY iter DESC, metric, variant${o.tieBreak}
     LIMIT 1 BY iter, metric, variant
     LIMIT {limit:UInt32}`,
    // BigInt: the client quotes strings inside arrays, and an Int64 may exceed 2^53.
    { ...o.params, its: its.map((r) => BigInt(r.iter)), limit: o.limit },
  );
}

/**
 * Debug images: only events with a URL; per (iteration, metric, variant) the image with the
 * greatest URL (the reference's choice). The SDK reuses a variant's file names every
 * `file_history_size` iterations, so an old event's URL may point at a newer image: as in the
 * reference, take the URL of the variant's latest image; if it was also used at an earlier
 * iteration, the variant's events at and before that iteration are not shown.
 */
export const IMAGES: MetricEventsKind<ImageRow, ReturnType<typeof imageEvent>> = {
  capacity: 10_000,
  async read(deps, ctx, sel, dir, iters, limit) {
    const own = selectionFilter(sel);
    // Per (metric, variant): the URL with the highest iteration (ties: the smallest URL), and the
    // iteration it was used at before that one, if any (bitNot orders iterations high to low without overflow).
    const variants = await deps.db.rows<{ metric: string; variant: string; reused_at: string | null }>(
      ctx,
      `SELECT metric, variant, if(length(tops) > 1, bitNot(tops[2]), NULL) AS reused_at FROM (
         SELECT metric, variant, url, groupArraySorted(2)(bitNot(iter)) AS tops FROM images FINAL
         WHERE tenant = {tenant:String} AND task = {task:String} AND url != '' ${own.sql}
         GROUP BY metric, variant, url
         ORDER BY metric, variant, tops[1], url
         LIMIT 1 BY metric, variant)
       ORDER BY metric, variant LIMIT {max:UInt32}`,
      { task: sel.task, max: MAX_VARIANTS, ...own.params },
    );
    if (variants.length === 0) return [];
    // Each variant shown from the iteration after its reused one; the lowest of those bounds
    // the read by the sort key (with the SDK's reuse, to the last file_history_size iterations).
    const from = variants.map((v) => (v.reused_at === null ? INT64_MIN : BigInt(v.reused_at) + 1n));
    const params = {
      task: sel.task,
      v_metrics: [...new Set(variants.map((v) => v.metric))],
      v_variants: [...new Set(variants.map((v) => v.variant))],
      v_m: variants.map((v) => v.metric),
      v_v: variants.map((v) => v.variant),
      v_from: from,
      v_floor: from.reduce((lo, x) => (x < lo ? x : lo)),
    };
    const shown = `url != '' AND metric IN {v_metrics:Array(String)} AND variant IN {v_variants:Array(String)} AND iter >= {v_floor:Int64}
      AND (metric, variant) IN arrayZip({v_m:Array(String)}, {v_v:Array(String)})
      AND iter >= {v_from:Array(Int64)}[indexOf(arrayZip({v_m:Array(String)}, {v_v:Array(String)}), (metric, variant))]`;
    // FINAL for the iterations too: whether an image has a URL is not part of its identity.
    return readIterations<ImageRow>(deps, ctx, { table: 'images', shown, columns: 'key, url', tieBreak: ', url DESC', params, dir, iters, limit, final: true });
  },
  toEvent: imageEvent,
};

/** Plots: one event per (iteration, metric, variant) is their identity. */
export const PLOTS: MetricEventsKind<PlotRow, ReturnType<typeof plotEvent>> = {
  // Plots run to megabytes each: a page is bounded lower than images'.
  capacity: 1_000,
  read(deps, ctx, sel, dir, iters, limit) {
    const own = selectionFilter(sel);
    // Iterations are exact without FINAL: every version of a plot has its identity's iteration.
    return readIterations<PlotRow>(deps, ctx, { table: 'plots', shown: `1 ${own.sql}`, columns: 'plot_str', tieBreak: '', params: { task: sel.task, ...own.params }, dir, iters, limit, final: false });
  },
  toEvent: plotEvent,
};

export interface MetricEventsBody {
  metrics: TaskMetricEntry[];
  iters: number;
  navigate_earlier: boolean;
  refresh: boolean;
  scroll_id?: string | null;
}

/** Tasks read at once (the reference's default concurrency). */
const CONCURRENCY = 4;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** One page of the scroll: `{metrics: [{task, iterations: [{iter, events}]}], scroll_id}`. */
export async function metricEventsPage<R extends MetricColumns, E>(deps: RouteDeps, ctx: RequestContext, body: MetricEventsBody, kind: MetricEventsKind<R, E>, withVariants: boolean) {
  const selections = taskSelections(body.metrics, withVariants, readOwner(ctx, body));
  const scope: CursorScope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task: selections.map((s) => s.task), params: { metrics: selectionKey(selections) } };
  const decoded = await deps.cursors.decode<ScrollState>(body.scroll_id, scope);
  // refresh: back to each task's latest iterations.
  const positions = new Map((body.refresh ? [] : (decoded?.positions ?? [])).map((p) => [p[0], p]));
  const pages = await mapLimit(selections, CONCURRENCY, async (sel) => {
    const old = positions.get(sel.task);
    const rows = await kind.read(deps, ctx, sel, direction(old, body.navigate_earlier), body.iters, kind.capacity + 1);
    const iterations = groupIterations(rows, kind.capacity, (r) => kind.toEvent(sel.task, r));
    return { task: sel.task, iterations, position: nextPosition(sel.task, old, iterations) };
  });
  const next: ScrollState = { positions: pages.flatMap((p) => (p.position ? [p.position] : [])) };
  return {
    metrics: pages.map((p) => ({ task: answerId(p.task), iterations: p.iterations.map(({ iter, events }) => ({ iter, events })) })),
    scroll_id: await deps.cursors.encode(scope, next),
  };
}
