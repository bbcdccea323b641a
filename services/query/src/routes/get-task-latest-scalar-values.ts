import { objectEndpoint } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { float } from '../events';
import { checkTask, requestSchema } from '../requests';

const WHERE = 'tenant = {tenant:String} AND task = {task:String}';

/**
 * events.get_task_latest_scalar_values: per metric and variant (sorted), `last_value` = the value
 * at the highest iteration and `last_100_value` = the mean of the values at the 100 highest
 * iterations (every value counts: negative, zero, NaN, which makes the mean NaN). `last_iter`
 * and `last_timestamp` are the highest iteration and event timestamp (epoch ms) among the task's
 * scalars; 0 when it has none.
 */
export function getTaskLatestScalarValuesEndpoint(deps: RouteDeps) {
  return objectEndpoint<{ task: string }>({
    name: 'events.get_task_latest_scalar_values',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_latest_scalar_values', '2.1'),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const [rows, [last]] = await Promise.all([
            // After FINAL an iteration appears once per variant, so argMax by iter is the last value.
            deps.db.rows<{ metric: string; variant: string; last_value: number | string; last_100_value: number | string }>(
              ctx,
              `SELECT metric, variant, argMax(value, iter) AS last_value, avg(value) AS last_100_value
               FROM (SELECT metric, variant, iter, value FROM scalars FINAL WHERE ${WHERE}
                     ORDER BY metric, variant, iter DESC LIMIT 100 BY metric, variant)
               GROUP BY metric, variant ORDER BY metric, variant`,
              { task },
            ),
            deps.db.rows<{ n: string; last_iter: string; last_timestamp: string }>(
              ctx,
              `SELECT count() AS n, max(iter) AS last_iter, max(toUnixTimestamp64Milli(timestamp)) AS last_timestamp FROM scalars FINAL WHERE ${WHERE}`,
              { task },
            ),
          ]);
          const metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number; last_100_value: number }> }> = [];
          for (const r of rows) {
            const variant = { name: r.variant, last_value: float(r.last_value), last_100_value: float(r.last_100_value) };
            const prev = metrics.at(-1);
            if (prev?.name === r.metric) prev.variants.push(variant);
            else metrics.push({ name: r.metric, variants: [variant] });
          }
          const any = last !== undefined && Number(last.n) > 0;
          return { metrics, last_iter: any ? Number(last.last_iter) : 0, last_timestamp: any ? Number(last.last_timestamp) : 0 };
        },
      },
    ],
  });
}
