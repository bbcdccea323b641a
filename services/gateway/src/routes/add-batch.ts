import { eventsEndpoint, type EventLine, type RequestContext } from '@trackstream/api';
import { ingest, type IngestDeps } from '../ingest';

/**
 * events.add_batch: json-lines, one event per line (the SDK's GET with a body), or one JSON
 * object = one event. Bad events are counted in `errors_info`, the good ones stored.
 */
export function addBatchEndpoint(deps: IngestDeps) {
  return eventsEndpoint({
    name: 'events.add_batch',
    // 2.22 adds model_event (validateEvent reads it at every version, as the reference does) and allow_locked.
    versions: ['2.1', '2.22'].map((version) => ({ version, handle: (ctx: RequestContext, lines: readonly EventLine[]) => ingest(ctx, lines, deps) })),
  });
}
