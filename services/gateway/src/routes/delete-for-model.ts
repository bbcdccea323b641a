import { invalidTaskId, objectEndpoint } from '@trackstream/api';
import { isValidTaskId, ownerKey } from '@trackstream/event-schema';
import { deleteEvents, type DeleteForTaskDeps } from './delete-for-task';

/**
 * events.delete_for_model {model} -> {deleted} (API 2.22): deletes a model's events (those sent
 * with `model_event: true`), never a task's of the same id, ordered with the events in flight
 * as delete_for_task is. `allow_locked` is accepted (publishing is the ClearML server's).
 */
export function deleteForModelEndpoint(deps: DeleteForTaskDeps) {
  return objectEndpoint<{ model: string }>({
    name: 'events.delete_for_model',
    versions: [
      {
        version: '2.22',
        schema: { type: 'object', required: ['model'], properties: { model: { type: 'string' }, allow_locked: { type: 'boolean' } } },
        async handle(ctx, body) {
          if (!isValidTaskId(body.model)) throw invalidTaskId(body.model);
          return { deleted: await deleteEvents(deps, ctx, ownerKey('model', body.model)) };
        },
      },
    ],
  });
}
