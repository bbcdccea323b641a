import { objectEndpoint, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { EVENT_TYPES, metricTables, taskMetricNames, type EventType } from '../metric-names';
import { answerId, checkTasks, props, requestSchema, readOwner } from '../requests';

interface Body {
  tasks: string[];
  event_type: EventType;
}

/**
 * events.get_task_metrics (new in 2.7): per task (in the request's order, duplicates once), the
 * metrics it reported events of `event_type` for: `{metrics: [{task, metrics: [name, ...]}]}`,
 * names sorted. `event_type` is required, as the reference's request model makes it.
 */
export function getTaskMetricsEndpoint(deps: RouteDeps) {
  const version = (v: '2.7' | '2.22') => ({
    version: v,
    schema: requestSchema('get_task_metrics', v, { tasks: props.tasks, event_type: { type: 'string', enum: [...EVENT_TYPES] } }, ['event_type']),
    async handle(ctx: RequestContext, body: Body) {
      const tasks = checkTasks(body.tasks, readOwner(ctx, body));
      const [table] = metricTables(body.event_type);
      const names = table ? await taskMetricNames(deps, ctx, tasks, table) : new Map<string, string[]>();
      return { metrics: tasks.map((task) => ({ task: answerId(task), metrics: names.get(task) ?? [] })) };
    },
  });
  return objectEndpoint<Body>({ name: 'events.get_task_metrics', versions: [version('2.7'), version('2.22')] });
}
