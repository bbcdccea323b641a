import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { child, dict } from '../events';
import { scalarHistograms, type HistogramKey, type Series } from '../histogram';
import { checkTasks, props, requestSchema } from '../requests';

interface Body {
  tasks: string[];
  samples: number;
  key: HistogramKey;
}

/**
 * events.multi_task_scalar_metrics_iter_histogram: `{metrics: {metric: {variant: {task: {name, x, y, y_min, y_max}}}}}`;
 * `name` is the task id (the reference puts the task's name; there is no task registry here).
 */
export function multiTaskScalarMetricsIterHistogramEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.multi_task_scalar_metrics_iter_histogram',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('multi_task_scalar_metrics_iter_histogram', '2.1', { tasks: props.tasks, samples: props.samples, key: props.key }),
        async handle(ctx, body) {
          const tasks = checkTasks(body.tasks);
          const metrics = dict<Record<string, Record<string, Series>>>();
          await scalarHistograms(deps, ctx, tasks, body.samples, body.key, (task, metric, variant, series) => {
            series.name = task;
            child(child(metrics, metric), variant)[task] = series;
          });
          return { metrics };
        },
      },
    ],
  });
}
