import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, scalarEvent, type MetricColumns } from '../events';
import { checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  metric: string;
  scroll_id?: string | null;
  batch_size: number;
  /** 2.16 on: no cursor is returned (scroll_id null), as the reference's one-time calls. */
  no_scroll?: boolean;
}

type State = [iter: string, variant: string];
type Row = MetricColumns & { value: number | string };

const WHERE = 'tenant = {tenant:String} AND task = {task:String} AND metric = {metric:String}';

/**
 * events.get_scalar_metric_data: one metric's scalar events, newest iteration first (then by
 * variant), pages of 500 (`batch_size` is ours). task and metric are required, as the reference
 * requires them. 2.16 on: `no_scroll` answers a page with `scroll_id: null`.
 */
export function getScalarMetricDataEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body) {
    const task = checkTask(body.task, readOwner(ctx, body));
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { metric: body.metric } };
    const after = await deps.cursors.decode<State | null>(body.scroll_id, scope);
    const resume = after ? 'AND (iter < {ai:Int64} OR (iter = {ai:Int64} AND variant > {av:String}))' : '';
    const params = { task, metric: body.metric, limit: body.batch_size, ...(after ? { ai: after[0], av: after[1] } : {}) };
    const [rows, counted] = await Promise.all([
      deps.db.rows<Row>(ctx, `SELECT ${METRIC_COLUMNS}, value FROM scalars FINAL WHERE ${WHERE} ${resume} ORDER BY iter DESC, variant LIMIT {limit:UInt32}`, params),
      deps.db.rows<{ n: string }>(ctx, `SELECT count() AS n FROM scalars FINAL WHERE ${WHERE}`, params),
    ]);
    const last = rows.at(-1);
    const next = last ? [String(last.iter), last.variant] : after;
    const events = rows.map((r) => scalarEvent(task, r));
    const scrollId = body.no_scroll === true ? null : await deps.cursors.encode(scope, next ?? null);
    return { events, returned: events.length, total: Number(counted[0]?.n ?? 0), scroll_id: scrollId };
  }
  const schema = (version: string) =>
    requestSchema('get_scalar_metric_data', version, { metric: props.name, scroll_id: props.scrollId, batch_size: props.batchSize }, ['task', 'metric']);
  return objectEndpoint<Body>({
    name: 'events.get_scalar_metric_data',
    versions: [
      // A field the version does not define is ignored, never read unchecked.
      { version: '2.1', schema: schema('2.1'), handle: (ctx: RequestContext, body: Body) => answer(ctx, { ...body, no_scroll: false }) },
      { version: '2.16', schema: schema('2.16'), handle: answer },
      { version: '2.22', schema: schema('2.22'), handle: answer },
    ],
  });
}
