import { randomUUID } from 'node:crypto';
import { invalidTaskId, objectEndpoint, unavailable, type RequestContext } from '@trackstream/api';
import type { ClickHouseClient } from '@trackstream/clickhouse';
import { encodeDeleteTask, isValidTaskId, messageKey, ownerKey } from '@trackstream/event-schema';
import { ProduceUnavailableError } from '@trackstream/kafka';
import { retry } from '@trackstream/runtime';
import type { Publisher } from '../publisher';

export interface DeleteForTaskDeps {
  publisher: Publisher;
  clickhouse: ClickHouseClient;
  database: string;
  timeoutMs: number;
  retryAfterSec: number;
}

/**
 * events.delete_for_task {task} -> {deleted}. A delete marker goes into the task's partition,
 * behind every event acknowledged before it; the writer meets it there, deletes the task's rows
 * of every kind for the caller's tenant, and records the count, which this call waits for.
 * Events acknowledged earlier can't reappear; events sent after the answer are kept.
 * `allow_locked` is accepted: publishing (locking) is the ClearML server's, which we don't see.
 */
export function deleteForTaskEndpoint(deps: DeleteForTaskDeps) {
  return objectEndpoint<{ task: string }>({
    name: 'events.delete_for_task',
    versions: [
      {
        version: '2.1',
        schema: { type: 'object', required: ['task'], properties: { task: { type: 'string' }, allow_locked: { type: 'boolean' } } },
        async handle(ctx, body) {
          if (!isValidTaskId(body.task)) throw invalidTaskId(body.task);
          return { deleted: await deleteEvents(deps, ctx, ownerKey('task', body.task)) };
        },
      },
    ],
  });
}

/**
 * Deletes every event stored under `key` (a task's or a model's, see ownerKey), or with
 * `logsBefore` only its log lines older than that (epoch ms): see deleteForTaskEndpoint.
 */
export async function deleteEvents(deps: DeleteForTaskDeps, ctx: RequestContext, key: string, logsBefore?: number): Promise<number> {
  const requestId = randomUUID();
  const marker = { tenant: ctx.tenant, task: key, receivedAt: Date.now(), requestId, ...(logsBefore === undefined ? {} : { logsBefore }) };
  try {
    await deps.publisher.send([{ key: messageKey(ctx.tenant, key), value: encodeDeleteTask(marker) }]);
  } catch (e) {
    if (e instanceof ProduceUnavailableError) throw unavailable('the event log (Kafka) is unavailable; nothing was deleted', deps.retryAfterSec, e);
    throw e;
  }
  const deleted = await waitForDeletion(deps, ctx.tenant, key, requestId, ctx.signal);
  if (deleted === undefined) {
    throw unavailable('the deletion is queued but the writer has not carried it out yet; retry later', deps.retryAfterSec);
  }
  return deleted;
}

class NotDeletedYet extends Error {}

/** The count the writer recorded for `requestId`; undefined if it is not there by the timeout (or the request ended). */
async function waitForDeletion(deps: DeleteForTaskDeps, tenant: string, task: string, requestId: string, signal: AbortSignal): Promise<number | undefined> {
  const recordedCount = async (): Promise<number> => {
    const rs = await deps.clickhouse.query({
      // A replayed marker adds a later row; the first one holds the count.
      query: `SELECT deleted FROM ${deps.database}.task_deletions
              WHERE tenant = {tenant:String} AND task = {task:String} AND request_id = {id:String}
              ORDER BY deleted_at LIMIT 1`,
      query_params: { tenant, task, id: requestId },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ deleted: string | number }>();
    if (!row) throw new NotDeletedYet();
    return Number(row.deleted);
  };
  try {
    // Not recorded yet, or ClickHouse briefly unreachable: polled again, until the timeout.
    return await retry(recordedCount, { initialDelayMs: 20, maxDelayMs: 250, timeoutMs: deps.timeoutMs, signal });
  } catch {
    return undefined;
  }
}
