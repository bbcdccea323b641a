import { chainChunks, objectEndpoint, streamedEnvelope, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { scalarHistogramMembers, streamEveryPoint, type ScalarKey } from '../histogram';
import { metricFilter, metricsSchema, type MetricVariants } from '../metric-filter';
import { checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  samples: number;
  key: ScalarKey;
  metrics?: MetricVariants[];
}

/**
 * events.scalar_metrics_iter_histogram: `data` is the map itself, `{metric: {variant: {name, x, y, y_min, y_max}}}`.
 * 2.1: samples 1..6000 (default 2000), key iter or timestamp. 2.14 on: samples 0..6000 (default
 * 6000; 0 = every point, streamed), key also iso_time (x as ISO time strings), `metrics` selects
 * metrics and variants.
 */
export function scalarMetricsIterHistogramEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body): Promise<unknown> {
    const task = checkTask(body.task, readOwner(ctx, body));
    const filter = metricFilter(body.metrics);
    const members =
      body.samples === 0
        ? await streamEveryPoint(deps, ctx, [task], body.key, 'variant', filter)
        : await scalarHistogramMembers(deps, ctx, [task], body.samples, body.key, 'variant', filter);
    return streamedEnvelope(ctx, chainChunks('{', members, () => '}'), { numeric: true });
  }
  const current = (version: string) => ({
    version,
    schema: requestSchema('scalar_metrics_iter_histogram', version, { samples: props.samplesCurrent, key: props.keyCurrent, metrics: metricsSchema }),
    handle: answer,
  });
  return objectEndpoint<Body>({
    name: 'events.scalar_metrics_iter_histogram',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('scalar_metrics_iter_histogram', '2.1', { samples: props.samples, key: props.key }),
        // A field the version does not define is ignored, never read unchecked.
        handle: (ctx: RequestContext, body: Body) => answer(ctx, { ...body, metrics: undefined }),
      },
      current('2.14'),
      current('2.22'),
    ],
  });
}
