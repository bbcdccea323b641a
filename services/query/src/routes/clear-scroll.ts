import { objectEndpoint } from '@trackstream/api';
import { requestSchema } from '../requests';

/**
 * events.clear_scroll: releases a scroll on the reference server. Our cursors are stateless
 * (nothing is kept between pages), so there is nothing to release: any string is accepted, as
 * the reference accepts an unknown or expired scroll id, and the answer is `{}`.
 */
export function clearScrollEndpoint() {
  return objectEndpoint<{ scroll_id: string }>({
    name: 'events.clear_scroll',
    versions: [{ version: '2.18', schema: requestSchema('clear_scroll', '2.18'), handle: async () => ({}) }],
  });
}
