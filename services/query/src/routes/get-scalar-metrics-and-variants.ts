import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { dict } from '../events';
import { checkTask, requestSchema, readOwner } from '../requests';

/**
 * events.get_scalar_metrics_and_variants: `{metrics: {metric: [variant, ...]}}`, sorted. The
 * single values' metrics are listed too, as the reference lists them. 2.22 adds only model_events.
 */
export function getScalarMetricsAndVariantsEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: { task: string }) {
    const task = checkTask(body.task, readOwner(ctx, body));
    // Exact without FINAL (every version of a row has the same identity), and answered by the
    // curve_stats projection without reading a point.
    const rows = await deps.db.rows<{ metric: string; variant: string }>(
      ctx,
      'SELECT metric, variant, count() FROM scalars WHERE tenant = {tenant:String} AND task = {task:String} GROUP BY metric, variant ORDER BY metric, variant',
      { task },
    );
    const metrics = dict<string[]>();
    for (const r of rows) (metrics[r.metric] ??= []).push(r.variant);
    return { metrics };
  }
  return objectEndpoint<{ task: string }>({
    name: 'events.get_scalar_metrics_and_variants',
    versions: [
      { version: '2.1', schema: requestSchema('get_scalar_metrics_and_variants', '2.1'), handle: answer },
      { version: '2.22', schema: requestSchema('get_scalar_metrics_and_variants', '2.22'), handle: answer },
    ],
  });
}
