import { invalidScrollId, validation, type RequestContext } from '@trackstream/api';
import type { CursorScope } from './cursor';
import type { RouteDeps } from './deps';
import { METRIC_COLUMNS, byteOrder, imageEvent, plotEvent, type MetricColumns } from './events';

/**
 * The sample viewers: get_debug_image_sample / next_debug_image_sample (one image at a time) and
 * get_plot_sample / next_plot_sample (one metric's plots of one iteration at a time). The
 * reference keeps the viewer's state in Redis: the metric it was opened on, whether navigation
 * stays on that metric, the current position, and per variant (plots: per metric) the range of
 * iterations that can be shown, fixed when the viewer opened (or refreshed). Here that state is
 * the signed cursor, shared by the get and next endpoints of a pair and bound to the task.
 */

/** Most variants (plots: metrics) a viewer navigates: the reference's bucket bound, which keeps a cursor small. */
export const MAX_SAMPLE_STATES = 5_000;
/** Plots of one metric at one iteration that a step returns (the reference's bound). */
export const MAX_PLOTS_PER_STEP = 100;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A requested iteration as an Int64 parameter: beyond Int64's range, its end (every stored iteration is inside). */
export function clampIteration(n: number): bigint {
  // ajv counts ±Infinity (bare tokens are accepted) as integers.
  if (Number.isNaN(n)) throw validation('iteration must be an integer');
  if (!Number.isFinite(n)) return n > 0 ? INT64_MAX : INT64_MIN;
  const b = BigInt(Math.trunc(n));
  return b < INT64_MIN ? INT64_MIN : b > INT64_MAX ? INT64_MAX : b;
}

// ------------------------------------------------------------------------------ debug images

/** A variant's valid iterations: images below `min` point at files a later image overwrote. */
export type VariantState = [metric: string, variant: string, min: string, max: string];

export interface ImageSampleState {
  /** The metric the viewer was opened on, and whether navigation stays on it. */
  metric: string;
  current_metric_only: boolean;
  /** The image shown: its metric, variant and iteration (null before the first one was found). */
  at: [metric: string, variant: string, iter: string] | null;
  variants: VariantState[];
}

export const IMAGE_SAMPLE_SCOPE = 'events.debug_image_sample';

export interface ImageSampleAnswer {
  scroll_id: string;
  event: ReturnType<typeof imageEvent> | null;
  min_iteration: number | null;
  max_iteration: number | null;
}

type ImageRow = MetricColumns & { key: string; url: string };
const IMAGE_COLUMNS = `${METRIC_COLUMNS}, key, url`;

/**
 * Per variant, as the reference computes it: the highest iteration, and the lowest of each URL's
 * last iterations (from there on no image's file has been overwritten by a later one).
 */
async function variantStates(deps: RouteDeps, ctx: RequestContext, task: string, metric: string | null): Promise<VariantState[]> {
  const rows = await deps.db.rows<{ metric: string; variant: string; lo: string; hi: string }>(
    ctx,
    `SELECT metric, variant, min(last) AS lo, max(last) AS hi FROM (
       SELECT metric, variant, url, max(iter) AS last FROM images FINAL
       WHERE tenant = {tenant:String} AND task = {task:String} AND url != '' ${metric === null ? '' : 'AND metric = {metric:String}'}
       GROUP BY metric, variant, url)
     GROUP BY metric, variant ORDER BY metric, variant LIMIT {max:UInt32}`,
    { task, metric, max: MAX_SAMPLE_STATES },
  );
  return rows.map((r) => [r.metric, r.variant, String(r.lo), String(r.hi)]);
}

function findVariant(state: ImageSampleState, metric: string, variant: string): VariantState | undefined {
  return state.variants.find((v) => v[0] === metric && v[1] === variant);
}

async function imageAnswer(deps: RouteDeps, scope: CursorScope, task: string, state: ImageSampleState, row: ImageRow | undefined): Promise<ImageSampleAnswer> {
  const vs = row ? findVariant(state, row.metric, row.variant) : undefined;
  const next: ImageSampleState = row ? { ...state, at: [row.metric, row.variant, String(row.iter)] } : state;
  return {
    scroll_id: await deps.cursors.encode(scope, next),
    event: row ? imageEvent(task, row) : null,
    min_iteration: vs ? Number(vs[2]) : null,
    max_iteration: vs ? Number(vs[3]) : null,
  };
}

export interface GetImageSampleRequest {
  task: string;
  metric: string;
  variant: string;
  iteration?: number | null;
  refresh: boolean;
  scroll_id?: string | null;
  navigate_current_metric: boolean;
}

/** get_debug_image_sample: the variant's image at `iteration` or the latest before it (the latest when absent), within its valid range. */
export async function getImageSample(deps: RouteDeps, ctx: RequestContext, req: GetImageSampleRequest): Promise<ImageSampleAnswer> {
  const scope: CursorScope = { endpoint: IMAGE_SAMPLE_SCOPE, tenant: ctx.tenant, task: req.task };
  const old = await deps.cursors.decode<ImageSampleState>(req.scroll_id, scope);
  // A viewer's cursor serves the metric (or all metrics) it was opened on.
  if (old && (old.current_metric_only !== req.navigate_current_metric || (old.current_metric_only && old.metric !== req.metric))) throw invalidScrollId();
  const state: ImageSampleState = old
    ? { ...old, variants: req.refresh ? await variantStates(deps, ctx, req.task, old.current_metric_only ? old.metric : null) : old.variants }
    : { metric: req.metric, current_metric_only: req.navigate_current_metric, at: null, variants: await variantStates(deps, ctx, req.task, req.navigate_current_metric ? req.metric : null) };
  const vs = findVariant(state, req.metric, req.variant);
  if (!vs) return { scroll_id: await deps.cursors.encode(scope, state), event: null, min_iteration: null, max_iteration: null };
  const upTo = req.iteration === undefined || req.iteration === null ? '' : 'AND iter <= {upto:Int64}';
  const [row] = await deps.db.rows<ImageRow>(
    ctx,
    `SELECT ${IMAGE_COLUMNS} FROM images FINAL
     WHERE tenant = {tenant:String} AND task = {task:String} AND metric = {metric:String} AND variant = {variant:String} AND url != ''
       AND iter >= {min:Int64} ${upTo}
     ORDER BY iter DESC, url DESC LIMIT 1`,
    { task: req.task, metric: req.metric, variant: req.variant, min: vs[2], ...(upTo ? { upto: clampIteration(req.iteration as number) } : {}) },
  );
  const answer = await imageAnswer(deps, scope, req.task, state, row);
  // Without an image the answer still names the variant's range (as the reference's does).
  return row ? answer : { ...answer, min_iteration: Number(vs[2]), max_iteration: Number(vs[3]) };
}

export interface NextSampleRequest {
  task: string;
  scroll_id: string;
  navigate_earlier: boolean;
  next_iteration: boolean;
}


/**
 * One step of the image viewer as a statement and its parameters: the first image, in the step's
 * order, at the current iteration (`same`) or at the nearest earlier (later) one (`other`),
 * among `candidates` (their (metric, variant) pairs, each valid from its `min`). The distinct
 * metrics and variants, and the lowest `min`, are bound too, so ClickHouse narrows the read by
 * the sort key (tenant, task, metric, variant, iter) before the per-variant check.
 */
export function imageStepStatement(task: string, iteration: string, candidates: readonly VariantState[], where: 'same' | 'other', earlier: boolean): { query: string; params: Record<string, unknown> } {
  const order = earlier ? 'DESC' : 'ASC';
  const params = {
    task,
    iter: iteration,
    c_metrics: [...new Set(candidates.map((v) => v[0]))],
    c_variants: [...new Set(candidates.map((v) => v[1]))],
    c_m: candidates.map((v) => v[0]),
    c_v: candidates.map((v) => v[1]),
    c_min: candidates.map((v) => BigInt(v[2])),
    c_floor: candidates.reduce((lo, v) => (BigInt(v[2]) < lo ? BigInt(v[2]) : lo), INT64_MAX),
  };
  const candidate = `metric IN {c_metrics:Array(String)} AND variant IN {c_variants:Array(String)}
       AND (metric, variant) IN arrayZip({c_m:Array(String)}, {c_v:Array(String)})`;
  const query =
    where === 'same'
      ? `SELECT ${IMAGE_COLUMNS} FROM images FINAL
       WHERE tenant = {tenant:String} AND task = {task:String} AND iter = {iter:Int64} AND url != '' AND ${candidate}
       ORDER BY metric ${order}, variant ${order}, url DESC LIMIT 1`
      : `SELECT ${IMAGE_COLUMNS} FROM images FINAL
       WHERE tenant = {tenant:String} AND task = {task:String} AND iter ${earlier ? '<' : '>'} {iter:Int64} AND iter >= {c_floor:Int64} AND url != '' AND ${candidate}
         AND iter >= {c_min:Array(Int64)}[indexOf(arrayZip({c_m:Array(String)}, {c_v:Array(String)}), (metric, variant))]
       ORDER BY iter ${order}, metric ${order}, variant ${order}, url DESC LIMIT 1`;
  return { query, params };
}

/** The variants the step from `state` may land on, at the current iteration (`same`) or another one. */
export function stepCandidates(state: ImageSampleState, where: 'same' | 'other', earlier: boolean): VariantState[] {
  if (!state.at) return [];
  const [curMetric, curVariant, curIter] = state.at;
  const iter = BigInt(curIter);
  const variants = state.current_metric_only ? state.variants.filter((v) => v[0] === state.metric) : state.variants;
  if (where === 'other') return earlier ? variants.filter((v) => BigInt(v[2]) < iter) : variants;
  return variants.filter((v) => {
    const cmp = byteOrder(v[0], curMetric) || byteOrder(v[1], curVariant);
    return (earlier ? cmp < 0 : cmp > 0) && BigInt(v[2]) <= iter;
  });
}

/**
 * next_debug_image_sample: the previous (navigate_earlier) or next variant, by (metric, variant),
 * at the current iteration; when there is none (or `next_iteration`), the last (or first) variant
 * of the nearest earlier (or later) iteration. Only images within their variant's valid range count.
 */
export async function nextImageSample(deps: RouteDeps, ctx: RequestContext, req: NextSampleRequest): Promise<ImageSampleAnswer> {
  const scope: CursorScope = { endpoint: IMAGE_SAMPLE_SCOPE, tenant: ctx.tenant, task: req.task };
  const state = await deps.cursors.decode<ImageSampleState>(req.scroll_id, scope);
  if (!state) throw invalidScrollId();
  const at = state.at;
  if (!at) return imageAnswer(deps, scope, req.task, state, undefined);
  const step = async (where: 'same' | 'other'): Promise<ImageRow | undefined> => {
    const candidates = stepCandidates(state, where, req.navigate_earlier);
    if (candidates.length === 0) return undefined;
    const { query, params } = imageStepStatement(req.task, at[2], candidates, where, req.navigate_earlier);
    return (await deps.db.rows<ImageRow>(ctx, query, params))[0];
  };
  const row = req.next_iteration ? await step('other') : ((await step('same')) ?? (await step('other')));
  return imageAnswer(deps, scope, req.task, state, row);
}

// ------------------------------------------------------------------------------ plots

/** A metric's iterations with plots. */
export type MetricState = [metric: string, min: string, max: string];

export interface PlotSampleState {
  metric: string;
  current_metric_only: boolean;
  /** The plots shown: their metric and iteration (null before any were found). */
  at: [metric: string, iter: string] | null;
  metrics: MetricState[];
}

export const PLOT_SAMPLE_SCOPE = 'events.plot_sample';

export interface PlotSampleAnswer {
  scroll_id: string;
  events: Array<ReturnType<typeof plotEvent>>;
  min_iteration: number | null;
  max_iteration: number | null;
}

type PlotRow = MetricColumns & { plot_str: string };

async function metricStates(deps: RouteDeps, ctx: RequestContext, task: string, metric: string | null): Promise<MetricState[]> {
  // min and max of iter are exact without FINAL: every version of a plot has its identity's iteration.
  const rows = await deps.db.rows<{ metric: string; lo: string; hi: string }>(
    ctx,
    `SELECT metric, min(iter) AS lo, max(iter) AS hi FROM plots
     WHERE tenant = {tenant:String} AND task = {task:String} ${metric === null ? '' : 'AND metric = {metric:String}'}
     GROUP BY metric ORDER BY metric LIMIT {max:UInt32}`,
    { task, metric, max: MAX_SAMPLE_STATES },
  );
  return rows.map((r) => [r.metric, String(r.lo), String(r.hi)]);
}

/**
 * The plots (variants in order, at most MAX_PLOTS_PER_STEP) of the first (iteration, metric) that
 * `where` selects in the order `order` of both: one statement, the choice made inside.
 */
async function plotsAt(deps: RouteDeps, ctx: RequestContext, task: string, where: string, order: 'ASC' | 'DESC', params: Record<string, unknown>): Promise<PlotRow[]> {
  return deps.db.rows<PlotRow>(
    ctx,
    `SELECT ${METRIC_COLUMNS}, plot_str FROM plots FINAL
     WHERE tenant = {tenant:String} AND task = {task:String} AND (iter, metric) IN (
       SELECT iter, metric FROM plots WHERE tenant = {tenant:String} AND task = {task:String} AND ${where}
       ORDER BY iter ${order}, metric ${order} LIMIT 1)
     ORDER BY variant LIMIT {max:UInt32}`,
    { task, max: MAX_PLOTS_PER_STEP, ...params },
  );
}

async function plotAnswer(deps: RouteDeps, scope: CursorScope, task: string, state: PlotSampleState, rows: PlotRow[]): Promise<PlotSampleAnswer> {
  const first = rows[0];
  const ms = first ? state.metrics.find((m) => m[0] === first.metric) : undefined;
  const next: PlotSampleState = first ? { ...state, at: [first.metric, String(first.iter)] } : state;
  return {
    scroll_id: await deps.cursors.encode(scope, next),
    events: rows.map((r) => plotEvent(task, r)),
    min_iteration: ms ? Number(ms[1]) : null,
    max_iteration: ms ? Number(ms[2]) : null,
  };
}

export interface GetPlotSampleRequest {
  task: string;
  metric: string;
  iteration?: number | null;
  refresh: boolean;
  scroll_id?: string | null;
  navigate_current_metric: boolean;
}

/** get_plot_sample: the metric's plots at `iteration` or the latest iteration before it (the latest when absent). */
export async function getPlotSample(deps: RouteDeps, ctx: RequestContext, req: GetPlotSampleRequest): Promise<PlotSampleAnswer> {
  const scope: CursorScope = { endpoint: PLOT_SAMPLE_SCOPE, tenant: ctx.tenant, task: req.task };
  const old = await deps.cursors.decode<PlotSampleState>(req.scroll_id, scope);
  if (old && (old.current_metric_only !== req.navigate_current_metric || (old.current_metric_only && old.metric !== req.metric))) throw invalidScrollId();
  const state: PlotSampleState = old
    ? { ...old, metrics: req.refresh ? await metricStates(deps, ctx, req.task, old.current_metric_only ? old.metric : null) : old.metrics }
    : { metric: req.metric, current_metric_only: req.navigate_current_metric, at: null, metrics: await metricStates(deps, ctx, req.task, req.navigate_current_metric ? req.metric : null) };
  const ms = state.metrics.find((m) => m[0] === req.metric);
  if (!ms) return { scroll_id: await deps.cursors.encode(scope, state), events: [], min_iteration: null, max_iteration: null };
  const upTo = req.iteration === undefined || req.iteration === null ? '' : 'AND iter <= {upto:Int64}';
  const rows = await plotsAt(deps, ctx, req.task, `metric = {metric:String} ${upTo}`, 'DESC', {
    metric: req.metric,
    ...(upTo ? { upto: clampIteration(req.iteration as number) } : {}),
  });
  const answer = await plotAnswer(deps, scope, req.task, state, rows);
  return rows.length > 0 ? answer : { ...answer, min_iteration: Number(ms[1]), max_iteration: Number(ms[2]) };
}

/**
 * next_plot_sample: the plots of the previous (navigate_earlier) or next metric at the current
 * iteration, else of the last (first) metric of the nearest earlier (later) iteration; with
 * `next_iteration`, or when the viewer stays on its metric, the nearest earlier (later) iteration.
 */
export async function nextPlotSample(deps: RouteDeps, ctx: RequestContext, req: NextSampleRequest): Promise<PlotSampleAnswer> {
  const scope: CursorScope = { endpoint: PLOT_SAMPLE_SCOPE, tenant: ctx.tenant, task: req.task };
  const state = await deps.cursors.decode<PlotSampleState>(req.scroll_id, scope);
  if (!state) throw invalidScrollId();
  if (!state.at) return plotAnswer(deps, scope, req.task, state, []);
  const [curMetric, curIter] = state.at;
  const op = req.navigate_earlier ? '<' : '>';
  const onMetric = state.current_metric_only ? 'metric = {metric:String} AND ' : '';
  const where =
    req.next_iteration || state.current_metric_only ? `${onMetric}iter ${op} {iter:Int64}` : `((iter = {iter:Int64} AND metric ${op} {cur:String}) OR iter ${op} {iter:Int64})`;
  const rows = await plotsAt(deps, ctx, req.task, where, req.navigate_earlier ? 'DESC' : 'ASC', { metric: state.metric, cur: curMetric, iter: curIter });
  return plotAnswer(deps, scope, req.task, state, rows);
}
