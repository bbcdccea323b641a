import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { checkTask, props, requestSchema, readOwner } from '../requests';
import { getImageSample, type GetImageSampleRequest } from '../samples';

type Body = Omit<GetImageSampleRequest, 'navigate_current_metric'> & { navigate_current_metric?: boolean };

/**
 * events.get_debug_image_sample (new in 2.12): the image of (metric, variant) at `iteration`, or
 * the latest before it, with the variant's valid iteration range and a `scroll_id` for
 * next_debug_image_sample. 2.20 adds `navigate_current_metric` (default true; 2.12 always stays
 * on the metric). See samples.ts.
 */
export function getDebugImageSampleEndpoint(deps: RouteDeps) {
  const version = (v: '2.12' | '2.20' | '2.22') => ({
    version: v,
    schema: requestSchema('get_debug_image_sample', v, {
      metric: props.name,
      variant: props.name,
      iteration: props.iteration,
      refresh: { type: 'boolean', default: false },
      scroll_id: props.scrollId,
      ...(v === '2.12' ? {} : { navigate_current_metric: { type: 'boolean', default: true } }),
    }),
    handle: (ctx: Parameters<typeof getImageSample>[1], body: Body) =>
      getImageSample(deps, ctx, { ...body, task: checkTask(body.task, readOwner(ctx, body)), navigate_current_metric: v === '2.12' ? true : body.navigate_current_metric !== false }),
  });
  return objectEndpoint<Body>({ name: 'events.get_debug_image_sample', versions: [version('2.12'), version('2.20'), version('2.22')] });
}
