import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { EVENT_TYPES, metricTables, multiTaskMetricVariants, type EventType } from '../metric-names';
import { checkTasks, props, requestSchema, readOwner } from '../requests';

interface Body {
  tasks: string[];
  event_type?: EventType;
}

/**
 * events.get_multi_task_metrics (new in 2.28): the metrics and variants any of the tasks
 * reported, of `event_type` or of every type: `{metrics: [{metric, variants: [...]}]}`, both sorted.
 */
export function getMultiTaskMetricsEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.get_multi_task_metrics',
    versions: [
      {
        version: '2.28',
        schema: requestSchema('get_multi_task_metrics', '2.28', { tasks: props.tasks, event_type: { type: 'string', enum: [...EVENT_TYPES] } }),
        async handle(ctx, body) {
          const tasks = checkTasks(body.tasks, readOwner(ctx, body));
          const pairs = await multiTaskMetricVariants(deps, ctx, tasks, metricTables(body.event_type));
          const metrics: Array<{ metric: string; variants: string[] }> = [];
          for (const { metric, variant } of pairs) {
            const last = metrics.at(-1);
            if (last && last.metric === metric) last.variants.push(variant);
            else metrics.push({ metric, variants: [variant] });
          }
          return { metrics };
        },
      },
    ],
  });
}
