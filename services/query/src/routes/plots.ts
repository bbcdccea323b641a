import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { PLOTS, metricEventsPage, metricsSchema, type MetricEventsBody } from '../metric-iterations';
import { props, requestSchema } from '../requests';

/**
 * events.plots (new in 2.20): the plot events of the requested tasks' metrics and variants,
 * `iters` iterations a page per task, grouped by iteration: `{metrics: [{task, iterations:
 * [{iter, events}]}], scroll_id}`, the scroll of debug_images 2.14 (metric-iterations.ts).
 */
export function plotsEndpoint(deps: RouteDeps) {
  const version = (v: '2.20' | '2.22') => ({
    version: v,
    schema: requestSchema('plots', v, {
      metrics: metricsSchema(true),
      iters: props.iters,
      navigate_earlier: { type: 'boolean', default: true },
      refresh: { type: 'boolean', default: false },
      scroll_id: props.scrollId,
    }),
    handle: (ctx: RequestContext, body: MetricEventsBody) => metricEventsPage(deps, ctx, body, PLOTS, true),
  });
  return objectEndpoint<MetricEventsBody>({ name: 'events.plots', versions: [version('2.20'), version('2.22')] });
}
