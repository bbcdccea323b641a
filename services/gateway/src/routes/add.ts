import { eventsEndpoint } from '@trackstream/api';
import { ingest, type IngestDeps } from '../ingest';

/** events.add: one event, the request body; counted and answered like add_batch. */
export function addEndpoint(deps: IngestDeps) {
  return eventsEndpoint({
    name: 'events.add',
    versions: [{ version: '2.1', handle: (ctx, lines) => ingest(ctx, lines, deps) }],
  });
}
