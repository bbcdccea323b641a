import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { child, dict } from '../events';
import { scalarHistograms, type HistogramKey, type Series } from '../histogram';
import { checkTask, props, requestSchema } from '../requests';

interface Body {
  task: string;
  samples: number;
  key: HistogramKey;
}

/** events.scalar_metrics_iter_histogram: `data` is the map itself, `{metric: {variant: {name, x, y, y_min, y_max}}}`. */
export function scalarMetricsIterHistogramEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.scalar_metrics_iter_histogram',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('scalar_metrics_iter_histogram', '2.1', { samples: props.samples, key: props.key }),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const metrics = dict<Record<string, Series>>();
          await scalarHistograms(deps, ctx, [task], body.samples, body.key, (_task, metric, variant, series) => {
            child(metrics, metric)[variant] = series;
          });
          return metrics;
        },
      },
    ],
  });
}
