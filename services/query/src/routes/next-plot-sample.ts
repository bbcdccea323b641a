import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { checkTask, requestSchema, readOwner } from '../requests';
import { nextPlotSample, type NextSampleRequest } from '../samples';

type Body = Omit<NextSampleRequest, 'next_iteration'> & { next_iteration?: boolean };

/**
 * events.next_plot_sample (new in 2.20): from the plots a get_plot_sample (or an earlier step)
 * showed, the previous (`navigate_earlier`, default true) or next metric's plots of the same
 * iteration, else of the nearest iteration; 2.22's `next_iteration` goes to the nearest
 * iteration at once. See samples.ts.
 */
export function nextPlotSampleEndpoint(deps: RouteDeps) {
  const version = (v: '2.20' | '2.22') => ({
    version: v,
    schema: requestSchema('next_plot_sample', v, {
      scroll_id: { type: 'string' },
      navigate_earlier: { type: 'boolean', default: true },
      ...(v === '2.20' ? {} : { next_iteration: { type: 'boolean', default: false } }),
    }),
    handle: (ctx: Parameters<typeof nextPlotSample>[1], body: Body) =>
      nextPlotSample(deps, ctx, { ...body, task: checkTask(body.task, readOwner(ctx, body)), next_iteration: v === '2.20' ? false : body.next_iteration === true }),
  });
  return objectEndpoint<Body>({ name: 'events.next_plot_sample', versions: [version('2.20'), version('2.22')] });
}
