import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { checkTask, props, requestSchema, readOwner } from '../requests';
import { getPlotSample, type GetPlotSampleRequest } from '../samples';

/**
 * events.get_plot_sample (new in 2.20): the plots of `metric` (every variant, by name) at
 * `iteration` or the latest iteration before it, with the metric's iteration range and a
 * `scroll_id` for next_plot_sample. See samples.ts.
 */
export function getPlotSampleEndpoint(deps: RouteDeps) {
  const version = (v: '2.20' | '2.22') => ({
    version: v,
    schema: requestSchema('get_plot_sample', v, {
      metric: props.name,
      iteration: props.iteration,
      refresh: { type: 'boolean', default: false },
      scroll_id: props.scrollId,
      navigate_current_metric: { type: 'boolean', default: true },
    }),
    handle: (ctx: Parameters<typeof getPlotSample>[1], body: GetPlotSampleRequest) => getPlotSample(deps, ctx, { ...body, task: checkTask(body.task, readOwner(ctx, body)) }),
  });
  return objectEndpoint<GetPlotSampleRequest>({ name: 'events.get_plot_sample', versions: [version('2.20'), version('2.22')] });
}
