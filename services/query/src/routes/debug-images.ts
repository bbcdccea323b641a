import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, imageEvent, type MetricColumns } from '../events';
import { IMAGES, metricEventsPage, metricsSchema, type MetricEventsBody } from '../metric-iterations';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  iters: number;
  scroll_id?: string | null;
  batch_size: number;
}

/**
 * The iterations the scroll covers, fixed by its first page (so iterations reported later don't
 * shift the window between pages: no duplicates, no gaps), and the last image returned.
 */
interface State {
  /** [lowest, highest] iteration of the task's last `iters` iterations; null: the task had no images. */
  range: [lo: string, hi: string] | null;
  after?: [iter: string, metric: string, variant: string, key: string];
}

type Row = MetricColumns & { key: string; url: string };

/** 2.7 and later: the metric-events scroll of metric-iterations.ts (2.7 selects metrics, 2.14 also variants). */
function metricsVersion(deps: RouteDeps, version: '2.7' | '2.14' | '2.22') {
  const withVariants = version !== '2.7';
  return {
    version,
    schema: requestSchema('debug_images', version, {
      metrics: metricsSchema(withVariants),
      iters: props.iters,
      navigate_earlier: { type: 'boolean', default: true },
      refresh: { type: 'boolean', default: false },
      scroll_id: props.scrollId,
    }),
    handle: (ctx: RequestContext, body: MetricEventsBody) => metricEventsPage(deps, ctx, body, IMAGES, withVariants),
  };
}

/**
 * events.debug_images 2.1: the image events of the task's last `iters` distinct iterations, newest
 * iteration first, then by metric, variant and key (one per identity, last write wins).
 * `batch_size` (default 500) is ours: the seed has no page size.
 */
export function debugImagesEndpoint(deps: RouteDeps) {
  // One body type for every version: each handler reads only the fields its schema defines.
  return objectEndpoint<Body & MetricEventsBody>({
    name: 'events.debug_images',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('debug_images', '2.1', { iters: props.iters, scroll_id: props.scrollId, batch_size: props.batchSize }),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { iters: body.iters } };
          const state = (await deps.cursors.decode<State>(body.scroll_id, scope)) ?? { range: await lastIterations(deps, ctx, task, body.iters) };
          const [rows, total] = state.range ? await Promise.all([readPage(deps, ctx, task, state.range, state.after, body.batch_size), count(deps, ctx, task, state.range)]) : [[], 0];
          const last = rows.at(-1);
          const next: State = last ? { range: state.range, after: [String(last.iter), last.metric, last.variant, last.key] } : state;
          const images = rows.map((r) => imageEvent(task, r));
          return { task, images, returned: images.length, total, scroll_id: await deps.cursors.encode(scope, next) };
        },
      },
      metricsVersion(deps, '2.7'),
      metricsVersion(deps, '2.14'),
      metricsVersion(deps, '2.22'),
    ],
  });
}

async function lastIterations(deps: RouteDeps, ctx: RequestContext, task: string, iters: number): Promise<State['range']> {
  const [row] = await deps.db.rows<{ n: string; lo: string; hi: string }>(
    ctx,
    `SELECT count() AS n, min(iter) AS lo, max(iter) AS hi FROM (
       SELECT DISTINCT iter FROM images WHERE tenant = {tenant:String} AND task = {task:String}
       ORDER BY iter DESC LIMIT {iters:UInt32})`,
    { task, iters },
  );
  // DISTINCT iter is exact without FINAL: every version of an image row has the same iter.
  return row && Number(row.n) > 0 ? [row.lo, row.hi] : null;
}

const IN_RANGE = 'tenant = {tenant:String} AND task = {task:String} AND iter BETWEEN {lo:Int64} AND {hi:Int64}';

function readPage(deps: RouteDeps, ctx: RequestContext, task: string, [lo, hi]: [string, string], after: State['after'], limit: number): Promise<Row[]> {
  // Newest iteration first, then metric, variant, key ascending: resume strictly after `after`.
  const resume = after ? 'AND (iter < {ai:Int64} OR (iter = {ai:Int64} AND (metric, variant, key) > ({am:String}, {av:String}, {ak:String})))' : '';
  return deps.db.rows<Row>(
    ctx,
    `SELECT ${METRIC_COLUMNS}, key, url FROM images FINAL WHERE ${IN_RANGE} ${resume}
     ORDER BY iter DESC, metric, variant, key LIMIT {limit:UInt32}`,
    { task, lo, hi, limit, ...(after ? { ai: after[0], am: after[1], av: after[2], ak: after[3] } : {}) },
  );
}

async function count(deps: RouteDeps, ctx: RequestContext, task: string, [lo, hi]: [string, string]): Promise<number> {
  const [row] = await deps.db.rows<{ n: string }>(ctx, `SELECT count() AS n FROM images FINAL WHERE ${IN_RANGE}`, { task, lo, hi });
  return Number(row?.n ?? 0);
}
