import { invalidTaskId, objectEndpoint, type RequestContext } from '@trackstream/api';
import { isValidTaskId, MAX_TIMESTAMP_MS, ownerKey } from '@trackstream/event-schema';
import { deleteEvents, type DeleteForTaskDeps } from './delete-for-task';

interface Body {
  task: string;
  threshold_sec?: number;
  include_metrics?: string[];
  exclude_metrics?: string[];
}

const V219 = {
  type: 'object',
  required: ['task'],
  properties: {
    task: { type: 'string' },
    allow_locked: { type: 'boolean' },
    // Bound so that now - threshold stays a timestamp (a larger one keeps every line, as 0 deletes all).
    threshold_sec: { type: 'integer', minimum: 0, maximum: 1e13 },
  },
} as const;
const metricList = { type: 'array', maxItems: 1000, items: { type: 'string' } } as const;
const V230 = { ...V219, properties: { ...V219.properties, include_metrics: metricList, exclude_metrics: metricList } } as const;

/**
 * events.clear_task_log {task, threshold_sec?} -> {deleted} (2.19): deletes the task's log lines
 * older than `threshold_sec` seconds before the request (all of them without it, or with 0), as
 * the reference does. It travels through the task's partition as delete_for_task does, so lines
 * acknowledged before the call are deleted even if still in Kafka, and later ones kept.
 * 2.30 adds include_metrics/exclude_metrics, which select log events by their metric: ours have
 * none, so a non-empty include_metrics deletes nothing and exclude_metrics excludes nothing.
 */
export function clearTaskLogEndpoint(deps: DeleteForTaskDeps) {
  // 2.19 defines no metric lists: there they are extra fields, unchecked and ignored.
  const handler = (metricLists: boolean) => async (ctx: RequestContext, body: Body) => {
    if (!isValidTaskId(body.task)) throw invalidTaskId(body.task);
    if (metricLists && body.include_metrics !== undefined && body.include_metrics.length > 0) return { deleted: 0 };
    const thresholdMs = (body.threshold_sec ?? 0) * 1000;
    // Without a threshold: every line (no stored timestamp reaches MAX_TIMESTAMP_MS + 1).
    const before = thresholdMs > 0 ? Date.now() - thresholdMs : MAX_TIMESTAMP_MS + 1;
    return { deleted: await deleteEvents(deps, ctx, ownerKey('task', body.task), before) };
  };
  return objectEndpoint<Body>({
    name: 'events.clear_task_log',
    versions: [
      { version: '2.19', schema: V219, handle: handler(false) },
      { version: '2.30', schema: V230, handle: handler(true) },
    ],
  });
}
