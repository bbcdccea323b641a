import { chainChunks, objectEndpoint, streamedEnvelope, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { scalarHistogramMembers, streamEveryPoint, type ScalarKey } from '../histogram';
import { metricFilter, metricsSchema, type MetricVariants } from '../metric-filter';
import { checkTasks, props, requestSchema, readOwner } from '../requests';

interface Body {
  tasks: string[];
  samples: number;
  key: ScalarKey;
  metrics?: MetricVariants[];
}

/**
 * events.multi_task_scalar_metrics_iter_histogram: `{metrics: {metric: {variant: {task: {name, x, y, y_min, y_max}}}}}`;
 * `name` is the task id (the reference puts the task's name; there is no task registry here).
 * 2.1: samples 1..6000 (default 2000), key iter or timestamp. 2.22 on: samples 0..6000 (default
 * 6000; 0 = every point, streamed), key also iso_time. 2.28: `metrics` selects metrics and variants.
 */
export function multiTaskScalarMetricsIterHistogramEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body): Promise<unknown> {
    const tasks = checkTasks(body.tasks, readOwner(ctx, body));
    const filter = metricFilter(body.metrics);
    const members =
      body.samples === 0
        ? await streamEveryPoint(deps, ctx, tasks, body.key, 'task', filter)
        : await scalarHistogramMembers(deps, ctx, tasks, body.samples, body.key, 'task', filter);
    return streamedEnvelope(ctx, chainChunks('{"metrics":{', members, () => '}}'), { numeric: true });
  }
  // A field the version does not define is ignored, never read unchecked.
  const withoutMetrics = (ctx: RequestContext, body: Body) => answer(ctx, { ...body, metrics: undefined });
  const current = { tasks: props.tasks, samples: props.samplesCurrent, key: props.keyCurrent };
  return objectEndpoint<Body>({
    name: 'events.multi_task_scalar_metrics_iter_histogram',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('multi_task_scalar_metrics_iter_histogram', '2.1', { tasks: props.tasks, samples: props.samples, key: props.key }),
        handle: withoutMetrics,
      },
      { version: '2.22', schema: requestSchema('multi_task_scalar_metrics_iter_histogram', '2.22', current), handle: withoutMetrics },
      { version: '2.28', schema: requestSchema('multi_task_scalar_metrics_iter_histogram', '2.28', { ...current, metrics: metricsSchema }), handle: answer },
    ],
  });
}
