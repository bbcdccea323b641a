import { eventsEndpoint, type EventLine, type RequestContext } from '@trackstream/api';
import { ingest, type IngestDeps } from '../ingest';

/** events.add: one event, the request body; counted and answered like add_batch. */
export function addEndpoint(deps: IngestDeps) {
  return eventsEndpoint({
    name: 'events.add',
    // 2.22 adds model_event (validateEvent reads it at every version, as the reference does) and allow_locked.
    versions: ['2.1', '2.22'].map((version) => ({ version, handle: (ctx: RequestContext, lines: readonly EventLine[]) => ingest(ctx, lines, deps) })),
  });
}
