import { eventsEndpoint } from '@trackstream/api';
import { ingest, type IngestDeps } from '../ingest';

/**
 * events.add_batch: json-lines, one event per line (the SDK's GET with a body), or one JSON
 * object = one event. Bad events are counted in `errors_info`, the good ones stored.
 */
export function addBatchEndpoint(deps: IngestDeps) {
  return eventsEndpoint({
    name: 'events.add_batch',
    versions: [{ version: '2.1', handle: (ctx, lines) => ingest(ctx, lines, deps) }],
  });
}
