import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { METRIC_COLUMNS, scalarEvent, type MetricColumns } from '../events';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  metric: string;
  scroll_id?: string | null;
  batch_size: number;
}

type State = [iter: string, variant: string];
type Row = MetricColumns & { value: number | string };

const WHERE = 'tenant = {tenant:String} AND task = {task:String} AND metric = {metric:String}';

/**
 * events.get_scalar_metric_data: one metric's scalar events, newest iteration first (then by
 * variant), pages of 500 (`batch_size` is ours). task and metric are required, as the reference
 * requires them.
 */
export function getScalarMetricDataEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.get_scalar_metric_data',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_scalar_metric_data', '2.1', { metric: props.name, scroll_id: props.scrollId, batch_size: props.batchSize }, ['task', 'metric']),
        async handle(ctx, body) {
          const task = checkTask(body.task);
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
          return { events, returned: events.length, total: Number(counted[0]?.n ?? 0), scroll_id: await deps.cursors.encode(scope, next ?? null) };
        },
      },
    ],
  });
}
