import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { float } from '../events';
import { MAX_PAGE, checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  metric: string;
  variant: string;
}

/**
 * events.vector_metrics_iter_histogram: one vector variant's values per iteration, oldest first:
 * `{metric, variant, vectors: [[...]...], iterations: [...]}`. Bounded, like the reference, to
 * the first 10,000 iterations. 2.22 adds only model_events.
 */
export function vectorMetricsIterHistogramEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body) {
    const task = checkTask(body.task, readOwner(ctx, body));
    const rows = await deps.db.rows<{ iter: string; values: Array<number | string> }>(
      ctx,
      `SELECT iter, values FROM vectors FINAL
       WHERE tenant = {tenant:String} AND task = {task:String} AND metric = {metric:String} AND variant = {variant:String}
       ORDER BY iter LIMIT {limit:UInt32}`,
      { task, metric: body.metric, variant: body.variant, limit: MAX_PAGE },
    );
    return { metric: body.metric, variant: body.variant, vectors: rows.map((r) => r.values.map(float)), iterations: rows.map((r) => Number(r.iter)) };
  }
  const schema = (version: string) => requestSchema('vector_metrics_iter_histogram', version, { metric: props.name, variant: props.name });
  return objectEndpoint<Body>({
    name: 'events.vector_metrics_iter_histogram',
    versions: [
      { version: '2.1', schema: schema('2.1'), handle: answer },
      { version: '2.22', schema: schema('2.22'), handle: answer },
    ],
  });
}
