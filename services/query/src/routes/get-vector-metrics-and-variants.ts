import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { checkTask, requestSchema, readOwner } from '../requests';

/** events.get_vector_metrics_and_variants: `{metrics: [{metric, variants: [...]}]}`, both sorted. 2.22 adds only model_events. */
export function getVectorMetricsAndVariantsEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: { task: string }) {
    const task = checkTask(body.task, readOwner(ctx, body));
    // DISTINCT over identity columns is exact without FINAL: every version of a row has the same ones.
    const rows = await deps.db.rows<{ metric: string; variant: string }>(
      ctx,
      'SELECT DISTINCT metric, variant FROM vectors WHERE tenant = {tenant:String} AND task = {task:String} ORDER BY metric, variant',
      { task },
    );
    const metrics: Array<{ metric: string; variants: string[] }> = [];
    for (const r of rows) {
      const last = metrics.at(-1);
      if (last?.metric === r.metric) last.variants.push(r.variant);
      else metrics.push({ metric: r.metric, variants: [r.variant] });
    }
    return { metrics };
  }
  return objectEndpoint<{ task: string }>({
    name: 'events.get_vector_metrics_and_variants',
    versions: [
      { version: '2.1', schema: requestSchema('get_vector_metrics_and_variants', '2.1'), handle: answer },
      { version: '2.22', schema: requestSchema('get_vector_metrics_and_variants', '2.22'), handle: answer },
    ],
  });
}
