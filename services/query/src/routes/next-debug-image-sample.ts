import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { checkTask, props, requestSchema, readOwner } from '../requests';
import { nextImageSample, type NextSampleRequest } from '../samples';

type Body = Omit<NextSampleRequest, 'next_iteration'> & { next_iteration?: boolean };

/**
 * events.next_debug_image_sample (new in 2.12): from the image a get_debug_image_sample (or an
 * earlier step) showed, the previous (`navigate_earlier`, default true) or next variant of the
 * same iteration, else of the nearest iteration; 2.22's `next_iteration` goes to the nearest
 * iteration at once. See samples.ts.
 */
export function nextDebugImageSampleEndpoint(deps: RouteDeps) {
  const version = (v: '2.12' | '2.22') => ({
    version: v,
    schema: requestSchema('next_debug_image_sample', v, {
      scroll_id: { type: 'string' },
      navigate_earlier: { type: 'boolean', default: true },
      ...(v === '2.12' ? {} : { next_iteration: { type: 'boolean', default: false } }),
    }),
    handle: (ctx: Parameters<typeof nextImageSample>[1], body: Body) =>
      nextImageSample(deps, ctx, { ...body, task: checkTask(body.task, readOwner(ctx, body)), next_iteration: v === '2.12' ? false : body.next_iteration === true }),
  });
  return objectEndpoint<Body>({ name: 'events.next_debug_image_sample', versions: [version('2.12'), version('2.22')] });
}
